"""PostgreSQL going away under a running bot: the rep is told nothing was saved, nothing
half-done is stored, and the bot carries on by itself once the server is back.

Each test runs its own throwaway server (tests/support/postgres.py), so stopping it disturbs
no other test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coach.engine import Engine
from coach.library import Library
from coach.messages import Incoming
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.store.models import Conversation, QuizResult
from coach.testing import MemoryChat
from coach.turn.result import Outcome, TurnResult
from tests.support.postgres import ServerControl, controlled_postgres


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, ServerControl]]:
    with controlled_postgres(tmp_path) as (url, control):
        upgrade(url)
        yield url, control


def _quiz_position(database: Database) -> tuple[str | None, int]:
    with database.transaction() as session:
        step, seq = session.execute(select(Conversation.step, Conversation.seq)).one()
        return step, int(seq)


NOTHING_SAVED = "抱歉，系统暂时出了点问题，这条消息没有保存。请过一分钟再发一次。"


def test_server_down_says_saved_nothing_then_recovers_without_restart(
        server: tuple[str, ServerControl], library: Library) -> None:
    url, control = server
    database = Database(url)
    chat = MemoryChat(Engine(database, library))
    chat.say("/quiz")
    chat.press_nth(0)  # past the introduction: question 1 of 18
    question = chat.choices()
    before = _quiz_position(database)

    control.stop()
    replies = chat.press_key(question[0].key)
    assert MemoryChat.text(replies) == NOTHING_SAVED

    control.start()
    assert _quiz_position(database) == before  # the failed answer left nothing behind
    replies = chat.press_key(question[0].key)  # the same button, pressed again
    assert "2/18" in MemoryChat.text(replies)
    database.dispose()


def test_a_restart_between_turns_costs_the_rep_nothing(
        server: tuple[str, ServerControl], library: Library) -> None:
    """The pooled connection died with the restart; the turn runs again on a new one
    instead of answering "saved nothing" (this replaces pinging before every turn)."""
    url, control = server
    database = Database(url)
    chat = MemoryChat(Engine(database, library))
    chat.say("/quiz")
    chat.press_nth(0)
    control.stop()
    control.start()
    replies = chat.press_nth(1)
    assert "2/18" in MemoryChat.text(replies)
    for _ in range(17):
        chat.press_nth(2)
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(QuizResult)).scalar_one() == 1
    database.dispose()


async def test_channels_path_survives_a_restart_and_an_outage(
        server: tuple[str, ServerControl], library: Library) -> None:
    """The same through `Engine.handle`, the path Telegram and WeCom use (on PostgreSQL it
    runs on SQLAlchemy's asyncio pool, not the synchronous one)."""
    url, control = server
    database = Database(url)
    engine = Engine(database, library)

    async def press(key: str) -> TurnResult:
        return await engine.handle(Incoming("memory", "rep-7", button=key))

    def text(result: TurnResult) -> str:
        return MemoryChat.text(list(result.replies))

    opened = await engine.handle(Incoming("memory", "rep-7", text="/quiz"))
    await press(opened.replies[-1].choices[0].key)
    question = await engine.handle(Incoming("memory", "rep-7", opened=True))
    control.stop()
    control.start()
    restarted = await press(question.replies[-1].choices[0].key)
    assert "2/18" in text(restarted) and restarted.ok  # restart: run again, no loss
    second = await engine.handle(Incoming("memory", "rep-7", opened=True))
    control.stop()
    down = await press(second.replies[-1].choices[0].key)
    assert text(down) == NOTHING_SAVED
    assert down.outcome is Outcome.NOT_SAVED  # the channel keeps the keyboard for a retry
    control.start()
    assert "3/18" in text(await press(second.replies[-1].choices[0].key))
    await database.aclose()
