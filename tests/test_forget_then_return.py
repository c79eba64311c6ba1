"""After /forget the person may write again (trial D 12: "hi" silently made a new account).
They are told their data was erased, their message was not kept (a safety report is), and
asked whether to start again: a button where accounts are made on first contact, a new code
from the manager elsewhere. Rep says X, bot answers Y, store holds Z (SQLite and
PostgreSQL)."""

from __future__ import annotations

from typing import Any

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_access import enrolled, log
from tests.test_safety_records import rows

ERASED = "你在 RepCoach 的数据之前已按你的要求删除"


def forgotten(chat: MemoryChat) -> None:
    """A rep with a visit logged, who then erased everything."""
    log(chat, "泰山医院李主任 想先试几个病人")
    chat.say("/forget")
    assert "已删除" in MemoryChat.text(chat.press("确定删除"))


def reps(database: Database) -> list[Any]:
    return rows(database, "SELECT name, active FROM reps ORDER BY id")


def test_hi_after_forget_asks_before_a_new_account_is_made(
        chat: MemoryChat, database: Database) -> None:
    forgotten(chat)
    told = MemoryChat.text(chat.say("hi"))
    assert ERASED in told and "刚才这条消息没有保存" in told and "要重新开始吗" in told
    assert [c.label for c in chat.choices()] == ["🔄 重新开始"]
    assert reps(database) == [("", False)]  # nobody enrolled by "hi"
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(0,)]
    again = MemoryChat.text(chat.say("还在吗"))  # asked again, still nothing made
    assert ERASED in again and reps(database) == [("", False)]
    welcome = MemoryChat.text(chat.press("重新开始"))
    assert "欢迎" in welcome or "RepCoach" in welcome
    assert reps(database) == [("", False), (chat.display_name, True)]
    assert rows(database, "SELECT COUNT(*) FROM accounts") == [(0,)]  # a new, empty account
    # enrolled again: the next message is a note, not the erased notice
    assert ERASED not in MemoryChat.text(chat.say("人民医院王主任 聊了指南"))


def test_the_console_answers_start_again_by_its_number(chat: MemoryChat,
                                                      database: Database) -> None:
    forgotten(chat)
    chat.say("hi")
    chat.say("1")  # the console shows buttons as a numbered list
    assert reps(database) == [("", False), (chat.display_name, True)]


def test_an_adverse_event_sent_after_forget_is_kept_as_a_report(
        chat: MemoryChat, database: Database) -> None:
    forgotten(chat)
    told = MemoryChat.text(chat.say("李主任说有个病人用了我们的药后起了荨麻疹"))
    assert "🚨" in told and "荨麻疹" in told and "作为不良事件报告留存" in told
    assert ERASED in told and "刚才这条消息没有保存" not in told
    assert rows(database, "SELECT r.active, e.status, e.source FROM adverse_events e "
                          "JOIN reps r ON r.id = e.rep_id") == [
        (False, "open", "sent after the data was erased")]
    assert reps(database) == [("", False)]


def test_where_a_code_is_needed_the_erased_rep_is_told_to_ask_for_one(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    forgotten(rep)
    [told] = rep.say("hi")
    assert ERASED in told.text and "请向经理要一个新的开通码" in told.text
    assert not told.choices  # no button: an account needs the manager's code here
    code = engine.enroll("林晓", team="east")
    assert "开通成功" in MemoryChat.text(rep.say(f"/start {code}"))
    assert ERASED not in MemoryChat.text(rep.say("hi"))
    assert rows(database, "SELECT COUNT(*) FROM identities WHERE channel = 'erased'") == [(0,)]


def test_menu_after_forget_tells_first_and_makes_no_account(chat: MemoryChat,
                                                            database: Database) -> None:
    """Trial G: /menu after /forget quietly made a new account, though /forget had said the
    fingerprint is kept so that would not happen."""
    forgotten(chat)
    told = MemoryChat.text(chat.say("/menu"))
    assert ERASED in told and "要重新开始吗" in told, told
    assert reps(database) == [("", False)]
    assert "RepCoach" in MemoryChat.text(chat.say("/start"))  # opening the bot anew is a yes
    assert reps(database) == [("", False), (chat.display_name, True)]
