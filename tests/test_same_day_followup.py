"""A next step set for today ("今天下午再过去一趟送资料") is made by the visit being saved, so
that visit is not its follow-up: it stays open and /today shows it as due. Trial D finding 3:
it was stored as done at once (the "a visit closes what was due" step closed it too).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_a_step_for_this_afternoon_stays_open_and_is_due_today(chat: MemoryChat,
                                                               database: Database) -> None:
    proposal = MemoryChat.text(chat.say("市一院心内科李主任说下午有空 今天下午再过去一趟送资料"))
    assert "过去一趟送资料" in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT action, status FROM followups") == [
        ("过去一趟送资料", "open")]
    today = MemoryChat.text(chat.say("/today"))
    assert "李主任" in today
    assert "过去一趟送资料" in today


def test_a_visit_still_closes_the_step_that_was_due_before_it(chat: MemoryChat,
                                                              database: Database) -> None:
    chat.say("市一院心内科李主任说下午有空 今天下午再过去一趟送资料")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("市一院心内科李主任 资料送到了 她说下周五再聊")
    chat.press("✅ 保存")
    assert rows(database, "SELECT action, status FROM followups ORDER BY id") == [
        ("过去一趟送资料", "done"), ("再聊", "open")]
