"""The engine's contract with every channel: one shape in, clear replies out, state in the store."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import func, select

from coach.engine import Engine
from coach.library import Library
from coach.messages import Incoming
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.store.models import Account, Conversation, FollowUp, Note
from coach.testing import MemoryChat
from coach.turn.result import Outcome

ROOT = Path(__file__).resolve().parent.parent


def count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_engine_imports_no_channel_code() -> None:
    offenders = []
    for path in (ROOT / "coach").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in ("bot", "telegram", "aiohttp")]
    assert offenders == []


def test_unknown_command_keeps_the_question_waiting(chat: MemoryChat) -> None:
    chat.say("/quiz")
    question = chat.choices()
    replies = chat.say("/frobnicate")
    assert "/frobnicate" in MemoryChat.text(replies)
    assert chat.press_key(question[0].key)  # the quiz's buttons still work


def test_stale_forged_and_malformed_buttons_change_nothing(chat: MemoryChat,
                                                           database: Database) -> None:
    chat.say("/quiz")
    old = chat.choices()[0].key
    chat.press_key(old)  # answers the intro; `old` is now stale
    with database.transaction() as session:
        before = session.execute(select(Conversation.step, Conversation.seq)).one()
    for key in (old, "999.1", "abc", "", "r999.d", "1." + "9" * 80):
        replies = chat.press_key(key)
        assert len(replies) == 1 and replies[0].toast
        assert "按钮" in replies[0].text
    with database.transaction() as session:
        assert session.execute(select(Conversation.step, Conversation.seq)).one() == before


def test_empty_and_huge_messages_get_a_clear_answer(chat: MemoryChat, database: Database,
                                                    settings: EngineSettings) -> None:
    chat.say("/menu")
    assert MemoryChat.text(chat.say("   \x00\x07 "))  # only control chars: empty
    huge = "李主任" * settings.max_text_chars
    reply = MemoryChat.text(chat.say(huge))
    assert str(settings.max_text_chars) in reply
    assert count(database, Note) == 0


def test_redelivered_message_is_handled_once(chat: MemoryChat, database: Database) -> None:
    chat.say("/log")
    first = chat.say("李主任 泰山医院 说想看老年亚组数据", message_id="tg-42")
    again = chat.say("李主任 泰山医院 说想看老年亚组数据", message_id="tg-42")
    assert first and again == []
    assert chat.results[-1].outcome is Outcome.DUPLICATE
    chat.press("保存")
    assert count(database, Note) == 1


def test_free_text_becomes_a_note_after_confirming_the_customer(chat: MemoryChat,
                                                                database: Database) -> None:
    chat.say("/menu")
    replies = chat.say("王主任 人民医院")  # typed at the menu: taken as a visit note
    assert "王主任" in MemoryChat.text(replies)
    assert count(database, Note) == 0  # proposed, not saved until the rep confirms
    chat.press("保存")
    with database.transaction() as session:
        assert session.execute(select(Note.text)).scalars().all() == ["王主任 人民医院"]


def test_cancel_works_inside_any_step_and_saves_nothing(chat: MemoryChat,
                                                        database: Database) -> None:
    chat.say("/log")
    chat.say("赵医生 人民医院，下周三再去")
    chat.press("改日期")  # inside the date question the proposal led to
    assert "取消" in MemoryChat.text(chat.say("/cancel"))
    assert count(database, Note) == 0
    assert count(database, Account) == 0 and count(database, FollowUp) == 0
    assert "没有" in MemoryChat.text(chat.say("/cancel"))


def test_locked_database_says_saved_nothing_and_recovers(library: Library,
                                                         tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/coach.sqlite3?timeout=0.2"
    upgrade(url)
    engine = Engine(Database(url), library)
    assert engine.handle_sync(Incoming("memory", "rep-9", text="/menu")).replies[-1].choices
    blocker = sqlite3.connect(tmp_path / "coach.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        result = engine.handle_sync(Incoming("memory", "rep-9", text="/quiz"))
        assert [r.text for r in result.replies] == [
            "抱歉，系统暂时出了点问题，这条消息没有保存：「/quiz」。请过一分钟再发一次。"]
        assert result.outcome is Outcome.NOT_SAVED
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    result = engine.handle_sync(Incoming("memory", "rep-9", text="/quiz"))
    assert result.ok and result.replies[-1].choices  # the same engine works again, no restart


def test_one_reps_messages_run_in_order(engine: Engine, database: Database) -> None:
    """Five button presses arriving at once, each for the question the previous one leads
    to: processed strictly in arrival order, every one is accepted."""

    async def scenario() -> list[list[str]]:
        first = await engine.handle(Incoming("memory", "ordered", text="/quiz"))
        start = int(first.replies[-1].choices[0].key.split(".")[0])
        presses = [Incoming("memory", "ordered", button=f"{start + n}.0", message_id=f"p{n}")
                   for n in range(5)]
        results = await asyncio.gather(*(engine.handle(p) for p in presses))
        return [[r.text for r in result.replies if r.toast] for result in results]

    toasts = asyncio.run(scenario())
    assert toasts == [[]] * 5
    with database.transaction() as session:
        state = session.execute(select(Conversation.engine)).scalar_one()
        assert len(state["answers"]) == 5
