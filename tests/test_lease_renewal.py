"""A live worker keeps the leases of what it is still sending; only a dead or hung worker's
rows run out and go to another worker (coach/mailbox.py, "A live worker keeps its leases").

On SQLite and PostgreSQL: the store-level rules with a clock the test moves, then the real
Telegram adapter sending a reply and a reminder that Telegram holds back (429, retry after
longer than the lease) while a second worker looks for expired rows all along: the rep gets
each once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.runner import Channel, outbox, send_due_reminders
from bot.server import WebhookServer
from bot.telegram import TelegramChannel
from coach.engine import Engine
from coach.library import Library
from coach.mailbox import Mailbox
from coach.messages import Incoming, Reply
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.store.models import Rep
from coach.store.repo import RepStore
from testkit.fakes.telegram_api import FakeTelegram
from testkit.telegram_support import TOKEN, Person, running_bot, telegram_config
from tests.conftest import Clock
from tests.test_reminder_passes import Recorder, reps_with_followups

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*attribute `retry_after` will be of type:DeprecationWarning")

CHANNEL = "wecom"
LEASE = timedelta(minutes=5)


def said(user: str, key: str, text: str) -> Incoming:
    return Incoming(CHANNEL, user, text=text, message_id=key, display_name=user)


async def test_renewed_rows_stay_a_failed_send_and_a_hung_worker_lose_them(
        engine: Engine, clock: Clock) -> None:
    engine.enroll("王芳", wecom_user="wangfang")
    alive = Mailbox(engine, CHANNEL, "host:wecom:1", lease=LEASE)
    other = Mailbox(engine, CHANNEL, "host:wecom:2", lease=LEASE)
    await alive.receive("wangfang", "w1", "<xml>1</xml>")
    _, replies = await alive.handle("w1", said("wangfang", "w1", "/nosuch"))
    await alive.receive("wangfang", "w2", "<xml>2</xml>")  # waiting behind the first
    assert alive.held == len(replies) + 1 >= 2

    clock.advance(minutes=4)
    assert await alive.renew() == len(replies) + 1
    clock.advance(minutes=4)  # past the first lease, inside the renewed one
    assert not await other.take_pending(at_start=False)

    alive.let_go([replies[0]])  # its send failed: it waits for its lease to run out
    clock.advance(minutes=4)
    assert await alive.renew() == len(replies)
    clock.advance(minutes=2)
    taken = await other.take_pending(at_start=False)
    assert [r.id for r in taken.replies] == [replies[0].id] and taken.messages == []

    clock.advance(minutes=6)  # the worker hung: nothing renewed for longer than a lease
    taken = await other.take_pending(at_start=False)
    assert [r.id for r in taken.replies] == [r.id for r in replies[1:]]
    assert [m.message_key for m in taken.messages] == ["w2"]
    assert await alive.renew() == 0 and alive.held == 0  # it forgets what it lost
    assert other.held == len(replies) + 1  # the new owner holds them


async def test_a_row_held_longer_than_any_send_takes_is_no_longer_renewed(
        engine: Engine, clock: Clock) -> None:
    """The safety net for a path that gave up on a row without letting go of it."""
    engine.enroll("王芳", wecom_user="wangfang")
    forgetful = Mailbox(engine, CHANNEL, "host:wecom:1", lease=LEASE, longest_hold=timedelta())
    await forgetful.receive("wangfang", "w1", "<xml>1</xml>")
    assert forgetful.held == 1
    assert await forgetful.renew() == 0 and forgetful.held == 0
    clock.advance(minutes=6)
    taken = await Mailbox(engine, CHANNEL, "host:wecom:2").take_pending(at_start=False)
    assert [m.message_key for m in taken.messages] == ["w1"]


async def test_claimed_reminders_are_held_from_their_commit_and_a_rollback_holds_nothing(
        engine: Engine, clock: Clock) -> None:
    reps_with_followups(engine, clock, reps=2, each=2)
    clock.advance(days=1)
    worker = Recorder(engine)
    claimed = engine.claim_reminders(["memory"], outbox({"memory": worker}))
    assert len(claimed) == 4 and worker.mailbox.held == 4
    await worker.send_stored(claimed[0].stored.user_id, [claimed[0].stored])
    assert worker.mailbox.held == 3

    lost = Mailbox(engine, "memory", "test:memory:2")
    with pytest.raises(RuntimeError), engine.database.transaction() as session:
        lost.post(session, "rep-0", Reply("never stored"))
        raise RuntimeError("the claim's transaction fails")
    assert lost.held == 0


# --- the real Telegram adapter, real time -------------------------------------------------

SHORT_LEASE = 2.0  # seconds
HELD_BACK = 4  # Telegram's retry_after, longer than the lease
WANG = 1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


@contextlib.asynccontextmanager
async def second_worker(fake: FakeTelegram, database: Database, library: Library
                        ) -> AsyncIterator[TelegramChannel]:
    """Another worker on the same database, taking over expired rows as fast as it can."""
    engine = Engine(Database(database.url), library, EngineSettings())
    config = telegram_config(fake, mode="webhook", secret_token="s", port=18999,
                             lease_seconds=SHORT_LEASE)
    channel = TelegramChannel(config, engine, WebhookServer())
    await channel.start()
    stop = asyncio.Event()

    async def poll() -> None:
        while not stop.is_set():
            await channel.recover()
            await asyncio.sleep(0.05)

    task = asyncio.create_task(poll())
    try:
        yield channel
    finally:
        stop.set()
        await task
        await channel.stop()
        await engine.database.aclose()


async def test_a_reply_and_a_reminder_held_back_longer_than_the_lease_arrive_once(
        fake: FakeTelegram, database: Database, library: Library) -> None:
    engine = Engine(database, library, EngineSettings())  # the real clock: leases run out
    async with running_bot(fake, engine, lease_seconds=SHORT_LEASE) as first, \
            second_worker(fake, database, library):
        wang = Person(fake, first, WANG)
        code = engine.enroll("王芳")
        assert await wang.say(f"/start {code}", expect=3)

        before = len(fake.messages_to(WANG))
        fake.fail_next("sendMessage", retry_after=HELD_BACK)
        answer = [m.text for m in await wang.say("/nosuch")]
        assert "/nosuch" in answer[0]
        await asyncio.sleep(SHORT_LEASE)  # the second worker looks once more after the lease
        assert [m.text for m in fake.messages_to(WANG)[before:]] == answer, \
            "\n".join(fake.transcript(WANG))

        with engine.database.transaction() as session:
            rep = session.query(Rep).one()
            store = RepStore(session, rep)
            account = store.create_account("李主任", "一院", None, engine.clock())
            store.add_followup(account, None, "送资料", "2026-11-23",
                               engine.clock() - timedelta(minutes=1), engine.clock())
        fake.fail_next("sendMessage", retry_after=HELD_BACK)
        channels: dict[str, Channel] = {"telegram": first}
        assert await send_due_reminders(engine, channels) == 1
        await asyncio.sleep(SHORT_LEASE)  # the second worker looks once more after the lease
    reminders = [m.text for m in fake.messages_to(WANG) if "送资料" in m.text]
    assert len(reminders) == 1, "\n".join(fake.transcript(WANG))
