"""Moving a note to another customer from /accounts takes its safety report along, never
silently (the corrections helper's finding, 2026-12-07): the report is filed under the right
customer, the manager's and pharmacovigilance's label names him, the report records the
move beside what was written, and the reply says so with the deadline still to meet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_a_moved_note_takes_its_report_along_and_says_so(chat: MemoryChat,
                                                         database: Database) -> None:
    chat.say("仁济心内刘医生说对我们的药挺感兴趣，下周三再去")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("仁济心内王主任说有个病人用了我们的药以后全身起皮疹，已经停药了")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/accounts")
    chat.press("王主任")
    chat.press("移动/删除记录")
    chat.press_nth(0)  # the note with the report
    chat.press("移到其他客户")
    moved = MemoryChat.text(chat.press("刘医生"))
    assert "已移到刘医生名下" in moved, moved
    assert "🚨 不良事件报告「" in moved and "也改到刘医生名下" in moved
    assert "前转交药物警戒部门" in moved
    [(customer, report)] = rows(database, "SELECT customer, report FROM adverse_events")
    assert customer.startswith("刘医生"), customer
    assert "起皮疹" in report and "【代表改了客户" in report and "从王主任名下移到刘医生名下" \
        in report
    assert rows(database, "SELECT a.name FROM adverse_events e JOIN accounts a "
                          "ON a.id = e.account_id") == [("刘医生",)]
