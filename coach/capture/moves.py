"""Text that moves or cancels a named customer's open follow-up, whichever visit was saved
last: "王主任那个跟进改到下周二", "把李主任周三那个拜访挪到周五", "刘医生的跟进推迟一周",
"取消张主任下周三的拜访", "reschedule Dr Chen's follow-up to Friday". Trial F: typed after
logging another customer, it became a made-up visit with the step "那个跟进改".

Only a short text counts: the customer's name, words for the follow-up (lexicon
`followup_refs`), a word that moves (`move_verbs`) or cancels (`cancel_words`) it, the new
day or how much later, and maybe the old day or a few words of what it was for. One where
someone said it ("王主任说科室会改到下周二": the customer's words, `said`) or that says
more is a note, as before.
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

__all__ = ["FollowupMove", "read_followup_move"]


@dataclass(frozen=True)
class FollowupMove:
    """Which customer's follow-up, and what becomes of it: to `due`, `shift` days later,
    or cancelled. `old`: the day it was on, when said; `what`: words naming which one."""

    person: Mention
    cancel: bool = False
    due: date | None = None
    shift: int | None = None
    old: date | None = None
    what: str | None = None


_DAY = re.compile(
    r"(?:下下|下|这|本)?(?:周|星期|礼拜)[一二三四五六日天]|\d{1,2}月\d{1,2}[日号]?"
    r"|\d{1,2}[日号]|明天|后天|大后天|月底|下个?月初|下下?(?:周|个?星期|个?礼拜)"
    r"|\bnext week\b"
    r"|(?:next |this )?\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|\btomorrow\b", re.IGNORECASE)
_SHIFT = re.compile(r"(?P<n>一|两|二|三|四|五|\d+|a|one|two|three)\s*(?:个)?\s*"
                    r"(?P<unit>周|星期|礼拜|天|日|weeks?|days?)", re.IGNORECASE)
_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "a": 1, "one": 1,
            "two": 2, "three": 3}
_FILLERS = re.compile(r"把|帮我|麻烦|那个|那次|这个|的|了|吧|一下|给|到|成|为|至|往后|向后|"
                      r"上午|下午|早上|晚上|中午|"
                      r"\b(?:the|my|to|until|till|by|for|on|back|please|pls|with|of|s|morning|"
                      r"afternoon|again)\b|'s",
                      re.IGNORECASE)
MAX_LEFT = 6  # characters (Chinese) or words (Latin) naming which follow-up ("送资料")
MAX_AFTER = 1  # after the word that moves it: the day, a time of day, "再去", little else


def _find(words: Sequence[str], low: str) -> tuple[int, int] | None:
    """Where the first of `words` is in `low` (a Latin one as a whole word)."""
    best: tuple[int, int] | None = None
    for word in words:
        pattern = (r"(?<![a-z])" + re.escape(word) + r"(?![a-z])" if word.isascii()
                   else re.escape(word))
        match = re.search(pattern, low)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), match.end())
    return best


def _left(text: str) -> int:
    return sum(1 for ch in text if is_cjk(ch)) + len(re.findall(r"[A-Za-z]{2,}", text))


def _shift_days(text: str) -> int | None:
    match = _SHIFT.search(text)
    if match is None:
        return None
    raw = match["n"].lower()
    count = int(raw) if raw.isdigit() else _NUMBERS.get(raw, 0)
    return count * (7 if match["unit"][0] in "周星礼w" else 1) or None


def read_followup_move(lexicon: Lexicon, text: str, today: date,
                       known_hospitals: Sequence[str] = (), known_names: Sequence[str] = ()
                       ) -> FollowupMove | None:
    """The move or cancellation of a customer's follow-up `text` asks for, or None when it
    is something else (a note)."""
    low = text.lower().strip()
    if _find(lexicon.move_said, low) is not None:
        return None  # "王主任说科室会改到下周二": what the customer said, a note
    verb = _find(lexicon.move_verbs, low)
    cancel = _find(lexicon.cancel_words, low)
    if verb is None and cancel is None:
        return None
    if _find(lexicon.followup_refs, low) is None:
        return None
    at, end = verb or cancel or (0, 0)
    # the name, read without the words that move or cancel ("取消张主任…" is not 取消张主任)
    plain = text[:at] + "，" + text[end:]
    facts = read_note(lexicon, plain, today, known_hospitals, known_names)
    person = facts.mention or facts.attempted
    if person is None or facts.others or facts.hospital:
        return None
    named = text.find(person.name)
    days = [m for m in _DAY.finditer(text)  # not "Sun" of "Dr Sun"
            if named < 0 or m.end() <= named or m.start() >= named + len(person.name)]
    new = [m for m in days if m.start() >= end] if verb else []
    if len(new) > 1:
        return None  # "门诊改到周四了 下周四再去拜访": two days after it, a note
    due = parse_due_date(new[-1].group(0), today) if new else None
    shift = _shift_days(text[end:]) if verb and due is None else None
    if verb is not None and due is None and shift is None:
        return None  # "改到…" with no day that can be read: a note, as before
    old_match = next((m for m in days if not new or m is not new[-1]), None)
    old = parse_due_date(old_match.group(0), today) if old_match else None
    if _find(lexicon.move_not, text[:at].lower()) is not None:
        return None  # "今天拜访王主任，药事会推迟到下周二": a visit told, a note
    before, after = text[:at], text[end:]
    for piece in sorted([person.name, *(m.group(0) for m in days)], key=len, reverse=True):
        before, after = before.replace(piece, " "), after.replace(piece, " ")
    after = _SHIFT.sub(" ", after) if shift is not None else after
    after = _strip(lexicon, after, lexicon.only_again_words)
    before = _strip(lexicon, before)
    if _left(after) > MAX_AFTER or _left(before) > MAX_LEFT:
        return None  # says more: a note of its own
    what = before.strip(" ，,。.") or None
    return FollowupMove(person, cancel=verb is None, due=due, shift=shift, old=old,
                        what=what)


def _strip(lexicon: Lexicon, text: str, extra: Sequence[str] = ()) -> str:
    """`text` less the words that move, cancel or name a follow-up, `extra` and fillers."""
    low = text
    for words in (extra, lexicon.move_verbs, lexicon.cancel_words, lexicon.followup_refs):
        for word in words:
            pattern = (r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])" if word.isascii()
                       else re.escape(word))
            low = re.sub(pattern, " ", low, flags=re.IGNORECASE)
    low = _FILLERS.sub(" ", low)
    return re.sub(r"[\s，,。.；;：:！!？?'’]+", " ", low).strip()
