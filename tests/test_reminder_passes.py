"""The reminder loop at company scale: a morning peak of follow-ups goes out in one pass, and
weekly nudges reach each rep once even with two workers passing at the same moment.

The channel is a recording stand-in (what it was asked to deliver, to whom); engine, store
and runner are the real ones.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.runner import Channel, outbox, send_due_reminders
from coach.engine import Engine
from coach.mailbox import Mailbox, StoredReply
from coach.messages import Reply
from coach.reminders import BATCH
from coach.store.database import Database
from coach.store.models import FollowUp, Rep
from coach.store.repo import RepStore
from coach.testing import MemoryChat
from tests.conftest import Clock


class Recorder:
    """Delivers nothing anywhere; remembers every reply it was handed, per rep. Its outbox
    is the real one (coach/mailbox.py), under a worker name of its own."""

    name = "memory"

    def __init__(self, engine: Engine, worker: str = "test:memory:1") -> None:
        self.mailbox = Mailbox(engine, "memory", worker)
        self.delivered: list[tuple[str, Reply]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, user_id: str, replies: list[Reply]) -> None:
        await self.send_stored(user_id, [StoredReply(None, user_id, r) for r in replies])

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None:
        for stored in replies:
            self.delivered.append((user_id, stored.reply))
            await self.mailbox.sent(stored)

    async def recover(self) -> None:
        """What each pass of the reminder loop does first: send what another worker left."""
        for stored in (await self.mailbox.take_pending(at_start=False)).replies:
            await self.send_stored(stored.user_id, [stored])


def reps_with_followups(engine: Engine, clock: Clock, reps: int, each: int) -> None:
    """`reps` reps (enrolled by their first message), each with `each` customers and one
    follow-up per customer due tomorrow morning."""
    for number in range(reps):
        MemoryChat(engine, user_id=f"rep-{number}").say("/menu")
    with engine.database.transaction() as session:
        for rep in session.query(Rep).all():
            store = RepStore(session, rep)
            for index in range(each):
                account = store.create_account(f"医生{index}", "一院", None, clock())
                store.add_followup(account, None, "再访", "2026-11-23",
                                   clock() + timedelta(days=1), clock())


async def test_a_morning_peak_goes_out_in_one_pass(engine: Engine, clock: Clock) -> None:
    reps_with_followups(engine, clock, reps=13, each=10)  # 130 follow-ups: over one batch
    assert BATCH < 130
    recorder = Recorder(engine)
    channels: dict[str, Channel] = {"memory": recorder}
    clock.advance(days=1)
    sent = await send_due_reminders(engine, channels)
    reminders = [reply for _, reply in recorder.delivered if reply.text.startswith("⏰")]
    assert len(reminders) == 130
    assert Counter(user for user, reply in recorder.delivered
                   if reply.text.startswith("⏰")) == {f"rep-{n}": 10 for n in range(13)}
    assert sent == len(recorder.delivered)
    with engine.database.transaction() as session:
        assert {f.status for f in session.query(FollowUp).all()} == {"sent"}
    assert await send_due_reminders(engine, channels) == 0  # nothing goes out twice


async def test_two_workers_nudge_each_rep_once(engine: Engine, database: Database,
                                               clock: Clock) -> None:
    reps_with_followups(engine, clock, reps=6, each=2)
    clock.advance(days=100)  # every customer is overdue for a fresh look
    other = Engine(Database(database.url), engine.library, engine.settings, clock=clock)
    first, second = Recorder(engine), Recorder(other, "test:memory:2")
    await asyncio.gather(send_due_reminders(engine, {"memory": first}),
                         send_due_reminders(other, {"memory": second}))
    nudged = Counter(user for recorder in (first, second) for user, reply in
                     recorder.delivered if reply.choices and reply.choices[-1].key == "n.s")
    assert nudged == {f"rep-{n}": 1 for n in range(6)}
    assert await send_due_reminders(engine, {"memory": first}) == 0  # next week, not now
    other.database.dispose()


class Refusing(Recorder):
    """A channel where one chat cannot be reached (the rep blocked the bot)."""

    def __init__(self, engine: Engine, unreachable: str) -> None:
        super().__init__(engine)
        self.unreachable = unreachable

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None:
        if user_id == self.unreachable:
            raise ConnectionError("blocked by the user")
        await super().send_stored(user_id, replies)


async def test_unreachable_reps_never_starve_the_others(engine: Engine, clock: Clock) -> None:
    """A batch full of reminders that cannot be delivered (a revoked rep's, a blocked chat's)
    once stopped every other rep's follow-ups and adverse-event reminders. The blocked rep's
    wait in the outbox and go out once the chat can be reached again."""
    reps_with_followups(engine, clock, reps=2, each=BATCH + 20)  # rep-0, rep-1: the oldest
    assert engine.revoke(rep_id=1)  # rep-0
    clock.advance(hours=1)
    newcomer = MemoryChat(engine, user_id="rep-new")
    newcomer.say("泰山医院李主任说有个病人用了我们的药后起了皮疹 明天再去")
    newcomer.press("✅ 保存")
    clock.advance(days=1)
    channel = Refusing(engine, unreachable="rep-1")
    await send_due_reminders(engine, {"memory": channel})
    reached = Counter(user for user, _ in channel.delivered)
    assert reached["rep-0"] == 0  # revoked: nothing sent, nothing in the way
    assert reached["rep-new"] == 2  # its follow-up and its adverse-event reminder
    assert reached["rep-1"] == 0
    await channel.recover()
    assert Counter(user for user, _ in channel.delivered)["rep-1"] == 0  # not straight away
    channel.unreachable = "nobody"  # the rep unblocked the bot
    clock.advance(minutes=31)
    await channel.recover()
    assert Counter(user for user, _ in channel.delivered)["rep-1"] == BATCH + 20
    assert await send_due_reminders(engine, {"memory": channel}) == 0  # each went out once
    await channel.recover()
    assert Counter(user for user, _ in channel.delivered)["rep-1"] == BATCH + 20


async def test_old_message_ids_are_forgotten_new_ones_still_deduplicate(
        engine: Engine, clock: Clock) -> None:
    """processed_messages once grew with every message ever received."""
    from coach.messages import Incoming
    from coach.store.models import ProcessedMessage

    def send(message_id: str) -> int:
        result = engine.handle_sync(Incoming("memory", "rep-9", text="/menu",
                                             message_id=message_id))
        return len(result.replies)

    assert send("old-1") > 0
    clock.advance(days=8)
    assert send("new-1") > 0
    assert engine.prune_processed() == 1
    with engine.database.transaction() as session:
        assert [m.message_key for m in session.query(ProcessedMessage).all()] == ["new-1"]
    assert send("new-1") == 0  # a redelivery of a recent message is still answered once


async def test_two_workers_passing_at_once_send_each_reminder_once(
        engine: Engine, database: Database, clock: Clock) -> None:
    """Before reminders were claimed, both passes read the same due follow-ups and both
    sent them."""
    reps_with_followups(engine, clock, reps=4, each=30)
    clock.advance(days=1)
    other = Engine(Database(database.url), engine.library, engine.settings, clock=clock)
    first, second = Recorder(engine), Recorder(other, "test:memory:2")
    await asyncio.gather(send_due_reminders(engine, {"memory": first}),
                         send_due_reminders(other, {"memory": second}))
    reminded = Counter((user, reply.text) for recorder in (first, second)
                       for user, reply in recorder.delivered if reply.text.startswith("⏰"))
    assert sum(reminded.values()) == 120 and set(reminded.values()) == {1}
    other.database.dispose()


async def test_reminders_claimed_by_a_worker_that_died_go_out_from_another(
        engine: Engine, database: Database, clock: Clock) -> None:
    """A worker that claimed a batch and died before sending it (killed right after the
    claim committed) leaves the reminders in the outbox under its name: another worker
    sends them once the lease has run out, not before, and only once."""
    reps_with_followups(engine, clock, reps=3, each=2)
    clock.advance(days=1)
    dead = Recorder(engine, "test:memory:dead")
    claimed = engine.claim_reminders(["memory"], outbox({"memory": dead}))
    assert len(claimed) == 6 and dead.delivered == []
    other = Engine(Database(database.url), engine.library, engine.settings, clock=clock)
    alive = Recorder(other, "test:memory:alive")
    assert await send_due_reminders(other, {"memory": alive}) == 0  # claimed: not again
    await alive.recover()
    assert alive.delivered == []  # the lease still runs
    clock.advance(minutes=6)
    await alive.recover()
    assert Counter(user for user, _ in alive.delivered) == {f"rep-{n}": 2 for n in range(3)}
    await alive.recover()
    assert await send_due_reminders(other, {"memory": alive}) == 0
    assert len(alive.delivered) == 6
    other.database.dispose()
