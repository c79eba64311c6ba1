"""Holidays as days a rep types: "元旦后第一个工作日", "春节前", "年后", "after CNY".

The table is data (`coach/holidays.yaml`), not code: 春节 moves every year and its official days
off are published year by year, so a new year is one line of YAML. `holiday_date` reads a
whole typed phrase (already lower-cased, spaces removed for Chinese) against it:

* the holiday alone ("元旦", "春节"): its festival day, the next one on or after today;
* after it ("春节后", "元旦以后", "元旦后第一个工作日", "过完年", "after CNY"): the first
  working day (Monday to Friday, not a day off) after its days off;
* before it ("春节前", "年前", "before the new year"): the last working day before its days off.

A year the table does not hold gives None, so the caller asks again instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["HOLIDAYS_FILE", "holiday_date"]

HOLIDAYS_FILE = Path(__file__).with_name("holidays.yaml")
_AFTER = r"(?:之后|以后|过后|后|结束后|假期后|节后|假后)"
_FIRST_WORKDAY = r"(?:的)?(?:第一个工作日|第一个上班日|上班第一天|上班|开工|复工)"
_BEFORE = r"(?:之前|以前|前|放假前|假前)"


@dataclass(frozen=True)
class Holiday:
    names: tuple[str, ...]
    only_before_after: tuple[str, ...]
    after_words: tuple[str, ...]
    every_year: tuple[int, int] | None  # (month, day)
    years: dict[int, tuple[date, date, date]]  # year -> (day, first day off, last day off)

    def occurrences(self, today: date) -> list[tuple[date, date, date]]:
        """(festival day, first day off, last day off), this year's and later, in order."""
        if self.every_year is not None:
            month, day = self.every_year
            return [(d, d, d) for d in (date(y, month, day)
                                        for y in (today.year, today.year + 1))]
        return [self.years[y] for y in sorted(self.years) if y >= today.year - 1]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@cache
def _holidays() -> tuple[Holiday, ...]:
    raw = yaml.safe_load(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    found = []
    for entry in raw["holidays"]:
        fixed = entry.get("every_year")
        years = {int(y): (_day(v["day"]), _day(v["days_off"][0]), _day(v["days_off"][1]))
                 for y, v in (entry.get("years") or {}).items()}
        found.append(Holiday(
            names=tuple(str(n).lower().replace(" ", "") for n in entry["names"]),
            only_before_after=tuple(entry.get("only_before_after") or ()),
            after_words=tuple(entry.get("after_words") or ()),
            every_year=(int(fixed["month"]), int(fixed["day"])) if fixed else None,
            years=years))
    return tuple(found)


def _working(day: date, holiday: Holiday) -> bool:
    if day.weekday() >= 5:
        return False
    return not any(start <= day <= end for _, start, end in holiday.occurrences(day))


def _first_working_after(holiday: Holiday, today: date) -> date | None:
    for _, _, last in holiday.occurrences(today):
        day = last + timedelta(days=1)
        while not _working(day, holiday):
            day += timedelta(days=1)
        if day >= today:
            return day
    return None


def _last_working_before(holiday: Holiday, today: date) -> date | None:
    for _, first, _ in holiday.occurrences(today):
        day = first - timedelta(days=1)
        while not _working(day, holiday):
            day -= timedelta(days=1)
        if day >= today:
            return day
    return None


def _names(holiday: Holiday, bare: bool) -> str:
    """The holiday's names as alternatives; `bare`: only those that stand alone (not 年)."""
    names = [n for n in holiday.names if not bare or n not in holiday.only_before_after]
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


_EN_AFTER = re.compile(r"^(?:after|post)(?:the)?(?P<name>.+?)(?:holidays?|break)?$")
_EN_BEFORE = re.compile(r"^before(?:the)?(?P<name>.+?)(?:holidays?|break)?$")


def holiday_date(compact: str, today: date) -> date | None:
    """The day a typed holiday phrase means (`compact`: lower case, no spaces), or None."""
    for holiday in _holidays():
        names = _names(holiday, bare=False)
        if compact in holiday.after_words or re.fullmatch(
                r"(?:" + names + r")" + _AFTER + r"?" + _FIRST_WORKDAY
                + r"|(?:" + names + r")" + _AFTER, compact):
            return _first_working_after(holiday, today)
        if re.fullmatch(r"(?:" + names + r")" + _BEFORE, compact):
            return _last_working_before(holiday, today)
        if re.fullmatch(r"(?:" + _names(holiday, bare=True) + r")(?:当天|那天|节)?", compact):
            return next((d for d, _, _ in holiday.occurrences(today) if d >= today), None)
        for pattern, find in ((_EN_AFTER, _first_working_after),
                              (_EN_BEFORE, _last_working_before)):
            match = pattern.fullmatch(compact)
            if match and match["name"] in holiday.names:
                return find(holiday, today)
    return None


def is_day_off(day: date) -> bool:
    """Whether `day` is a Saturday, a Sunday or one of a holiday's official days off: a
    follow-up then gets a gentle hint that the doctor is likely away."""
    return day.weekday() >= 5 or any(start <= day <= end for holiday in _holidays()
                                     for _, start, end in holiday.occurrences(day))


def working_day_by(day: date, earliest: date) -> date:
    """The last working day on or before `day` (not a Saturday, a Sunday nor a holiday's day
    off): when a deadline falls on a day off, the reminder comes the working day before. No
    earlier than `earliest` (today): with no working day between, `day` itself."""
    found = day
    while is_day_off(found):
        found -= timedelta(days=1)
        if found < earliest:
            return day
    return found
