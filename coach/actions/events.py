"""Dated hospital events the rep wrote in notes ("下个月15号药事会", "年底科室评优"), for the
hospital plan's dated actions: each with what to do before it.

A key-account plan is built around the hospital's calendar: the formulary committee, an
award or inspection, a tender, an academic meeting. The rep mentions them in passing in a
visit note. An event is a phrase from the hospital playbook's `content.events` in a clause
of a recent note of someone at the hospital, with a date the note ties to it: written right
next to the event's words, or with only linking words between ("下个月15号药事会", "药事会
定在下周三", "15号开药事会", "药事会，时间是15号"). A date the note ties to something else is
not the event's: "12号前把材料发给张科" is a deadline for materials, "12号上午去仁济找张科确认
药事会名单" is a visit. A month without a day ("下个月药事会", "3月份评优", "in March") is kept
as that month, a week without a day ("下周药事会") as that week, never turned into a made-up
day. 年底 / 年末 / year end is 31 December. Dates are read
as the note reader reads follow-up dates, relative to the day the note was written.

The same event is listed once: mentions of one kind within SAME_EVENT_DAYS of each other
are one event, the day-exact mention over a month-only one, else the newest note's. Only
events still ahead are kept, soonest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from coach.actions.signals import find_signals
from coach.capture.followup import dates_in

if TYPE_CHECKING:
    from coach.capture.lexicon import Lexicon
    from coach.context import Turn

LOOKBACK_DAYS = 180  # notes read for events
SAME_EVENT_DAYS = 45  # two mentions of one kind this close are one event
CLAUSES = re.compile(r"[，。；！？,;!?\n]+")
YEAR_END = re.compile(r"年底|年末|年终|end of (?:the )?year|year[- ]end", re.IGNORECASE)
_CN_MONTH = r"(?:[0-9]{1,2}|十[一二]?|[一二三四五六七八九])"
# a month and no day: 下个月, 这个月, 3月份, 明年3月, next month
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")
# a month and no day: 下个月, 这个月, 3月份, 明年3月, next month, in March
MONTH_ONLY = re.compile(r"(?P<rel>下下个?月|下个?月|这个?月|本月|next month|this month)"
                        r"|(?P<year>明年|今年)?(?P<month>" + _CN_MONTH + r")月份?"
                        r"(?![0-9一二三四五六七八九十]{0,3}[日号])(?!底|末|初)"
                        r"|\bin (?P<en>" + "|".join(_EN_MONTHS) + r")\b(?!\s*[0-9])",
                        re.IGNORECASE)
# a week and no day: 下周药事会, "next week" (a week's Monday, said as that week)
WEEK_ONLY = re.compile(r"^(?:下下?个?|这个?|本)(?:周|星期|礼拜|週)$|^(?:next|this) week$",
                       re.IGNORECASE)
DAY, WEEK, MONTH = "day", "week", "month"  # how much of its date a note gives an event
# only these may stand between a date and the event's words for the date to be the event's
LINK = re.compile(r"(?:\s|[：:的在于是有个那这次将会要就才开办上]|定在|定于|安排在|改到|改在|推到"
                  r"|挪到|大概|可能|估计|应该|召开|举行|举办|时间|日期|左右|前后|上午|下午"
                  r"|科室|科里|科内|院里|院内|全院|医院|今年|这次|本次"
                  r"|\b(?:is|on|in|at|the|will|be|held|meets|meeting|scheduled|for)\b)*",
                  re.IGNORECASE)
PRECISION = (DAY, WEEK, MONTH)  # most precise first
MAX_LINK = 12  # characters of linking words ("meets on" and its spaces)
DEADLINE = re.compile(r"(?:之前|以前|前|before|by)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Event:
    """One dated event: its kind (a key of `content.events`), day (the Monday of the week
    or the first of the month when `span` is WEEK or MONTH), and who mentioned it in which
    words."""

    kind: str
    day: date
    phrase: str
    who: str
    span: str = DAY


@dataclass(frozen=True)
class Mention:
    """An event as one note names it: kind, the day (or month) the note ties to it, and
    the event's words."""

    kind: str
    day: date
    phrase: str
    span: str = DAY


def _tied(between: str) -> bool:
    """Whether only linking words stand between a date and an event's words."""
    return len(between) <= MAX_LINK and LINK.fullmatch(between) is not None


def _month(match: re.Match[str], written: date) -> date:
    """The first day of the month a MONTH_ONLY match names, read from `written`."""
    rel = (match["rel"] or "").lower()
    if rel:
        ahead = 2 if rel.startswith("下下") else 1 if rel.startswith(("下", "next")) else 0
        index = written.month - 1 + ahead
        return date(written.year + index // 12, index % 12 + 1, 1)
    month = _month_number(match)
    year = written.year + (1 if match["year"] == "明年" else 0)
    if not match["year"] and month < written.month:
        year += 1  # "3月份" written in December is next March
    return date(year, month, 1)


def _dates(lexicon: Lexicon, clause: str, written: date) -> list[tuple[int, int, date, str]]:
    """The dates of `clause`: (start, end, day, span). A month named with a day of it
    ("下个月15号") is that day of that month."""
    found: list[tuple[int, int, date, str]] = []
    months = [m for m in MONTH_ONLY.finditer(clause) if m["rel"] or 1 <= _month_number(m) <= 12]
    for match in YEAR_END.finditer(clause):
        found.append((match.start(), match.end(), date(written.year, 12, 31), DAY))
    for day, span in dates_in(lexicon, clause, written):
        if any(s <= span.start < e for s, e, _, _ in found):
            continue
        inside = [m for m in months if m.start() <= span.start < m.end()]
        # a month's own words are its month, unless the date read them with a day of it
        # ("下个月15号", read whole by the date reader: that day)
        if all(span.end > m.end() for m in inside):
            found.append((span.start, span.end, day,
                          WEEK if WEEK_ONLY.match(span.value.strip()) else DAY))
    for match in months:
        if not any(s <= match.start() < e for s, e, _, _ in found):
            found.append((match.start(), match.end(), _month(match, written), MONTH))
    return found


_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "十一": 11, "十二": 12}


def _month_number(match: re.Match[str]) -> int:
    """The month a MONTH_ONLY match names by number (0 for one it names by relation, or
    a number that is no month: "13月")."""
    if match["en"]:
        return _EN_MONTHS.index(match["en"].lower()) + 1
    word = match["month"]
    if word is None:
        return 0
    return int(word) if word.isdigit() else _CN_MONTHS.get(word, 0)


def events_in(lexicon: Lexicon, text: str, written: date,
              events: Mapping[str, Mapping[str, Any]]) -> list[Mention]:
    """The events a note written on `written` ties a date to (see the module docstring)."""
    signals = [{"kind": "event", "value": kind, "phrases": spec["phrases"]}
               for kind, spec in events.items()]
    clauses = [c for c in CLAUSES.split(text) if c.strip()]
    mentions: list[Mention] = []
    for index, clause in enumerate(clauses):
        for hit in find_signals(clause, signals):
            start, end = hit["at"], hit["at"] + len(hit["phrase"])
            tied = [(day, span) for s, e, day, span in _dates(lexicon, clause, written)
                    if (e <= start and _tied(clause[e:start])
                        and not DEADLINE.search(clause[s:e]))
                    or (s >= end and _tied(clause[end:s]) and not DEADLINE.search(clause[s:e]))]
            if not tied and index + 1 < len(clauses) and _tied(clause[end:]):
                following = clauses[index + 1]  # "药事会，时间是15号"
                tied = [(day, span) for s, e, day, span in _dates(lexicon, following, written)
                        if _tied(following[:s]) and _tied(following[e:])
                        and not DEADLINE.search(following[s:e])]
            if tied:
                day, span = tied[0]
                mentions.append(Mention(str(hit["value"]), day, str(hit["phrase"]), span))
    return mentions


class Person(Protocol):
    """What events need of a customer: an `Account`, or the lighter `AccountEntry`."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


def _same(one: Event, other: Event) -> bool:
    return one.kind == other.kind and abs((one.day - other.day).days) <= SAME_EVENT_DAYS


def hospital_events(turn: Turn, people: Iterable[Person],
                    events: Mapping[str, Mapping[str, Any]]) -> list[Event]:
    """The dated events ahead in the recent notes of `people` (one hospital's customers),
    each once."""
    accounts = {a.id: a for a in people}
    if not accounts or not events:
        return []
    today = turn.local_now.date()
    kept: list[Event] = []
    for note in reversed(turn.recent_notes(accounts, LOOKBACK_DAYS)):  # oldest first
        written = date.fromisoformat(turn.local_date(note.created_at))
        for mention in events_in(turn.library.lexicon, note.text, written, events):
            last = {MONTH: (mention.day.replace(day=28) + timedelta(days=4)).replace(day=1)
                    - timedelta(days=1), WEEK: mention.day + timedelta(days=6)}.get(
                mention.span, mention.day)
            if last < today:
                continue
            event = Event(mention.kind, mention.day, mention.phrase,
                          accounts[note.account_id].name, mention.span)
            same = next((e for e in kept if _same(e, event)), None)
            if same is not None and PRECISION.index(event.span) > PRECISION.index(same.span):
                continue  # a day already known beats a later "next month"
            kept = [e for e in kept if e is not same] + [event]
    return sorted(kept, key=lambda e: (e.day, e.kind))
