"""Text typed at a visit proposal that adds to that visit rather than being a visit of its
own: "不对，她已经想试用了，下一步是约科会", "补充一下，他嫌贵", "forgot to say: she's worried
about side effects". A rep who writes it right under the proposal means the visit shown.

It starts with a word that adds (不对, 其实, 补充, 对了, actually, forgot …), a pronoun for the
customer (他, 她, she), or the customer's own name, and names nobody else and no other
hospital: "另外肾内科刘主任嫌贵" and "下午又见了仁济的张科" are notes of their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from coach.capture.lexicon import Lexicon
from coach.capture.reader import read_note
from coach.names import hospitals_match, written_alike

__all__ = ["Addition", "read_addition", "without_lead"]


@dataclass(frozen=True)
class Addition:
    """What the text adds to the visit's next step (None: it leaves it as proposed)."""

    due: date | None = None
    action: str | None = None


def _leading(lexicon: Lexicon, text: str) -> str | None:
    """The word that starts an addition `text` starts with (a Latin one as a whole word)."""
    low = text.strip().lower()
    for word in lexicon.addition_starts:
        if low.startswith(word) and (not word.isascii() or not re.match(
                r"[a-z']", low[len(word):len(word) + 1])):
            return word
    return None


def _starts_with(lexicon: Lexicon, text: str) -> bool:
    return _leading(lexicon, text) is not None


def read_addition(lexicon: Lexicon, text: str, today: date, customer: str,
                  hospital: str | None = None, known_hospitals: Sequence[str] = (),
                  known_names: Sequence[str] = (), *, by_name: bool = True
                  ) -> Addition | None:
    """What `text` adds to the visit with `customer` (at `hospital`), or None when it is
    not about that visit. `by_name=False`: naming the customer is not enough, it must start
    as an addition ("对了…", "她…"); a note after a visit was saved that names the customer
    anew ("仁济药剂科张科，让我周五前交资料") is a visit of its own."""
    # read without the words that start it: "补一句：贺主任说科里下个月…" is no step
    # "补一句:说科里"
    facts = read_note(lexicon, _after_starts(lexicon, text) or text, today, known_hospitals,
                      known_names)
    named = facts.mention or facts.attempted
    if named is not None and not written_alike(named.name, customer):
        return None
    if facts.others or (facts.hospital and not (
            hospital and hospitals_match(facts.hospital, hospital))):
        return None
    if (named is None or not by_name) and not _starts_with(lexicon, text):
        return None
    if not _says_something(lexicon, text):
        return None  # "不对", "actually": what is wrong is not said; asked, not added
    if (facts.due or facts.action) and not _own_step(
            lexicon, _after_lead_words(lexicon, text), facts.action, facts.due_phrase,
            customer):
        return Addition()  # "她说下个月要去北京开会": her plan, told; the step stays
    return Addition(facts.due, facts.action)


def _after_lead_words(lexicon: Lexicon, text: str) -> str:
    """The text less the words that start an addition, but a pronoun ("补充一下 她下周三
    出差": 她 is whose plan it is)."""
    rest = text.strip()
    while (word := _leading(lexicon, rest)) is not None and word not in lexicon.others_doing:
        rest = rest[len(word):].strip(" ，,：:.。!！-—")
    return rest or text


_CLAUSE_END = re.compile(r"[，,。.；;！!？?\n]")


def _own_step(lexicon: Lexicon, text: str, action: str | None, due_phrase: str | None,
              customer: str) -> bool:
    """Whether the step read from an addition is the rep's own: the clause holding it has
    a word making it so ("让我", "约了", "I'll"), or nobody else is its doer ("周五前把指南
    发给她", "bring them Thu"); not the customer's plans ("她说下个月要去北京开会", "他下周
    出差", "she's flying to Beijing next month"), which are information for the note."""
    low = text.lower()
    starts = [at for piece in (action, due_phrase) if piece
              and (at := low.find(piece.lower())) >= 0]
    at = min(starts) if starts else len(low)
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(low, 0, at)), default=0)
    clause_end = _CLAUSE_END.search(low, at)
    clause = low[clause_start:clause_end.start() if clause_end else len(low)]
    if any(_has_word(clause, word) for word in lexicon.own_step):
        return True
    before = low[clause_start:at]
    doers = [*lexicon.others_doing, customer.lower()]
    return not any(word and _has_word(before, word) for word in doers)


def _has_word(text: str, word: str) -> bool:
    """Whether `word` is in `text` (a Latin one as a whole word)."""
    if not word.isascii():
        return word in text
    return re.search(r"(?<![a-z'])" + re.escape(word) + r"(?![a-z])", text) is not None


MIN_CHINESE = 2  # "他嫌贵": 嫌贵
MIN_WORDS = 2  # "she wants samples": wants samples


def _after_starts(lexicon: Lexicon, text: str) -> str:
    """The text less the words that start an addition ("补一句：", "不对，", "forgot to say:"),
    as written (not lowered)."""
    rest = text.strip()
    while (word := _leading(lexicon, rest)) is not None:
        rest = rest[len(word):].strip(" ，,：:.。!！-—")
    return rest


def _says_something(lexicon: Lexicon, text: str) -> bool:
    """Whether the text says more than the words that start an addition."""
    rest = _after_starts(lexicon, text).lower()
    chinese = sum(1 for ch in rest if "\u4e00" <= ch <= "\u9fff")
    return chinese >= MIN_CHINESE or len(re.findall(r"[a-z]+", rest)) >= MIN_WORDS


_SEPARATED = re.compile(r"^[\s：:，,.。!！\-—]+")


def without_lead(lexicon: Lexicon, text: str) -> str:
    """A note less the words that only lead into it ("补一句：", "对了，", "forgot to say:"),
    when set off by a colon, comma or space: they name no step, so "补一句：贺主任说…" never
    gives the follow-up "补一句:说科里", whether or not it adds to a saved visit."""
    rest = text.strip()
    while (word := _leading(lexicon, rest)) is not None and _SEPARATED.match(
            rest[len(word):]):
        rest = _SEPARATED.sub("", rest[len(word):])
    return rest or text
