"""The next step keeps what is sent and to whom, however the note orders it: "把指南下周发给她"
is 把指南发给她 (not 发给她), "周五带资料给王主任" is 带资料给王主任 (not 带资料给), and a
note in 李主任's log that names 王主任 only as whom the step goes to is still 李主任's.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


@pytest.mark.parametrize(("note", "shown", "action"), [
    ("市一院心内科李主任说把指南下周五发给她", "⏰ 跟进：11月27日 周五 · 把指南发给她",
     "把指南发给她"),
    ("市一院心内科李主任要的文献明天发给她", "⏰ 跟进：11月23日 周一 · 文献发给她", "文献发给她"),
    ("市一院心内科李主任 项目说明书下周二送过去", "⏰ 跟进：11月24日 周二 · 项目说明书送过去",
     "项目说明书送过去"),
    ("市一院心内科李主任说周五带资料给王主任", "⏰ 跟进：11月27日 周五 · 带资料给王主任",
     "带资料给王主任"),
    ("市一院心内科李主任 会议纪要明天转给王主任", "⏰ 跟进：11月23日 周一 · 会议纪要转给王主任",
     "会议纪要转给王主任"),
    ("市一院心内科李主任说下周三把会议通知发给王主任和张主任",
     "⏰ 跟进：11月25日 周三 · 把会议通知发给王主任和张主任", "把会议通知发给王主任和张主任"),
    ("Met Prof Lin, cardio, Renji. Bring the dosing card to Dr Wang on Friday",
     "⏰ 跟进：11月27日 周五 · Bring the dosing card to Dr Wang",
     "Bring the dosing card to Dr Wang"),
])
def test_the_step_keeps_its_object_and_person(chat: MemoryChat, database: Database,
                                              note: str, shown: str, action: str) -> None:
    proposal = MemoryChat.text(chat.say(note))
    assert shown in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT action FROM followups") == [(action,)]


def test_a_step_for_someone_else_stays_in_the_customers_log(chat: MemoryChat,
                                                             database: Database) -> None:
    chat.say("市一院心内科李主任说想看数据")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/accounts")
    chat.press("李主任")
    assert "和李主任的这次拜访怎么样？" in MemoryChat.text(chat.press("记录拜访"))
    proposal = MemoryChat.text(chat.say("周五带资料给王主任"))
    assert "👤 李主任 · 市一院 · 心内科" in proposal
    assert "⏰ 跟进：11月27日 周五 · 带资料给王主任" in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT name FROM accounts") == [("李主任",)]
    assert rows(database, "SELECT account_id, action FROM followups") == [(1, "带资料给王主任")]


def test_moving_a_step_to_another_day_keeps_what_it_was(chat: MemoryChat,
                                                        database: Database) -> None:
    chat.say("市一院心内科李主任说下周五把指南发给她")
    chat.press("✅ 保存")
    chat.press("完成")
    proposal = MemoryChat.text(chat.say("市一院心内科李主任 明天发给她"))
    assert "⏰ 跟进：11月23日 周一 · 把指南发给她" in proposal
    assert "↪️ 之前11月27日的跟进（把指南发给她）改到这天" in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT due_date, action, status FROM followups ORDER BY id") == [
        ("2026-11-27", "把指南发给她", "replaced"), ("2026-11-23", "把指南发给她", "open")]
