"""The next step in a note: its date ("让我下周三带点资料过去" → next Wednesday) and its
action ("带点资料过去").

Every date-like phrase is read with `coach.dates.parse_due_date` (the same reader that
answers "when will you follow up?"), but in a note a date is a follow-up only when it lies
ahead and nothing marks it as the past: "周二见了李主任" tells when the visit was, "上周"
and "昨天" are behind us, and "用了3天" is a duration, so in notes an offset needs 后 / 以后
("3天后") or 过 in front. Vague phrases (过两天, 改天) are no date: a reminder on a guessed
day is worse than none; the rep can add one with a tap.

The action is what the clause says around the date, with fillers trimmed (让我, 再, 要 …);
without a date, 下次 / next time marks an action too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from coach.capture.lexicon import Lexicon
from coach.capture.spans import Span, ends_with_any
from coach.dates import parse_due_date

__all__ = ["FollowUp", "find_followup"]

_NUM = r"(?:[0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_WD = r"(?:[一二三四五六日天七1-7]|末)"
_CN = (
    r"(?:下下个?|下个?|这个?|本|上个?)?(?:周|星期|礼拜|週)" + _WD
    + r"|(?:下下个?|下个?)(?:周|星期|礼拜|週)"
    + r"|大后天|后天|明天|明日|明早|明晚|明儿|今天|今晚"
    + r"|(?:这个?|本|下个?)?月(?:底|末|初)"
    + r"|(?:下下个?|下个?)月"
    + r"|[0-9]{4}年" + _NUM + r"月" + _NUM + r"[日号]?"
    + r"|[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
    + r"|" + _NUM + r"月" + _NUM + r"[日号]?"
    + r"|(?<![0-9.])[0-9]{1,2}[/.-][0-9]{1,2}(?![0-9.])"
    + r"|" + _NUM + r"[日号](?![床楼线室病])"
    + r"|过" + _NUM + r"(?:天|日|个?(?:周|星期|礼拜)|个月)(?:后|以后|之后)?"
    + r"|" + _NUM + r"(?:天|日|个?(?:周|星期|礼拜)|个月)(?:后|以后|之后)"
    + r"|半个月后"
)
_CN_TAIL = r"(?:上午|下午|中午|晚上|早上|傍晚)?(?:之前|以前|前)?"
_WEEKDAYS = (r"mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?"
             r"|sat(?:urday)?|sun(?:day)?")
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
           r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_EN = (
    r"\b(?:the day after tomorrow|tomorrow|tmrw|tmr|tmw"
    r"|(?:next|this|coming) (?:" + _WEEKDAYS + r")|(?:" + _WEEKDAYS + r")"
    r"|next week|next month|end of (?:the |this )?month"
    r"|in (?:[0-9]{1,3}|a|one|two|three|four|five|six|seven|ten|a couple of) "
    r"(?:days?|weeks?|months?)"
    r"|[0-9]{1,3} (?:days?|weeks?) (?:later|from now)"
    r"|(?:" + _MONTHS + r")\.? [0-9]{1,2}(?:st|nd|rd|th)?"
    r"|[0-9]{1,2}(?:st|nd|rd|th)? (?:" + _MONTHS + r"))\b\.?"
)
# Dates that may as well lie behind us this week: a bare weekday or day of month.
_BARE = re.compile(r"(?:周|星期|礼拜|週)" + _WD + r"|" + _NUM + r"[日号]|" + _NUM + r"月"
                   + _NUM + r"[日号]?|(?:" + _WEEKDAYS + r")", re.IGNORECASE)
_DATE = re.compile(r"(?:" + _CN + r")" + _CN_TAIL + r"|" + _EN, re.IGNORECASE)
_VAGUE = re.compile(r"过[两几]天|过一阵|改天|回头")
_CLAUSE = re.compile(r"[，,。；;！!？?\n]|\s+(?:and|but|then)\s+|\s*[~～…]+\s*")
_NEXT_TIME = re.compile(r"下次|下回|next time|next visit", re.IGNORECASE)
_TODAY = re.compile(r"今天|今晚|today|tonight", re.IGNORECASE)
_LATER_TODAY = re.compile(r"^(?:下午|晚上|晚点|傍晚)?(?:再|还要|还得|要去|去)")
_EN_LEADING = re.compile(r"^(?:by|on|before|until|next)\s+", re.IGNORECASE)
MAX_ACTION = 60


@dataclass(frozen=True)
class FollowUp:
    due: date | None
    phrase: str | None  # the date as written
    action: str | None


def _parse(phrase: str, today: date) -> date | None:
    text = re.sub(r"(?<=[0-9])\.(?=[0-9])", "/", phrase)
    return parse_due_date(text, today)


def _is_past(lexicon: Lexicon, text: str, start: int, end: int, taken: list[Span]) -> bool:
    """Whether a date tells when something happened, not when the rep will act: "周二见了",
    "上周三", or a date leading straight into who was seen ("周三李主任说…")."""
    after = text[end:end + 6]
    if after.lstrip().startswith(lexicon.past_after):
        return True
    if ends_with_any(text[max(0, start - 4):start], lexicon.past_before) is not None:
        return True
    if not _BARE.fullmatch(text[start:end].strip()):
        return False
    gap = len(text[end:]) - len(text[end:].lstrip(" 在去到和跟"))
    return any(span.start == end + gap for span in taken)


def _dates(lexicon: Lexicon, text: str, today: date, taken: list[Span]
           ) -> list[tuple[date, Span]]:
    found: list[tuple[date, Span]] = []
    vague = [m.span() for m in _VAGUE.finditer(text)]
    for match in _DATE.finditer(text):
        start, end = match.span()
        phrase = match.group().strip()
        if any(s <= start < e for s, e in vague) or _is_past(lexicon, text, start, end, taken):
            continue
        if _TODAY.fullmatch(phrase) and not _LATER_TODAY.match(text[end:]):
            continue
        due = _parse(_EN_LEADING.sub("", phrase), today)
        if due is not None:
            found.append((due, Span(start, end, phrase)))
    return found


def _clause(text: str, at: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for match in _CLAUSE.finditer(text):
        if match.end() <= at:
            start = match.end()
        elif match.start() >= at:
            end = match.start()
            break
    return start, end


def _trim(lexicon: Lexicon, text: str) -> str:
    """Fillers off both ends: "让我再带点资料过去吧" → 带点资料过去."""
    text = text.strip(" :：-—,，")
    changed = True
    while changed and text:
        changed = False
        low = text.lower()
        for filler in lexicon.action_fillers:
            ascii_word = filler.isascii()
            if low.startswith(filler) and (not ascii_word or low[len(filler):len(filler) + 1]
                                           in ("", " ")):
                text, changed = text[len(filler):].strip(" :：,，"), True
                break
            if low.endswith(filler) and filler in ("吧", "哈", "呢", "了", "啊", "哦") and (
                    len(text) > len(filler) + 1):
                text, changed = text[:-len(filler)].strip(" ,，"), True
                break
    return text[:MAX_ACTION].strip()


def _action(lexicon: Lexicon, text: str, span: Span, taken: list[Span]) -> str | None:
    start, end = _clause(text, span.start)
    after = _trim(lexicon, _without(text, span.end, end, taken))
    if len(after) >= 2:
        return after
    before = _trim(lexicon, _without(text, start, span.start, taken))
    if len(before) >= 2:
        return before
    if end < len(text):
        following_start = end + 1
        following_end = _clause(text, following_start)[1]
        nxt = _trim(lexicon, _without(text, following_start, following_end, taken))
        if len(nxt) >= 2:
            return nxt
    return None


def _without(text: str, start: int, end: int, taken: list[Span]) -> str:
    """text[start:end] less the names and places in it (they are shown on their own)."""
    pieces = []
    pos = start
    for span in sorted(taken):
        if span.end <= start or span.start >= end:
            continue
        pieces.append(text[pos:max(pos, span.start)])
        pos = max(pos, span.end)
    pieces.append(text[pos:end])
    return "".join(pieces)


def find_followup(lexicon: Lexicon, text: str, today: date,
                  taken: list[Span] | None = None) -> FollowUp:
    """The follow-up a note announces; fields are None when the note says nothing of it."""
    spans = list(taken or [])
    dates = _dates(lexicon, text, today, spans)
    if dates:
        due, span = dates[0]
        return FollowUp(due, span.value, _action(lexicon, text, span, [*spans, span]))
    marker = _NEXT_TIME.search(text)
    if marker is not None:
        span = Span(marker.start(), marker.end(), marker.group())
        return FollowUp(None, None, _action(lexicon, text, span, [*spans, span]))
    return FollowUp(None, None, None)
