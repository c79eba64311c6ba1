"""The door: every typed text, in any state, is normalised and guarded before anything else.

An adverse event typed anywhere (mid-quiz, at a suggestion's buttons, in a visit note that is
then abandoned) is stored in the same turn, with its clock started, and the rep is told in
that same reply; nothing the rep does afterwards (/cancel, another command) removes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat
from coach.turn.door import normalise

NOTICE = "可能的不良事件"
AE_NOTE = "有个患者吃了我们的药后起了荨麻疹，张主任说的"


def reports(database: Database) -> list[dict[str, Any]]:
    with database.transaction() as session:
        return [dict(r) for r in session.execute(text(
            "SELECT e.account_id, a.name AS customer, e.note_id, e.phrase, e.report, "
            "e.source, e.status, e.day0, e.deadline FROM adverse_events e "
            "LEFT JOIN accounts a ON a.id = e.account_id ORDER BY e.id")).mappings()]


def count(database: Database, table: str) -> int:
    with database.transaction() as session:
        return int(session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


@pytest.fixture
def visited(chat: MemoryChat) -> Iterator[MemoryChat]:
    """A rep with one customer, 李主任 at 泰山医院, logged once."""
    chat.say("泰山医院心内科李主任说想先试几个病人，下周三带资料过去")
    chat.press("保存")
    yield chat


# normalising -------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "read"), [
    ("李\u200b主任\u200d说\ufeff好", "李主任说好"),  # zero-width space / joiner, BOM
    ("１３８ ０００", "138 000"),  # full-width digits
    ("见了李主任，他说：好！", "见了李主任，他说：好！"),  # Chinese punctuation stays as typed
    ("abc＠qq．com", "abc@qq.com"),  # inside an identifier it is read as ASCII
    ("\u202e倒\u202c序\x00\x07", "倒序"),  # bidi overrides and control characters
    ("第一行\n第二行", "第一行\n第二行"),  # new lines kept
])
def test_typed_text_is_normalised(typed: str, read: str) -> None:
    assert normalise(typed) == read


def test_zero_width_characters_do_not_hide_an_adverse_event(chat: MemoryChat,
                                                            database: Database) -> None:
    replies = chat.say("病人用药后\u200b出现\u200b皮\u200b疹")
    assert NOTICE in MemoryChat.text(replies)
    assert len(reports(database)) == 1


# adverse events at the door -----------------------------------------------------------------
def test_adverse_event_mid_quiz_is_reported_at_once_and_survives_cancel(
        chat: MemoryChat, database: Database) -> None:
    chat.say("/quiz")
    chat.press("开始")
    replies = chat.say(AE_NOTE)
    shown = MemoryChat.text(replies)
    assert replies[0].text.startswith("🚨") and NOTICE in shown
    assert "第 0 天 = 2026-11-22 10:00" in shown and "2026-11-23 10:00" in shown
    assert "记下拜访时会关联到客户" in shown
    assert "1/18" in shown  # the quiz question waits, with the note offered
    assert "📝 先记下这条" in [c.label for c in chat.choices()]
    [report] = reports(database)
    assert report["account_id"] is None and report["status"] == "open"
    assert "荨麻疹" in report["report"] and report["source"].startswith("quiz/")
    chat.say("/cancel")
    assert len(reports(database)) == 1
    assert reports(database)[0]["status"] == "open"


def test_adverse_event_at_a_suggestion_is_filed_under_that_customer(
        visited: MemoryChat, database: Database) -> None:
    visited.say("/next")
    visited.press("李主任")
    assert "采纳" in " ".join(c.label for c in visited.choices())
    replies = visited.say("对了李主任说有个病人用了以后肝功能异常，ALT升高")
    assert NOTICE in MemoryChat.text(replies)
    assert "已记在李主任名下" in MemoryChat.text(replies)
    [report] = reports(database)
    assert report["customer"] == "李主任"
    visited.say("/menu")
    assert len(reports(database)) == 1


def test_adverse_event_in_an_abandoned_note_is_kept(chat: MemoryChat,
                                                     database: Database) -> None:
    replies = chat.say(AE_NOTE)  # a new rep's first message: welcome, notice, proposal
    assert [NOTICE in r.text for r in replies] == [False, True, False]
    assert "这样记下？" in replies[2].text  # the note's proposal, in the same reply
    chat.say("/cancel")
    assert count(database, "notes") == 0 and count(database, "accounts") == 0
    [report] = reports(database)
    assert report["account_id"] is None and "荨麻疹" in report["report"]


def test_logging_the_note_files_the_report_under_the_customer(chat: MemoryChat,
                                                              database: Database) -> None:
    chat.say("泰山医院李主任说有个病人吃了我们的药以后起了皮疹")
    replies = chat.press("保存")
    assert "这条记录已关联不良事件报告" in MemoryChat.text(replies)
    [report] = reports(database)
    assert report["customer"] == "李主任" and report["note_id"] is not None
    assert count(database, "adverse_events") == 1  # one report, not one at the door and one more


def test_parked_note_with_an_adverse_event_keeps_one_report(chat: MemoryChat,
                                                            database: Database) -> None:
    chat.say("/quiz")
    chat.press("开始")
    chat.say(AE_NOTE)
    chat.press("先记下这条")
    replies = chat.press("保存")
    assert "这条记录已关联不良事件报告" in MemoryChat.text(replies)
    assert "回到：思维偏好自我反思" in " ".join(c.label for c in chat.choices())
    [report] = reports(database)
    assert report["customer"] == "张主任"
    back = chat.press("回到")
    assert "1/18" in MemoryChat.text(back)


def test_a_follow_up_text_is_guarded_too(visited: MemoryChat, database: Database) -> None:
    visited.say("赵主任说下周二再聊")
    visited.press("改日期")
    replies = visited.say("病人说吃了以后头晕得厉害")  # typed at the date question
    assert NOTICE in MemoryChat.text(replies)
    assert len(reports(database)) == 1


def test_a_huge_message_is_kept_with_its_adverse_event(
        chat: MemoryChat, database: Database) -> None:
    replies = chat.say("病人吃了我们的药以后出现皮疹。" + "记录" * 3000)
    shown = MemoryChat.text(replies)
    # kept whole to log or drop, not refused (trial G finding 9: tests/test_typed_input_kept.py)
    assert NOTICE in shown and "一个字没丢" in shown
    assert count(database, "notes") == 0 and len(reports(database)) == 1


def test_personal_data_never_reaches_the_conversation_row(chat: MemoryChat,
                                                         database: Database) -> None:
    chat.say("/quiz")
    chat.press("开始")
    chat.say("李主任手机13812345678，下周三约他，病人王某身份证11010519491231002X")
    with database.transaction() as session:
        stored = str(session.execute(text("SELECT vars, engine FROM conversations")).one())
    assert "13812345678" not in stored and "11010519491231002X" not in stored


def test_a_report_naming_another_doctor_is_not_filed_under_the_one_on_screen(
        visited: MemoryChat, database: Database) -> None:
    visited.say("/next")
    visited.press("李主任")
    replies = visited.say("中心医院呼吸科张医生说有个病人用了我们的药后出皮疹了")
    assert "记下拜访时会关联到客户" in MemoryChat.text(replies)
    [report] = reports(database)
    assert report["account_id"] is None  # not 李主任's: the text is about 张医生


def test_logging_a_visit_closes_the_customers_follow_ups_that_were_due(
        visited: MemoryChat, database: Database, clock: Any) -> None:
    clock.advance(days=4)  # 李主任's follow-up (下周三) is due
    visited.say("李主任说资料看了，还想要亚组数据")
    visited.press("保存")
    with database.transaction() as session:
        statuses = [s for (s,) in session.execute(text(
            "SELECT status FROM followups ORDER BY id"))]
    assert statuses == ["done"]
