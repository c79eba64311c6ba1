"""What reps say in passing is caught (trial misses): a patient's symptom the doctor plays
down ("头有点晕但是量血压正常，她觉得问题不大") starts the safety-report clock, and a dinner or a
gift beside a promise of more prescriptions ("请王主任吃了顿饭，他说下个月多开点") is flagged as
a kickback. A patient plainly on a competitor's drug, an academic-meeting dinner without a
promise, and a promise without any benefit stay quiet.
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


@pytest.mark.parametrize("note", [
    "市一院心内科李主任说有个吃我们药的病人头有点晕但是量血压正常，她觉得问题不大",
    "市一院心内科李主任说有个用我们药的阿姨这两天说不太舒服，估计没啥事",
    "市一院心内科李主任说有个病人吃我们药以后说不太舒服，后来自己好了",
    "市一院心内科李主任说一个病人吃我们的药后有点心慌，心电图正常，让他先观察",
    "市一院心内科李主任说有患者反映我们的药有点不良，具体没细说",
])
def test_a_symptom_played_down_is_still_a_report(chat: MemoryChat, database: Database,
                                                 note: str) -> None:
    shown = MemoryChat.text(chat.say(note))
    assert "🚨 可能的不良事件" in shown and "上报时钟已开始" in shown
    assert [status for (status,) in rows(database, "SELECT status FROM adverse_events")] \
        == ["open"]
    chat.press("✅ 保存")
    assert len(rows(database, "SELECT id FROM adverse_events")) == 1


def test_a_symptom_without_the_product_asks_and_the_clock_runs(chat: MemoryChat,
                                                               database: Database) -> None:
    shown = MemoryChat.text(chat.say(
        "市一院心内科李主任说有个病人说头有点晕但是量血压正常，她觉得问题不大"))
    assert "这是不是患者用了我们的药之后发生的" in shown
    assert rows(database, "SELECT status FROM adverse_events") == [("unconfirmed",)]


@pytest.mark.parametrize("note", [
    "市一院心内科李主任说有个用竞品的病人头晕得厉害，想换成我们的药",
    "市一院心内科李主任说他们科用别家的药的病人有点恶心，问我们的药胃肠道反应怎么样",
    "市一院心内科李主任说这个月门诊头晕的病人特别多，想了解我们药的适应症",
])
def test_a_competitors_patient_or_a_question_is_no_report(chat: MemoryChat,
                                                          database: Database,
                                                          note: str) -> None:
    shown = MemoryChat.text(chat.say(note))
    assert "不良事件" not in shown and "上报时钟" not in shown
    assert rows(database, "SELECT id FROM adverse_events") == []


@pytest.mark.parametrize("note", [
    "晚上请省立医院呼吸科王主任吃了顿饭，他说下个月多开点",
    "昨晚和省立医院呼吸科王主任吃了个饭，我买的单，他答应多用我们的药",
    "Took Dr. Wang of Provincial Hospital to dinner last night, he promised to prescribe more "
    "of our drug",
    "Had drinks with Dr. Chen at Renji, I picked up the tab, and he said he'll switch more "
    "patients to ours",
])
def test_a_meal_beside_a_promise_of_prescriptions_is_a_kickback(
        chat: MemoryChat, database: Database, note: str) -> None:
    shown = MemoryChat.text(chat.say(note))
    flagged = next(line for line in shown.splitlines() if line.startswith("⚠️ 这段话涉及："))
    assert "回扣/返点" in flagged, shown  # with 礼品/招待 too where the rep says they paid
    assert "⏰ 不设跟进提醒" in shown  # no reminder from the sentence of the promise
    chat.press("✅ 保存")
    assert rows(database, "SELECT flags FROM notes")[0][0] is not None
    assert any("kickback" in str(categories)
               for (categories,) in rows(database, "SELECT categories FROM compliance_records"))


@pytest.mark.parametrize("note", [
    "省立医院呼吸科王主任，参加省年会晚宴和几个主任坐一桌，聊了聊指南更新",
    "省立医院呼吸科王主任说下个月会多开点，他觉得患者依从性好",
    "省立医院呼吸科王主任，中午在食堂碰到一起吃饭，聊了孩子升学的事",
])
def test_a_meal_or_a_promise_alone_is_no_kickback(chat: MemoryChat, database: Database,
                                                 note: str) -> None:
    shown = MemoryChat.text(chat.say(note))
    assert "这段话涉及" not in shown
    assert rows(database, "SELECT id FROM compliance_records") == []
