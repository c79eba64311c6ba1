"""A note about patients plainly NOT on our product ("没用我们药的那几个病人控制不好", "用竞品的
病人效果不好") reports nothing about our product and starts no safety report. Anything less
plain is still a report (a report needs only a doubt): the patient stopped ours, did not take
it on time, or the same clause also puts a patient on ours. Real events in new words are
reports as before. Nothing here can unflag or delete a report; there is no such path.
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


def reports(database: Database) -> list[str]:
    return [r for (r,) in rows(database, "SELECT report FROM adverse_events")]


@pytest.mark.parametrize("note", [
    "市一院心内科李主任说不用我们药的病人控制不好",
    "市一院心内科李主任说没上我们药的病人都控制不住，用了别的药还是高",
    "市一院心内科李主任说那几个没用我们药的患者服药后血糖还是很高",
    "市一院心内科李主任说吃我们药的病人都达标，吃别的药的病人效果不好",
    "市一院心内科李主任说没用过我们药的病人血糖还是很高",
    "市一院心内科李主任说用其他药的病人效果不好，想换成我们的",
    "Dr Li at City Hospital said patients not on our drug did not respond",
])
def test_patients_plainly_not_on_our_product_start_no_report(
        chat: MemoryChat, database: Database, note: str) -> None:
    shown = MemoryChat.text(chat.say(note))
    assert "不良事件" not in shown and "上报时钟" not in shown
    chat.press("✅ 保存")
    assert reports(database) == []
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(1,)]


@pytest.mark.parametrize("note", [
    # doubt: the patient was on ours, stopped it or took it badly
    "市一院心内科李主任说有个病人没按时吃我们的药，效果不好",
    "市一院心内科李主任说有几个病人不吃我们的药，效果不好",
    "市一院心内科李主任说有个病人停了我们的药以后病情加重，住院了",
    # not ours in one clause, ours in the next: that one is a report
    "市一院心内科李主任说没用我们药的病人效果不好，用我们药的有个病人也没效果",
    "市一院心内科李主任说没用我们药的病人效果不好 用我们药的那个病人也没效果",
    "市一院心内科李主任说没用我们药的那几个病人病情加重了，住院了",
    # real events and lack of effect in new words
    "市一院心内科李主任说在用我们药的有个病人血压还是很高",
    "市一院心内科李主任说有个病人用了我们的药两周后效果不好",
    "市一院心内科李主任说有个病人用我们的药以后肝功能异常",
    "Dr Li at City Hospital said patients not on our drug did not respond, and one patient "
    "on our drug also had no response",
])
def test_a_doubt_or_a_real_event_is_still_a_report(chat: MemoryChat, database: Database,
                                                   note: str) -> None:
    shown = MemoryChat.text(chat.say(note))
    assert "不良事件" in shown
    assert len(reports(database)) == 1
    chat.press("✅ 保存")
    assert len(reports(database)) == 1
