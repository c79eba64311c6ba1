"""Nothing a rep types is lost or misread (trial G findings 7, 9 and 15).

* A message longer than a note is read for (2,000 characters) was thrown away ("消息太长了…
  挑重点再发一次"). It is kept whole, guarded whole (a safety report in its 2,300th
  character is taken), offered to log or drop; logged, the note stores every character.
* A button's label typed where the button is not ("撤销" after the undo button went,
  "完成" at no question) started a visit note ("📝 见了谁？"). It is answered: that button is
  not active here, nothing was done. Real short notes stay notes.
* No turn goes unanswered (/funnel's 完成 said nothing); a flow whose visit was saved is not
  put aside to be "returned to" (↩️ 回到：记录拜访, re-showing the saved visit); a
  mistyped command is not answered with /start (a new rep's code redemption).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from testkit.fakes.telegram_api import FakeTelegram
from testkit.telegram_support import TOKEN, Person, running_bot
from tests.team_support import USERS, enroll_team, write_history

LIMIT = 2000
VISIT = "华西内分泌科周主任，聊了DPP-4的老年病人数据，他挺感兴趣，下周三带指南解读再去。"
FILLER = "科室最近在做糖尿病规范化管理的项目，护士站也在配合做随访，病人依从性比以前好一些。"
EVENT = "另外他说有个病人用了我们的药以后出现严重低血糖，住院了"


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def long_note(length: int, *, tail: str = "") -> str:
    body = VISIT + FILLER * (length // len(FILLER) + 1)
    return body[:length - len(tail)] + tail


# ---- finding 9: a long message is kept, not thrown away -------------------------------------

def test_a_long_message_is_kept_and_logged_whole(chat: MemoryChat, database: Database) -> None:
    note = long_note(2400)
    said = MemoryChat.text(chat.say(note))
    assert "太长了" not in said, said
    assert "2400 字" in said and "一个字没丢" in said, said
    assert "现在记下吗" in said
    proposal = MemoryChat.text(chat.press("现在记下"))
    assert "周主任" in proposal, proposal
    saved = MemoryChat.text(chat.press("保存"))
    assert "已记下周主任的拜访" in saved, saved
    [(stored,)] = rows(database, "SELECT text FROM notes")
    assert len(stored) == len(note) and stored.endswith(note[-30:])


def test_a_safety_report_late_in_a_long_message_is_taken(chat: MemoryChat,
                                                         database: Database) -> None:
    note = long_note(2500, tail=EVENT)
    assert note.index("低血糖") > 2300
    said = MemoryChat.text(chat.say(note))
    assert "🚨" in said and "低血糖" in said, said
    assert len(rows(database, "SELECT id FROM adverse_events")) == 1
    chat.press("现在记下")
    chat.press("保存")
    assert rows(database, "SELECT a.name FROM adverse_events e "
                          "JOIN accounts a ON a.id = e.account_id") == [("周主任",)]


def test_a_long_message_dropped_keeps_its_report(chat: MemoryChat, database: Database) -> None:
    chat.say(long_note(3000, tail=EVENT))
    dropped = MemoryChat.text(chat.press("不记了"))
    assert "不良事件报告已单独保存" in dropped, dropped
    assert rows(database, "SELECT count(*) FROM notes") == [(0,)]
    assert len(rows(database, "SELECT id FROM adverse_events")) == 1


def test_a_long_message_mid_question_is_kept_beside_it(chat: MemoryChat) -> None:
    chat.say("/quiz")
    said = MemoryChat.text(chat.say(long_note(2200)))
    assert "一个字没丢" in said, said
    assert any("先记下这条" in c.label for c in chat.choices()), chat.choices()


def test_english_long_message_is_kept(chat: MemoryChat) -> None:
    chat.say("/lang")
    chat.press("English")
    said = MemoryChat.text(chat.say("Met Dr Zhou at Huaxi endocrinology. " * 70))
    assert "nothing is lost" in said and "too long" not in said, said


# ---- finding 7: a button's label typed where the button is not -----------------------------

@pytest.mark.parametrize("typed", ["撤销", "完成", "返回", "保存", "跳过", "取消", "不记了",
                                   "确定删除", "Done", "undo", "Skip"])
def test_a_button_word_with_no_button_is_no_visit_note(chat: MemoryChat, database: Database,
                                                       typed: str) -> None:
    chat.say("/menu")
    chat.say("/cancel")
    said = MemoryChat.text(chat.say(typed))
    assert "📝 见了谁？" not in said and "这样记下" not in said, said
    assert f"「{typed}」是按钮上的字" in said, said


def test_undo_typed_after_the_undo_button_went(chat: MemoryChat, database: Database) -> None:
    chat.say("省人民医院心内科王主任说有个病人用了我们的药后出现低血糖，头晕出汗")
    chat.say("/cancel")
    said = MemoryChat.text(chat.say("撤销"))
    assert "按钮上的字" in said and "📝 见了谁？" not in said, said
    assert len(rows(database, "SELECT id FROM adverse_events")) == 1


@pytest.mark.parametrize("note", ["王主任说太贵", "见了李主任", "张主任不在", "周主任有兴趣",
                                  "Dr Wang said it's too expensive"])
def test_short_real_notes_are_still_notes(chat: MemoryChat, note: str) -> None:
    said = MemoryChat.text(chat.say(note))
    assert "按钮上的字" not in said, said
    assert "📝" in said, said  # a proposal, or which customer: a note either way


def test_a_button_word_on_screen_still_presses_it(chat: MemoryChat,
                                                  database: Database) -> None:
    chat.say(VISIT)
    saved = MemoryChat.text(chat.say("保存"))
    assert "已记下周主任的拜访" in saved, saved
    assert "好，去忙吧" in MemoryChat.text(chat.say("完成"))


# ---- finding 15: leftover and silent states -------------------------------------------------

def test_every_funnel_answer_gets_a_reply(engine: Engine) -> None:
    chats = enroll_team(engine)
    write_history(engine)
    manager = chats["赵经理"]
    manager.say("/funnel")
    assert MemoryChat.text(manager.say("完成")).strip(), "no reply to 完成"
    manager.say("/funnel")
    assert MemoryChat.text(manager.press("完成")).strip()


def test_a_saved_visit_is_not_put_aside_to_come_back_to(chat: MemoryChat,
                                                        database: Database) -> None:
    chat.say(VISIT)
    chat.press("保存")  # the saved visit's menu (下一步 / 诊断 / 完成) waits
    chat.say("/quiz")  # a note typed mid-question is kept
    chat.say("华西心内科马主任说科里病人多，想了解一下我们的患者随访项目")
    chat.say("/cancel")
    chat.say(VISIT.replace("周主任", "钱主任"))
    done = MemoryChat.text(chat.press("保存"))
    labels = [c.label for c in chat.choices()]
    if any("先记下这条" in label for label in labels):
        chat.press("先记下这条")
        done = MemoryChat.text(chat.press("保存"))
        labels = [c.label for c in chat.choices()]
    assert not any("回到" in label for label in labels), (done, labels)
    again = MemoryChat.text(chat.press("完成"))
    assert "已记下钱主任的拜访" not in again and "回到刚才" not in again, again


def test_a_saved_visit_menu_with_a_kept_note(chat: MemoryChat, database: Database) -> None:
    """Trial G: the note kept at the flagged question was logged from the saved visit's
    menu; that menu was put aside, and every later menu offered to go back to it."""
    chat.say("/quiz")
    chat.say("华西心内科马主任说科里病人多，想了解一下我们的患者随访项目")
    chat.say("/cancel")
    chat.say(VISIT)
    chat.press("保存")
    chat.press("先记下这条")
    chat.press("保存")
    labels = [c.label for c in chat.choices()]
    assert not any("回到" in label for label in labels), labels
    again = MemoryChat.text(chat.press("完成"))
    assert "已记下周主任的拜访" not in again, again
    assert rows(database, "SELECT count(*) FROM notes") == [(2,)]


def test_a_mistyped_command_does_not_offer_start(chat: MemoryChat) -> None:
    chat.say("/menu")
    said = MemoryChat.text(chat.say("/stats"))
    assert "/start" not in said, said
    assert not any("/start" in c.label for c in chat.choices())


# ---- the Telegram path: a message of up to 4,096 characters reaches the engine whole --------

async def test_a_long_message_through_telegram_is_kept_and_logged(engine: Engine) -> None:
    enroll_team(engine)
    note = long_note(3000, tail=EVENT)
    fake = FakeTelegram(token=TOKEN)
    await fake.start()
    try:
        async with running_bot(fake, engine) as bot:
            rep = Person(fake, bot, USERS["王芳"], "王芳")
            await rep.say(note, expect=2)
            said = rep.transcript()
            assert "3000 字" in said and "一个字没丢" in said and "低血糖" in said, said
            await rep.press("记下")  # 现在记下, or 先记下这条 beside an open menu
            await rep.press("保存")
            assert "已记下周主任的拜访" in rep.transcript()
    finally:
        await fake.close()
    with engine.database.transaction() as session:
        stored = [t for (t,) in session.execute(text("SELECT text FROM notes")).all()]
        assert [len(t) for t in stored if t.startswith(VISIT[:10])] == [len(note)], stored
        assert session.execute(text(
            "SELECT a.name FROM adverse_events e JOIN accounts a ON a.id = e.account_id"
        )).all() == [("周主任",)]
