"""Table tests for `coach.dates.parse_due_date`.

Every table is pinned to a fixed `today` so the weekday and month-end rules are checked on the
awkward days: a Sunday (the last day of a Monday-based week), a Wednesday (the named weekday
is today), the end of December (year rollover) and January 31 (month-end clamping).
"""

from __future__ import annotations

from datetime import date

import pytest

from coach.dates import DATE_EXAMPLES, parse_due_date

SUNDAY = date(2026, 11, 22)
WEDNESDAY = date(2026, 11, 25)
YEAR_END = date(2026, 12, 28)  # a Monday
JAN_31 = date(2027, 1, 31)  # a Sunday
LEAP_JAN_31 = date(2028, 1, 31)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


SUNDAY_CASES: list[tuple[str, date]] = [
    # plain relative days
    ("今天", d(11, 22)),
    ("今日", d(11, 22)),
    ("明天", d(11, 23)),
    ("明日", d(11, 23)),
    ("明早", d(11, 23)),
    ("明晚", d(11, 23)),
    ("后天", d(11, 24)),
    ("大后天", d(11, 25)),
    # next week's weekday: Sunday closes the current week, so 下周三 is in three days
    ("下周三", d(11, 25)),
    ("下星期三", d(11, 25)),
    ("下礼拜三", d(11, 25)),
    ("下个星期三", d(11, 25)),
    ("下周一", d(11, 23)),
    ("下周日", d(11, 29)),
    ("下周天", d(11, 29)),
    ("下下周三", d(12, 2)),
    ("下周3", d(11, 25)),
    # bare / this-week weekday: past days of this week roll to the coming one
    ("周五", d(11, 27)),
    ("星期五", d(11, 27)),
    ("礼拜五", d(11, 27)),
    ("这周五", d(11, 27)),
    ("本周五", d(11, 27)),
    ("这个周五", d(11, 27)),
    ("周一", d(11, 23)),
    ("周日", d(11, 22)),
    ("星期天", d(11, 22)),
    # whole weeks and weekends
    ("下周", d(11, 23)),
    ("下星期", d(11, 23)),
    ("周末", d(11, 22)),
    ("下周末", d(11, 28)),
    # counted offsets
    ("3天后", d(11, 25)),
    ("三天后", d(11, 25)),
    ("两天后", d(11, 24)),
    ("十天后", d(12, 2)),
    ("十一天后", d(12, 3)),
    ("二十天后", d(12, 12)),
    ("3日后", d(11, 25)),
    ("三日后", d(11, 25)),
    ("3天", d(11, 25)),
    ("过两天", d(11, 24)),
    ("一周后", d(11, 29)),
    ("两周后", d(12, 6)),
    ("2周后", d(12, 6)),
    ("一个星期后", d(11, 29)),
    ("两个礼拜后", d(12, 6)),
    ("一个月后", d(12, 22)),
    ("半个月后", d(12, 7)),
    # months
    ("下个月", d(12, 22)),
    ("下月", d(12, 22)),
    ("下下个月", d(1, 22, 2027)),
    ("月底", d(11, 30)),
    ("本月底", d(11, 30)),
    ("月末", d(11, 30)),
    ("下个月底", d(12, 31)),
    ("下月初", d(12, 1)),
    # month and day: next occurrence, rolling into next year when past
    ("12月5日", d(12, 5)),
    ("12月5号", d(12, 5)),
    ("12月5", d(12, 5)),
    ("十二月五日", d(12, 5)),
    ("十二月五号", d(12, 5)),
    ("12-05", d(12, 5)),
    ("12/5", d(12, 5)),
    ("12.5", d(12, 5)),  # typed as the answer to "when?"; in a note it must look like a plan
    ("11月22日", d(11, 22)),
    ("11月21日", d(11, 21, 2027)),
    ("1月3日", d(1, 3, 2027)),
    ("11/1", d(11, 1, 2027)),
    ("2月29日", d(2, 29, 2028)),
    # day of month alone
    ("5号", d(12, 5)),
    ("25号", d(11, 25)),
    ("二十五号", d(11, 25)),
    ("三十一号", d(12, 31)),
    ("30日", d(11, 30)),
    # full dates
    ("2026-12-05", d(12, 5)),
    ("2026/12/5", d(12, 5)),
    ("2026.12.05", d(12, 5)),
    ("2026年12月5日", d(12, 5)),
    ("2026年12月5号", d(12, 5)),
    ("2027年1月3日", d(1, 3, 2027)),
    ("2026年十二月五日", d(12, 5)),
    ("2026-11-22", d(11, 22)),
    # noise the parser tolerates
    (" 明天 ", d(11, 23)),
    ("下 周 三", d(11, 25)),
    ("3 天 后", d(11, 25)),
    ("三天之后", d(11, 25)),
    ("三天以后", d(11, 25)),
    ("两周以后", d(12, 6)),
    ("3日之后", d(11, 25)),
    ("明天以后", d(11, 23)),
    ("12月5日之后", d(12, 5)),
    ("下周三。", d(11, 25)),
    ("明天！", d(11, 23)),
    ("３天后", d(11, 25)),
    ("１２／５", d(12, 5)),
    ("明天下午", d(11, 23)),
    ("明天下午3点", d(11, 23)),
    ("周五上午10:30", d(11, 27)),
    ("下周三 下午三点半", d(11, 25)),
    ("周五晚", d(11, 27)),
    ("周五之前", d(11, 27)),
    ("12月5号前", d(12, 5)),
    ("到周五", d(11, 27)),
    # English
    ("today", d(11, 22)),
    ("Today", d(11, 22)),
    ("tonight", d(11, 22)),
    ("tomorrow", d(11, 23)),
    ("TOMORROW", d(11, 23)),
    ("tmr", d(11, 23)),
    ("tomorrow morning", d(11, 23)),
    ("tomorrow at 3pm", d(11, 23)),
    ("tomorrow 10:30", d(11, 23)),
    ("day after tomorrow", d(11, 24)),
    ("the day after tomorrow", d(11, 24)),
    ("next wednesday", d(11, 25)),
    ("next wed", d(11, 25)),
    ("Next Wednesday", d(11, 25)),
    ("wednesday", d(11, 25)),
    ("wed", d(11, 25)),
    ("this friday", d(11, 27)),
    ("on friday", d(11, 27)),
    ("by fri", d(11, 27)),
    ("sunday", d(11, 22)),
    ("in 3 days", d(11, 25)),
    ("3 days", d(11, 25)),
    ("in three days", d(11, 25)),
    ("3 days later", d(11, 25)),
    ("3 days from now", d(11, 25)),
    ("in a day", d(11, 23)),
    ("in 2 weeks", d(12, 6)),
    ("2 weeks", d(12, 6)),
    ("in a week", d(11, 29)),
    ("in 2 months", d(1, 22, 2027)),
    ("next week", d(11, 23)),
    ("next month", d(12, 22)),
    ("end of month", d(11, 30)),
    ("end of the month", d(11, 30)),
    ("this weekend", d(11, 22)),
    ("next weekend", d(11, 28)),
    ("5 Dec", d(12, 5)),
    ("Dec 5", d(12, 5)),
    ("dec 5th", d(12, 5)),
    ("December 5", d(12, 5)),
    ("5th of December", d(12, 5)),
    ("Dec. 5", d(12, 5)),
    ("Nov 21", d(11, 21, 2027)),
    ("Dec 5, 2027", d(12, 5, 2027)),
    ("5 Dec 2026", d(12, 5)),
    ("  in   3   days  ", d(11, 25)),
]


@pytest.mark.parametrize(("text", "expected"), SUNDAY_CASES)
def test_parse_on_a_sunday(text: str, expected: date) -> None:
    assert parse_due_date(text, SUNDAY) == expected


WEDNESDAY_CASES: list[tuple[str, date]] = [
    ("周三", d(11, 25)),  # the named weekday is today: today, not next week
    ("这周三", d(11, 25)),
    ("wednesday", d(11, 25)),
    ("周二", d(12, 1)),  # already past this week: the coming Tuesday
    ("本周一", d(11, 30)),
    ("这周二", d(12, 1)),
    ("tue", d(12, 1)),
    ("周四", d(11, 26)),
    ("周日", d(11, 29)),
    ("下周三", d(12, 2)),
    ("下周一", d(11, 30)),
    ("下周二", d(12, 1)),
    ("next wednesday", d(12, 2)),
    ("next monday", d(11, 30)),
    ("下周", d(11, 30)),
    ("next week", d(11, 30)),
    ("周末", d(11, 28)),
    ("下周末", d(12, 5)),
    ("明天", d(11, 26)),
    ("后天", d(11, 27)),
    ("大后天", d(11, 28)),
    ("一周后", d(12, 2)),
    ("3天后", d(11, 28)),
    ("下个月", d(12, 25)),
    ("月底", d(11, 30)),
    ("24号", d(12, 24)),
]


@pytest.mark.parametrize(("text", "expected"), WEDNESDAY_CASES)
def test_parse_on_a_wednesday(text: str, expected: date) -> None:
    assert parse_due_date(text, WEDNESDAY) == expected


YEAR_END_CASES: list[tuple[str, date]] = [
    ("明天", d(12, 29)),
    ("3天后", d(12, 31)),
    ("五天后", d(1, 2, 2027)),
    ("下周三", d(1, 6, 2027)),
    ("周三", d(12, 30)),
    ("周一", d(12, 28)),
    ("下周", d(1, 4, 2027)),
    ("两周后", d(1, 11, 2027)),
    ("下个月", d(1, 28, 2027)),
    ("月底", d(12, 31)),
    ("下月初", d(1, 1, 2027)),
    ("1月5日", d(1, 5, 2027)),
    ("1/5", d(1, 5, 2027)),
    ("12月5日", d(12, 5, 2027)),
    ("12月31日", d(12, 31)),
    ("5号", d(1, 5, 2027)),
    ("Jan 5", d(1, 5, 2027)),
    ("next month", d(1, 28, 2027)),
    ("2027-01-05", d(1, 5, 2027)),
]


@pytest.mark.parametrize(("text", "expected"), YEAR_END_CASES)
def test_parse_rolls_over_the_year(text: str, expected: date) -> None:
    assert parse_due_date(text, YEAR_END) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (JAN_31, "下个月", d(2, 28, 2027)),
        (JAN_31, "next month", d(2, 28, 2027)),
        (JAN_31, "一个月后", d(2, 28, 2027)),
        (JAN_31, "下下个月", d(3, 31, 2027)),
        (JAN_31, "月底", d(1, 31, 2027)),
        (JAN_31, "下个月底", d(2, 28, 2027)),
        (JAN_31, "31号", d(1, 31, 2027)),
        (LEAP_JAN_31, "下个月", d(2, 29, 2028)),
        (LEAP_JAN_31, "下个月底", d(2, 29, 2028)),
        (date(2026, 10, 31), "下个月", d(11, 30)),
        (date(2026, 12, 31), "下个月", d(1, 31, 2027)),
        (date(2026, 12, 31), "明天", d(1, 1, 2027)),
        (date(2027, 2, 1), "30号", d(3, 30, 2027)),  # February has no 30th
        (date(2026, 11, 30), "31号", d(12, 31)),  # nor November a 31st
    ],
)
def test_month_end_clamping(today: date, text: str, expected: date) -> None:
    assert parse_due_date(text, today) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "。",
        "随便",
        "不知道",
        "看情况",
        "下次",
        "上周三",  # the past
        "昨天",
        "前天",
        "3天前",
        "3日前",  # "three days ago", not "before the 3rd"
        "three days ago",
        "2025-01-01",  # explicit but past
        "2026年11月21日",
        "13月5日",
        "2月30日",
        "12/32",
        "2026-02-30",
        "0号",
        "32号",
        "周八",
        "十十天后",
        "两十天后",
        "9999个月后",
        "99999天后",
        "Dec 45",
        "someday",
        "next",
        "friday 5",
        "next year",
        "明天" * 40,  # far too long to be a date
        "李主任 泰山医院",
    ],
)
def test_unreadable_or_past_returns_none(text: str) -> None:
    assert parse_due_date(text, SUNDAY) is None


def test_never_raises_on_odd_input() -> None:
    for text in ["\x00", "\u200b", "🙂", "下周🙂", "1" * 64, "年月日", "-/-", "周", "月"]:
        assert parse_due_date(text, SUNDAY) is None


@pytest.mark.parametrize("text", DATE_EXAMPLES)
def test_every_documented_example_parses(text: str) -> None:
    parsed = parse_due_date(text, SUNDAY)
    assert parsed is not None and parsed >= SUNDAY
