"""A correction typed at the visit proposal instead of a tap: "不对，是下周二", "改到12月15号",
"是王主任", "不是李主任，是王主任", "不用提醒", "no, it's Dr Wang", "不对，是复旦肿瘤医院乳腺外科".

Only a short text made of correction words and one date or one name is a correction; a text
that says more ("王主任明天再去") is a note of its own, and the caller keeps it as one.
Without a correction word, only a bare date or a bare name counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from coach.capture.lexicon import Lexicon
from coach.capture.matching import Mention
from coach.capture.reader import read_note
from coach.capture.spans import is_cjk
from coach.dates import parse_due_date

__all__ = ["Correction", "read_correction"]

_CLAUSES = re.compile(r"[，,。；;！!？?\n]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_EDGES = " \t，,。.；;：:！!？?、~～-—"
MAX_LEFT_WITH_WORDS = 4  # characters of anything else a correction may hold
MAX_LEFT_BARE = 1
# a person who said something, and what: "说她的门诊…", "said her clinic…" (not "是他说的")
_TELLS = re.compile(r"(?:说|讲|提到|反映|告诉|表示|通知)\s*[\u4e00-\u9fff][^\u4e00-\u9fff]*"
                    r"[\u4e00-\u9fff]|(?<![a-z])(?:said|says|told|mentioned)\s+\w", re.IGNORECASE)


@dataclass(frozen=True)
class Correction:
    due: date | None = None
    no_date: bool = False
    mention: Mention | None = None
    hospital: str | None = None
    department: str | None = None


def _without_denials(lexicon: Lexicon, text: str) -> str:
    """"不是李主任，是王主任" → "是王主任": what it is not is no part of the answer."""
    kept = []
    for clause in map(lambda c: _after_lead_words(lexicon, c), _CLAUSES.split(text)):
        low = clause.strip().lower()
        denial = next((w for w in lexicon.correction_not_this if low.startswith(w)), None)
        if denial is None:
            # "是张科不是陈主任", "it's Prof Lin not Dr Lin": what comes after the denial is
            # what it is not
            at = min((found for w in lexicon.correction_not_this
                      if (found := _word_at(low, w)) > 0), default=-1)
            kept.append(clause.strip()[:at] if at > 0 else clause)
            continue
        rest = clause.strip()[len(denial):]
        at = rest.find("是")  # "不是李主任是王主任": the second half is the answer
        if at > 0:
            kept.append(rest[at:])
    return "，".join(kept)


def _after_lead_words(lexicon: Lexicon, clause: str) -> str:
    """"sorry 不是吴主任 是伍主任", "不对 不是李主任": the denial once the words leading to it
    are off, so it reads as without them (not as "是张科不是陈主任", where what comes
    before the denial is the answer)."""
    clause = clause.strip()
    while True:
        low = clause.lower()
        lead = next((w for w in lexicon.correction_words
                     if w != "是" and low.startswith(w) and _word_at(low, w) == 0
                     and low[len(w):len(w) + 1] in ("", " ", "，", ",")), None)
        if lead is None or not any(_word_at(low, w) > 0 for w in lexicon.correction_not_this):
            return clause
        clause = clause[len(lead):].strip(_EDGES)


def _word_at(low: str, word: str) -> int:
    """Where `word` starts in `low` (a Latin one as a whole word), or -1."""
    if not word.isascii():
        return low.strip().find(word)
    match = re.search(r"(?<![a-z])" + re.escape(word) + r"(?![a-z])", low.strip())
    return match.start() if match else -1


def _strip_words(lexicon: Lexicon, text: str) -> tuple[str, bool]:
    """The text less its correction words, and whether it had any."""
    found = False
    for word in lexicon.correction_words:
        if word.isascii():
            pattern = re.compile(r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])",
                                 re.IGNORECASE)
        else:
            pattern = re.compile(re.escape(word))
        text, count = pattern.subn(" ", text)
        found = found or count > 0
    return text, found


def _left_over(text: str, found: Sequence[str]) -> int:
    """Characters (Chinese) and words (Latin) left once the date and name are read."""
    for piece in found:
        if piece:
            text = text.replace(piece, " ")
    chinese = sum(1 for ch in text if is_cjk(ch))
    return chinese + len(_LATIN_WORD.findall(text))


def read_correction(lexicon: Lexicon, text: str, today: date,
                    known_hospitals: Sequence[str] = (), known_names: Sequence[str] = ()
                    ) -> Correction | None:
    """The correction `text` makes to a proposal, or None when it is something else."""
    low = text.lower()
    said = next((word for word in lexicon.correction_no_date if word in low), None)
    if said is not None:
        rest, _ = _strip_words(lexicon, low.replace(said, " "))
        rest = re.sub(r"(?<![a-z])(?:please|pls|thanks|谢谢|了)(?![a-z])", " ", rest)
        if _left_over(rest, []) <= MAX_LEFT_WITH_WORDS:  # not "李主任说不用提醒他了，下周…"
            return Correction(no_date=True)
    answer, had_words = _strip_words(lexicon, _without_denials(lexicon, text))
    answer = answer.strip(_EDGES)
    if not answer:
        return None
    facts = read_note(lexicon, answer, today, known_hospitals, known_names)
    whole_date = parse_due_date(answer, today)
    due = whole_date or facts.due
    mention = facts.mention or facts.attempted
    if due is None and mention is None and (facts.hospital or facts.department) \
            and _left_over(facts.rest, []) <= (MAX_LEFT_WITH_WORDS if had_words else 0):
        return Correction(hospital=facts.hospital, department=facts.department)
    if due is None and mention is None:
        return None
    if mention is not None and facts.rest == "" and due is None:
        return Correction(mention=mention)
    pieces = [answer if whole_date else (facts.due_phrase or "")]
    left = _left_over(facts.rest, pieces)
    if left > (MAX_LEFT_WITH_WORDS if had_words else MAX_LEFT_BARE):
        return None
    if mention is not None and _TELLS.search(facts.rest):
        # "王主任说她的门诊改到周五了" under 赵主任's proposal: what 王主任 said, a note of
        # its own (trial H: it became 赵主任's visit under 王主任, and her words were lost);
        # "是王主任说的" still names the customer
        return None
    return Correction(due=due, mention=mention)
