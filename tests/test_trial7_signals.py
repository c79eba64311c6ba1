"""Session 7's trial G, findings 1, 2, 6 and 13, as the rep meets them (scripts, MemoryChat):
low use is no 采纳; a wrong note hint put right with /stage is no move back; no follow-up
from the sentence of a quid pro quo; a meal the rep pays for a doctor is flagged; a
comparison asked of us is no competitor concern. The categories are measured on
tests/data/trial7_*.yaml (tests/test_stage_decline.py, tests/test_flagged_sentence_steps.py,
the guard and capture measures)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat
from testkit.clock import Clock

AWARENESS = ("知道，但没表现出兴趣", "什么都没要过", "还没谈到这一步", "还没用过", "还谈不上",
             "礼貌，但没兴趣", "从没听他提过", "没有明显变化")


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_low_use_proposes_no_adoption(chat: MemoryChat, database: Database) -> None:
    shown = MemoryChat.text(chat.say(
        "省人民医院药剂科孙主任 说我们产品在院内用量小，不考虑增加规格，另外反映上批货有包装破损"))
    assert "采纳" not in shown, shown
    shown = MemoryChat.text(chat.say("/cancel"))
    shown = MemoryChat.text(chat.say("华西心内科马主任 用得少了，不想再加病人"))
    assert "阶段：" not in shown, shown


def _stage_to_awareness(chat: MemoryChat, customer: str) -> str:
    chat.say("/stage")
    chat.say(customer)
    shown = ""
    for answer in AWARENESS:
        shown = MemoryChat.text(chat.press(answer))
    return shown + MemoryChat.text(chat.press("完成"))


def test_a_wrong_hint_put_right_is_no_move_back(chat: MemoryChat, database: Database) -> None:
    assert "→ 阶段：采纳？" in MemoryChat.text(chat.say("人民医院孙主任说合适的病人基本都开我们的"))
    chat.press("✅ 保存")
    chat.press("完成")
    put_right = _stage_to_awareness(chat, "孙主任")
    assert "不算倒退" in put_right and "往回退" not in put_right, put_right
    assert "一句话复盘" not in put_right
    assert rows(database, "SELECT previous_stage, stage FROM stage_history") == [
        (None, "awareness")]
    assert "危机预警" not in MemoryChat.text(chat.say("/today"))


def test_a_stage_lower_after_another_visit_is_a_move_back(chat: MemoryChat,
                                                          clock: Clock) -> None:
    assert "→ 阶段：采纳？" in MemoryChat.text(chat.say("人民医院孙主任说合适的病人基本都开我们的"))
    chat.press("✅ 保存")
    chat.press("完成")
    clock.advance(days=2)
    chat.say("人民医院孙主任 今天门诊很忙，只聊了五分钟")
    chat.press("✅ 保存")
    chat.press("完成")
    clock.advance(hours=1)
    moved = _stage_to_awareness(chat, "孙主任")
    assert "往回退" in moved and "不算倒退" not in moved, moved


def test_no_follow_up_from_the_sentence_of_a_kickback(chat: MemoryChat,
                                                      database: Database) -> None:
    shown = MemoryChat.text(chat.say(
        "省人民医院内分泌科赵主任 今晚请他和科里几个医生吃了顿饭，他说下个月会多用我们的药，"
        "让我1月5号再找他"))
    assert "回扣" in shown, shown
    assert "⏰ 不设跟进提醒" in shown and "1月5日" not in shown, shown


def test_a_meal_the_rep_pays_is_flagged_with_why(chat: MemoryChat) -> None:
    shown = MemoryChat.text(chat.say("今晚请华西内分泌科李主任吃了顿火锅，聊了聊DPP-4指南"))
    assert "⚠️ 这段话涉及：礼品/招待/现金" in shown and "⏰ 不设跟进提醒" in shown, shown
    chat.say("/cancel")
    clean = MemoryChat.text(chat.say("华西内分泌科王主任说没时间吃饭，门诊排到下午两点"))
    assert "⚠️" not in clean, clean


def test_a_comparison_asked_of_us_is_no_competitor_concern(chat: MemoryChat) -> None:
    shown = MemoryChat.text(chat.say(
        "华西药剂科刘主任 进药要等明年3月药事会，需要我们提供药物经济学数据 and 竞品对比"))
    assert "顾虑：竞品" not in shown, shown
