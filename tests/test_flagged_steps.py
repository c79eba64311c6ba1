"""No follow-up is taken from what the compliance guard flags (trial miss): "上次给他科室送了两千
块购物卡，他答应下个月多开我们的药" became "⏰ 提醒你跟进：上次给他科室送了两千块购物卡", a
reminder and a digest line coaching the kickback. The flagged clauses (and the promise that made
them one) propose no step; the rest of the note still does, and the flag is kept as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_a_kickback_is_no_step_to_follow_up(chat: MemoryChat, database: Database) -> None:
    shown = MemoryChat.text(chat.say(
        "市一院心内科李主任，上次给他科室送了两千块购物卡，他答应下个月多开我们的药"))
    assert "⚠️ 这段话涉及：礼品/招待/现金、回扣/返点" in shown
    assert "⏰ 不设跟进提醒" in shown
    assert "购物卡" not in shown.split("⏰", 1)[1].split("\n", 1)[0]
    chat.press("✅ 保存")
    assert rows(database, "SELECT action, due_date FROM followups") == []
    assert len(rows(database, "SELECT id FROM compliance_records")) >= 1


def test_a_dinner_for_prescriptions_is_no_step_either(chat: MemoryChat,
                                                      database: Database) -> None:
    shown = MemoryChat.text(chat.say("市一院心内科李主任，下周请他吃饭，他说下个月多开点"))
    assert "回扣/返点" in shown
    assert "⏰ 不设跟进提醒" in shown
    chat.press("✅ 保存")
    assert rows(database, "SELECT action FROM followups") == []


def test_the_rest_of_the_note_still_gives_its_step(chat: MemoryChat,
                                                   database: Database) -> None:
    shown = MemoryChat.text(chat.say(
        "市一院心内科李主任想看新版指南解读，周五给他送过去。"
        "上次请他吃了顿饭，他说下个月多开点"))
    assert "回扣/返点" in shown
    assert "⏰ 跟进：11月27日 周五 · 送过去" in shown
    chat.press("✅ 保存")
    assert rows(database, "SELECT action FROM followups") == [("送过去",)]
