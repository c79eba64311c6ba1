"""A safety report in the part of a note about someone else the rep met is that person's
(trial E finding 5): "周主任……另外吴医生也在，她说有个病人……起皮疹" filed the report under
周主任, whose card then held it and whose tip warned about it. It now waits, unfiled and
shown in /today, until the rep logs the visit for 吴医生, and is filed under her then.
A report in the customer's own part is filed under him as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat

TWO_PEOPLE = ("仁济心内周主任，他说我们的药已经在科里常规用了，合适的病人基本都上。"
              "另外吴医生也在，她说有个病人用了我们的药以后全身起皮疹，已经停药了")


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def report_owner(database: Database) -> list[Any]:
    return rows(database, "SELECT a.name FROM adverse_events e "
                          "LEFT JOIN accounts a ON a.id = e.account_id")


def test_a_report_about_the_other_person_waits_for_her_visit(chat: MemoryChat,
                                                             database: Database) -> None:
    assert "🚨 可能的不良事件" in MemoryChat.text(chat.say(TWO_PEOPLE))
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "说的是吴医生，没有记在这位客户名下" in saved, saved
    assert "已记下周主任的拜访" in saved
    assert report_owner(database) == [(None,)]

    chat.press("📝 也给吴医生记一条")
    filed = MemoryChat.text(chat.press("新建：吴医生 · 仁济 · 心内科"))
    assert "这条记录已关联不良事件报告" in filed, filed
    assert "已记下吴医生的拜访" in filed
    assert report_owner(database) == [("吴医生",)]
    assert "（吴医生）" in MemoryChat.text(chat.say("/today"))


def test_a_report_waiting_for_the_other_persons_visit_stays_in_sight(
        chat: MemoryChat, database: Database) -> None:
    chat.say(TWO_PEOPLE)
    chat.press("✅ 保存")
    today = MemoryChat.text(chat.say("/today"))  # the rep never logs 吴医生's visit
    assert "全身起皮疹" in today and "请在" in today, today
    assert report_owner(database) == [(None,)]


def test_a_report_in_the_customers_own_part_is_his(chat: MemoryChat,
                                                   database: Database) -> None:
    chat.say("仁济心内周主任说有个病人用了我们的药以后全身起皮疹，已经停药了。另外吴医生也在，"
             "她对价格有顾虑")
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "这条记录已关联不良事件报告" in saved, saved
    assert "说的是吴医生" not in saved
    assert report_owner(database) == [("周主任",)]
