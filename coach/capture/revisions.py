"""A text typed right after a visit was saved that corrects that visit, not a visit of its
own: its follow-up's day ("日期记错了 吴主任约的是周三", "时间写错了，是周四下午", "不是下周二
是下周三") or its customer ("记错人了 刚才那条不是王主任 是刘医生", "刚才记错人了，应该是刘医生",
"wrong doctor, it was Dr Liu not Dr Wang"). The trial D rep's corrections became second
visits with a follow-up "约的是" or a new proposal under the wrong customer.

Only a short text counts: the words that say something was wrong (lexicon `date_wrong`,
`person_wrong`), the day or the names, and words pointing at the visit ("刚才那条"). One
that says more ("不对劲，王主任今天态度很冷淡", "刘医生说他记错了门诊时间，改到周四见") is a
note of its own. A weekday with no week ("周三", "Wed") is in the week of the follow-up
saved: the rep got the day wrong, not the week.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from coach.capture.corrections import read_correction
from coach.capture.lexicon import Lexicon
from coach.capture.matching import Mention
from coach.capture.reader import mention_in
from coach.capture.spans import is_cjk
from coach.dates import parse_due_date
from coach.names import written_alike

__all__ = ["Revision", "in_week_of", "looks_like_revision", "read_revision"]


@dataclass(frozen=True)
class Revision:
    """What the text corrects in the visit just saved: the follow-up's day, or whom the
    visit was with (`denied`: the customer it says it was not, when it names one)."""

    due: date | None = None
    person: Mention | None = None
    denied: Mention | None = None


_EDGES = " \t，,。.；;：:！!？?、~～-—()（）"
_NOT = r"(?:并不是|也不是|不是|\bnot\b|\bisn't\b|\bwasn't\b)"
_IS = r"(?:应该是|其实是|而是|是|\bit was\b|\bit's\b|\bit is\b|\bwas\b|\bshould be\b|\bbut\b)"
# "不是王主任，是刘医生", "not Dr Wang, it was Dr Liu"
_NOT_THEN_IS = re.compile(_NOT + r"\s*(?P<no>.+?)(?:[\s，,;；]*" + _IS + r"|[，,;；])"
                          r"\s*(?P<yes>.+)$", re.IGNORECASE)
# "是刘医生不是王主任", "it was Dr Liu, not Dr Wang"
_IS_THEN_NOT = re.compile(r"^(?:.*?" + _IS + r")?\s*(?P<yes>.+?)[\s，,;；]*(?:才对)?[\s，,;；]*"
                          + _NOT + r"\s*(?P<no>.+)$", re.IGNORECASE)
# "应该是刘医生", "it was Dr Liu"
_ONLY_IS = re.compile(r"^(?:.*?)" + _IS + r"\s*(?P<yes>[^，,。；;]+)$", re.IGNORECASE)
_AFTER_NAME = re.compile(r"^[\s，,。.；;！!]*(?:才对|对|的|了|吧|哈)*[\s，,。.；;！!]*$")
MAX_LEFT = 2  # characters (Chinese) or words (Latin) a correction may hold besides its parts
_BARE_WEEKDAY = re.compile(r"(?<![下这本上])(?:周|星期|礼拜)(?P<cn>[一二三四五六日天])"
                           r"|(?<!next )(?<!this )\b(?P<en>mon|tue|wed|thu|fri|sat|sun)[a-z]*\b",
                           re.IGNORECASE)
_CN_DAYS = "一二三四五六日"
_EN_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _has(words: Sequence[str], low: str) -> bool:
    """Whether one of `words` is in `low` (a Latin one as a whole word)."""
    return any(re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", low) if w.isascii()
               else w in low for w in words)


def _without(words: Sequence[str], text: str) -> str:
    for word in words:
        pattern = (r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])" if word.isascii()
                   else re.escape(word))
        text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return text


def _left(text: str) -> int:
    return sum(1 for ch in text if is_cjk(ch)) + len(re.findall(r"[A-Za-z]{2,}", text))


def _name(lexicon: Lexicon, part: str, today: date) -> Mention | None:
    """The person `part` names, when it names one and little else ("刘医生", "Dr Liu")."""
    part = re.sub(r"的(?:记录)?$", "", part.strip(_EDGES))  # "是黄医生的"
    mention = mention_in(lexicon, part, today) if part else None
    if mention is None or (mention.title is None and parse_due_date(part, today)):
        return None  # "不是下周二 是下周三": days, not people
    at = part.find(mention.name)
    rest = part[at + len(mention.name):] if at >= 0 else part
    return mention if at >= 0 and _left(part[:at]) <= 1 and _AFTER_NAME.match(rest) else None


def _person(lexicon: Lexicon, text: str, today: date, customer: str) -> Revision | None:
    low = text.lower()
    strong = _has(lexicon.person_wrong, low)
    body = _without(lexicon.that_one, _without(lexicon.person_wrong, text))
    body = re.sub(r"^[\s，,。.：:]*(?:不对|错了|sorry|no)[\s，,。.：:]+", "", body.strip(_EDGES),
                  flags=re.IGNORECASE).strip(_EDGES)
    for pattern in (_NOT_THEN_IS, _IS_THEN_NOT, _ONLY_IS):
        match = pattern.search(body)
        if match is None or _left(body[:match.start()]) > MAX_LEFT:
            continue
        yes = _name(lexicon, match["yes"], today)
        no_part = match.groupdict().get("no")
        no = _name(lexicon, no_part, today) if no_part else None
        if yes is None:
            continue
        # "是张教授不是张主任", "是王建国主任不是王主任": the same family name, said otherwise on
        # purpose, is a person corrected too (which of them, or a new one, is asked); "是王主任"
        # alone of 王主任's visit says nothing new
        if written_alike(yes.name, customer) and (
                yes.name == customer or no is None or not (strong or no_part)):
            continue
        if no_part and (no is None or not written_alike(no.name, customer)):
            return None  # "不是王主任是刘医生" after 李主任's visit: not about it
        if no is None and not strong:
            return None  # "应该是刘医生" alone: which visit, what changed is not said
        return Revision(person=yes, denied=no)
    return None


def in_week_of(text: str, due: date, saved: date | None, today: date) -> date:
    """A weekday with no week said, in the week of the follow-up saved (when still ahead)."""
    if saved is None:
        return due
    for match in _BARE_WEEKDAY.finditer(text):
        day = (_CN_DAYS.index(match["cn"].replace("天", "日")) if match["cn"]
               else _EN_DAYS.index(match["en"].lower()[:3]))
        if day != due.weekday():
            continue
        moved = saved - timedelta(days=saved.weekday() - day)
        return moved if moved > today else due
    return due


def _day(lexicon: Lexicon, text: str, today: date, customer: str, saved: date | None,
         known_hospitals: Sequence[str], known_names: Sequence[str]) -> date | None:
    low = text.lower()
    if not _has(lexicon.date_wrong, low) and not re.search(_NOT, low):
        return None
    plain = _without(lexicon.that_one, _without(lexicon.date_wrong, text)).strip(_EDGES)
    correction = read_correction(lexicon, plain or text, today, known_hospitals, known_names)
    if correction is None or correction.due is None or correction.hospital:
        return None
    if correction.mention is not None and not written_alike(correction.mention.name, customer):
        return None
    return in_week_of(text, correction.due, saved, today)


def read_revision(lexicon: Lexicon, text: str, today: date, customer: str,
                  saved_due: date | None = None, known_hospitals: Sequence[str] = (),
                  known_names: Sequence[str] = ()) -> Revision | None:
    """What `text` corrects in the visit with `customer` just saved (its follow-up due
    `saved_due`), or None when it is no such correction."""
    person = _person(lexicon, text, today, customer)
    if person is not None:
        return person
    due = _day(lexicon, text, today, customer, saved_due, known_hospitals, known_names)
    return Revision(due=due) if due is not None else None


def looks_like_revision(lexicon: Lexicon, text: str) -> bool:
    """Whether `text` has a word that may start a date or person correction: only then is
    the saved follow-up read (no query for a note that cannot be one)."""
    low = text.lower()
    return _has(lexicon.date_wrong, low) or _has(lexicon.person_wrong, low) or bool(
        re.search(_NOT, low))
