"""Days typed at a date question are read as days, the way reps say them: "元旦后第一个工作日",
"下周三下午", "月底前", "春节后", "3天后", "12月20号". Holidays come from a table kept as data
(`coach/holidays.yaml`: 元旦 every 1 January, 春节 and its days off for 2026-2028). Text that is
truly no day is quoted back and the question asked again, its buttons as they were.

The clock starts on Sunday 22 November 2026, Beijing time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from coach.dates import parse_due_date
from coach.store.database import Database
from coach.testing import MemoryChat

NOTE = "市一院心内科李主任说想看数据"


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def beijing_day(stored: Any) -> date:
    """The Beijing day a stored UTC instant falls on (SQLite gives text, PostgreSQL a datetime)."""
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment + timedelta(hours=8)).date()


def later(chat: MemoryChat) -> str:
    """Log a visit, ask for the next step, and put it off: "什么时候再提这条？"."""
    chat.say(NOTE)
    chat.press("✅ 保存")
    chat.press("看下一步建议")
    return MemoryChat.text(chat.press("⏳ 稍后"))


DAYS = [
    ("元旦后第一个工作日", "1月4日", "2027-01-04"),
    ("元旦后", "1月4日", "2027-01-04"),
    ("下周三下午", "11月25日", "2026-11-25"),
    ("月底前", "11月30日", "2026-11-30"),
    ("春节后", "2月15日", "2027-02-15"),
    ("过完年", "2月15日", "2027-02-15"),
    ("3天后", "11月25日", "2026-11-25"),
    ("12月20号", "12月20日", "2026-12-20"),
    ("元旦前", "12月31日", "2026-12-31"),
]


@pytest.mark.parametrize(("typed", "shown", "iso"), DAYS)
def test_a_day_typed_for_later_puts_the_suggestion_off_until_then(
        chat: MemoryChat, database: Database, typed: str, shown: str, iso: str) -> None:
    assert "什么时候再提这条？" in later(chat)
    assert f"好，先放着，{shown}再提。" in MemoryChat.text(chat.say(typed))
    (until,) = rows(database, "SELECT snoozed_until FROM suggestions")[0]
    assert beijing_day(until) == date.fromisoformat(iso)


def test_a_day_too_far_for_later_is_refused_with_the_limit(chat: MemoryChat) -> None:
    later(chat)
    shown = MemoryChat.text(chat.say("明年5月1号"))
    assert "没看懂这个日期：「明年5月1号」" in shown
    shown = MemoryChat.text(chat.say("5月1号"))
    assert "要选1天后到90天后之间的日子（最晚2月20日）。" in shown
    assert [c.label for c in chat.choices()] == ["明天", "下周", "两周后"]
    assert "好，先放着，11月29日再提。" in MemoryChat.text(chat.say("下周日"))


def test_text_that_is_no_day_is_quoted_back_and_the_question_stays(
        chat: MemoryChat) -> None:
    later(chat)
    shown = MemoryChat.text(chat.say("等他开完会"))
    assert "「等他开完会」看不出是哪一天，没有当作日期记。" in shown
    assert "什么时候再提这条？" in shown
    assert [c.label for c in chat.choices()] == ["明天", "下周", "两周后"]
    assert "好，先放着，11月29日再提。" in MemoryChat.text(chat.say("2"))  # 下周 is 7 days


@pytest.mark.parametrize(("typed", "shown"), [
    ("元旦后第一个工作日", "⏰ 跟进：2027年1月4日 周一"),
    ("春节后", "⏰ 跟进：2027年2月15日 周一"),
    ("春节前", "⏰ 跟进：2027年2月4日 周四"),
    ("下周三下午", "⏰ 跟进：11月25日 周三"),
    ("月底前", "⏰ 跟进：11月30日 周一"),
    ("3天后", "⏰ 跟进：11月25日 周三"),
    ("12月20号", "⏰ 跟进：12月20日 周日"),
])
def test_a_day_typed_as_the_follow_up_date_is_the_date(
        chat: MemoryChat, database: Database, typed: str, shown: str) -> None:
    chat.say(NOTE)
    chat.press("📅 加跟进日期")
    proposal = MemoryChat.text(chat.say(typed))
    assert "📝 这样记下？" in proposal and shown in proposal
    assert "先记下这条" not in proposal  # a day, not a note kept aside
    chat.press("✅ 保存")
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(1,)]


def test_no_day_at_the_follow_up_question_is_said_so(chat: MemoryChat) -> None:
    chat.say(NOTE)
    chat.press("📅 加跟进日期")
    shown = MemoryChat.text(chat.say("等他开完会再说"))
    assert "没看懂这个日期：「等他开完会再说」看不出是哪一天" in shown
    assert "哪天跟进？" in shown
    assert "⏰ 跟进：11月25日 周三" in MemoryChat.text(chat.say("下周三"))


def test_a_holiday_in_a_note_stays_words_until_the_rep_gives_the_day(
        chat: MemoryChat) -> None:
    """In a note "元旦后再联系" or "春节前没空" is as often someone's availability as a plan:
    no reminder is guessed from it; typed at "哪天跟进？" it is the day."""
    shown = MemoryChat.text(chat.say("市一院心内科李主任说进药要等明年，元旦后再联系"))
    assert "⏰ 不设跟进提醒" in shown
    chat.press("📅 加跟进日期")
    assert "⏰ 跟进：2027年1月4日 周一" in MemoryChat.text(chat.say("元旦后"))


@pytest.mark.parametrize(("typed", "today", "day"), [
    ("春节后", date(2026, 2, 18), date(2026, 2, 24)),  # in the days off: after them
    ("春节", date(2027, 1, 20), date(2027, 2, 6)),
    ("年前", date(2027, 12, 1), date(2028, 1, 24)),
    ("after CNY", date(2027, 12, 1), date(2028, 2, 2)),
    ("元旦后第一个工作日", date(2027, 12, 1), date(2028, 1, 3)),
    ("春节后", date(2029, 3, 1), None),  # a year the table does not hold: asked again
    ("节后", date(2026, 11, 22), None),  # which holiday? no guess
    ("年", date(2026, 11, 22), None),
])
def test_holidays_come_from_the_table(typed: str, today: date, day: date | None) -> None:
    assert parse_due_date(typed, today) == day
