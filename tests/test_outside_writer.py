"""Another program holding SQLite's write lock (a backup, a migration, an admin's sqlite3
shell) must not freeze the bot: turns run on the event loop, so a turn waiting in SQLite's
busy handler would stall every rep, the health check and every WeCom acknowledgement.

Here an outside connection holds the lock for four seconds while the bot (lock wait: one
second) serves WeCom: the health check answers at once, the callback is acknowledged within
WeCom's five seconds, the rep is told nothing was saved and to send again, and once the lock
is gone the same rep is served normally."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from coach.engine import Engine
from coach.library import Library
from coach.store.database import Database, StoreUnavailable
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.wecom_support import (
    Rep,
    card_text,
    has_card,
    joined,
    running_channel,
    wecom_settings,
)

HOLD_SECONDS = 4.0


@pytest.fixture
def sqlite_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "coach.sqlite3"
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture
def quick_engine(sqlite_file: Path, library: Library) -> Iterator[Engine]:
    database = Database(f"sqlite:///{sqlite_file}?timeout=1")
    yield Engine(database, library, wecom_settings())
    database.dispose()


def hold_write_lock(path: Path, seconds: float, taken: asyncio.Event,
                    loop: asyncio.AbstractEventLoop) -> None:
    """The outside program: takes the write lock and sits on it (in a thread)."""
    outside = sqlite3.connect(path, isolation_level=None)
    try:
        outside.execute("BEGIN IMMEDIATE")
        outside.execute("UPDATE reps SET name = name")
        loop.call_soon_threadsafe(taken.set)
        time.sleep(seconds)
        outside.execute("COMMIT")
    finally:
        outside.close()


async def test_a_locked_database_answers_the_rep_and_blocks_nobody(
        quick_engine: Engine, sqlite_file: Path) -> None:
    async with WecomSimulator() as sim, running_channel(quick_engine, sim) as channel:
        rep = Rep(sim, "wangfang", channel)
        await rep.say("/help")  # enrolled on first contact; the store works

        taken = asyncio.Event()
        loop = asyncio.get_running_loop()
        holder = asyncio.create_task(asyncio.to_thread(
            hold_write_lock, sqlite_file, HOLD_SECONDS, taken, loop))
        await taken.wait()
        started = loop.time()
        health = sim.callback_url.replace("/wecom/callback", "/healthz")
        async with aiohttp.ClientSession() as http:
            ticks = 0

            async def ticker() -> None:  # the event loop keeps running meanwhile
                nonlocal ticks
                while not holder.done():
                    ticks += 1
                    await asyncio.sleep(0.05)

            ticking = asyncio.create_task(ticker())
            status = await sim.send_text("wangfang", "泰山医院李主任说有个病人用药后出现皮疹")
            acknowledged = loop.time() - started
            async with http.get(health) as response:
                assert (response.status, await response.text()) == (200, "ok")
            healthy = loop.time() - started
            got = await rep.settle(until=lambda got: any("没有保存" in (m.content or "")
                                                         for m in got))
            told = loop.time() - started
            await holder
            await ticking

        assert ticks >= (HOLD_SECONDS - 0.5) / 0.05 * 0.6  # the loop never stalled
        assert status == 200 and acknowledged < 3.0  # inside WeCom's 5 s
        assert healthy < acknowledged + 0.5
        assert told < HOLD_SECONDS  # told while the lock is still held
        said = joined(got)  # what was not saved is quoted back, and why it matters
        assert ("这条消息没有保存：「泰山医院李主任说有个病人用药后出现皮疹」。"
                "请过一分钟再发一次") in said
        assert "🚨 这条像是不良事件报告，但还没有记录下来" in said
        assert "24 小时内直接报告药物警戒部门" in said

        # the lock is gone: the rep sends again and is served
        got = await rep.say("泰山医院李主任同意下周科室会", until=has_card)
        assert "👤 李主任 · 泰山医院（新客户）" in card_text(rep.last_card())


async def test_store_work_on_the_loop_gives_up_when_locked(sqlite_file: Path) -> None:
    database = Database(f"sqlite:///{sqlite_file}?timeout=0.5")
    taken = asyncio.Event()
    loop = asyncio.get_running_loop()
    holder = asyncio.create_task(asyncio.to_thread(hold_write_lock, sqlite_file, 1.5, taken,
                                                   loop))
    await taken.wait()
    started = loop.time()
    with pytest.raises(StoreUnavailable):
        await database.run_in_transaction(
            lambda session: session.execute(text("UPDATE reps SET name = name")))
    assert 0.4 < loop.time() - started < 1.2
    await holder
    database.dispose()

