"""Parts of a month and of the year as reps type them, read by the one date parser that
/plan's date questions and the notes share: "明年3月底", "下个月中", "年底", "3月初" (the third
new-rep trial, finding 10: /plan answered "没看懂这个日期" to 明年3月底). Rep says X, bot
answers Y; SQLite and PostgreSQL for the conversation.
"""

from __future__ import annotations

from datetime import date

import pytest

from coach.capture.followup import find_followup
from coach.capture.lexicon import Lexicon
from coach.dates import parse_due_date
from coach.testing import MemoryChat

TODAY = date(2026, 12, 7)  # a Monday


@pytest.mark.parametrize(("typed", "day"), [
    ("明年3月底", date(2027, 3, 31)),
    ("3月底", date(2027, 3, 31)),
    ("3月初", date(2027, 3, 1)),
    ("明年三月初", date(2027, 3, 1)),
    ("12月中旬", date(2026, 12, 15)),
    ("6月份中", date(2027, 6, 15)),
    ("4月下旬", date(2027, 4, 21)),
    ("下个月中", date(2027, 1, 15)),
    ("月中", date(2026, 12, 15)),
    ("年底", date(2026, 12, 31)),
    ("今年年底", date(2026, 12, 31)),
    ("明年年底", date(2027, 12, 31)),
    ("明年底", date(2027, 12, 31)),
    ("明年初", date(2027, 1, 1)),
    ("年初", date(2027, 1, 1)),
    ("下个月底", date(2027, 1, 31)),
])
def test_parts_of_a_month_or_year_are_a_day(typed: str, day: date) -> None:
    assert parse_due_date(typed, TODAY) == day


@pytest.mark.parametrize("typed", ["13月底", "上个月底", "去年年底", "下旬", "3月"])
def test_what_names_no_day_ahead_is_not_read(typed: str) -> None:
    assert parse_due_date(typed, TODAY) is None


def test_plan_takes_next_years_month_end(chat: MemoryChat) -> None:
    chat.say("瑞金心内科王主任嫌贵，让我下周三带III期数据再去")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/plan 王主任")
    chat.press("试用")
    reply = MemoryChat.text(chat.say("明年3月底"))
    assert "没看懂这个日期" not in reply
    assert "目标：2027-03-31 前推进到「试用」" in reply  # the clock starts on 2026-11-22
    # what is already booked with him is in the plan too (finding 7)
    assert "⏰ 已约的跟进：2026-11-25 · 带III期数据再去" in reply


@pytest.mark.parametrize(("note", "day", "action"), [
    ("明年3月底再去一次", date(2027, 3, 31), "再去一次"),
    ("王主任说3月底前把资料给他", date(2027, 3, 31), "把资料给他"),
    ("年底前再拜访一次", date(2026, 12, 31), "拜访一次"),
    ("12月底前送过去", date(2026, 12, 31), "送过去"),
    ("月底约科会", date(2026, 12, 31), "约科会"),
])
def test_notes_read_them_alike(lexicon: Lexicon, note: str, day: date, action: str) -> None:
    """"3月底" in a note is the end of March, not the end of this month."""
    found = find_followup(lexicon, note, TODAY)
    assert (found.due, found.action) == (day, action)
