"""A number shown as a choice always means that choice, even when the message arrives late.

A worker stopped during a rolling release hands the messages it had not run to another
worker (coach/handover.py); meanwhile the rep may have gone on and seen a newer list. A "1"
typed at the older list ("✅ 保存" a visit) must not pick entry 1 of the newer one (the menu's
"记录拜访"). WeCom and Telegram say when a message was sent (`Incoming.sent_at`): a number
sent before the list now on screen was shown is answered plainly ("that answered an earlier
question") with the current question again, and nothing is saved or changed. A number sent
after it, or one without a sent time (the console), works as it always did.

The clock starts on Sunday 22 November 2026; every turn here is a minute after the last.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from coach.engine import Engine
from coach.messages import Incoming, Reply
from coach.store.conversation import EngineState
from coach.store.database import Database
from coach.testing import MemoryChat
from testkit.clock import Clock

NOTE = "市一院心内科李主任说想看数据"
EARLIER = "这个编号是回复之前那个问题的"
MENU = "想做什么？"


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def typed(engine: Engine, words: str, sent_at: datetime | None, key: str) -> list[Reply]:
    """What the rep typed, handled now, sent when `sent_at` says (by the platform's clock)."""
    result = engine.handle_sync(Incoming("memory", "rep-1", text=words, message_id=key,
                                         display_name="测试代表", sent_at=sent_at))
    return list(result.replies)


def note_card_then_menu(chat: MemoryChat, clock: Clock) -> datetime:
    """The rep logs a note (its card: 1 ✅ 保存), then opens the menu a minute later.
    Returns when the card was on screen, before the menu replaced it."""
    chat.say(NOTE)
    assert chat.choices()[0].label == "✅ 保存"
    card_time = clock.now
    clock.advance(minutes=1)
    assert MENU in MemoryChat.text(chat.say("/menu"))
    clock.advance(minutes=5)
    return card_time


def test_a_late_one_meant_for_an_older_list_is_not_applied_to_the_menu(
        chat: MemoryChat, engine: Engine, clock: Clock, database: Database) -> None:
    card_time = note_card_then_menu(chat, clock)
    before = rows(database, "SELECT playbook, step, seq FROM conversations")

    # the "1" sent at the card (to save the visit), handled five minutes after the menu
    got = typed(engine, "1", card_time + timedelta(seconds=20), "late-1")
    assert EARLIER in got[0].text and not got[0].choices
    assert MENU in got[-1].text  # the current question again, its buttons as they were
    assert got[-1].choices[0].label == "📝 记录拜访"
    assert rows(database, "SELECT count(*) FROM notes") == [(0,)]
    assert rows(database, "SELECT count(*) FROM accounts") == [(0,)]
    assert rows(database, "SELECT playbook, step, seq FROM conversations") == before

    # the rep reads it and answers the menu: entry 1 is what it says
    got = typed(engine, "1", clock.now, "timely-1")
    assert "发生了什么？" in got[0].text


def test_a_timely_number_still_picks_from_the_list_on_screen(
        chat: MemoryChat, engine: Engine, clock: Clock, database: Database) -> None:
    chat.say(NOTE)
    clock.advance(minutes=1)
    typed(engine, "1", clock.now - timedelta(seconds=30), "save-1")  # sent at the card
    assert rows(database, "SELECT count(*) FROM notes") == [(1,)]


def test_the_same_list_shown_again_still_means_what_it_meant(
        chat: MemoryChat, engine: Engine, clock: Clock, database: Database) -> None:
    """Opening the chat shows the waiting card again, the same choices: a "1" typed at it
    before the reopening still saves the visit."""
    chat.say(NOTE)
    clock.advance(seconds=30)
    sent = clock.now
    clock.advance(minutes=1)
    again = chat.open()
    assert again[-1].choices[0].label == "✅ 保存"
    clock.advance(minutes=1)
    typed(engine, "1", sent, "before-reopen")
    assert rows(database, "SELECT count(*) FROM notes") == [(1,)]


def test_without_a_sent_time_a_number_is_read_as_today(
        chat: MemoryChat, clock: Clock, database: Database) -> None:
    """The console sends no time: its numbers pick from the list on screen, as before."""
    note_card_then_menu(chat, clock)
    got = chat.say("1")
    assert "发生了什么？" in got[0].text


def test_a_stored_state_from_before_still_loads() -> None:
    """Conversations saved before `shown_at` was kept: the list loads, with no time."""
    state = EngineState.load({"shown": [{"key": "c.1.a", "label": "✅ 保存"}]})
    assert [c.label for c in state.shown] == ["✅ 保存"] and state.shown_at is None
    state.shown_at = datetime(2026, 11, 22, 2, 0)
    assert EngineState.load(state.dump()).shown_at == datetime(2026, 11, 22, 2, 0)
