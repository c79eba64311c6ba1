"""The inbox and outbox on SQLite and PostgreSQL: a stored message is run once, its replies
commit with its turn, and what a crash leaves is handed back in order, to its own worker at
once and to another only after the lease ran out."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from coach.engine import Engine
from coach.handover import HandedOver, hand_over, take_left_for
from coach.mailbox import Mailbox, Received, reply_body
from coach.messages import Attachment, Choice, Incoming, Reply
from coach.store.models import InboxMessage, OutboxReply
from tests.conftest import Clock

CHANNEL = "wecom"


def rows(engine: Engine, table: type[InboxMessage] | type[OutboxReply]) -> int:
    with engine.database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def said(user: str, key: str, text: str) -> Incoming:
    return Incoming(CHANNEL, user, text=text, message_id=key, display_name=user)


async def enrolled(engine: Engine, user: str) -> None:
    engine.enroll("王芳", wecom_user=user)


async def test_a_message_is_stored_once_and_its_replies_until_sent(engine: Engine) -> None:
    await enrolled(engine, "wangfang")
    box = Mailbox(engine, CHANNEL, "host:wecom:1")
    assert await box.receive("wangfang", "w1", "<xml>1</xml>") is Received.NEW
    assert await box.receive("wangfang", "w1", "<xml>1</xml>") is Received.KNOWN  # a retry
    assert rows(engine, InboxMessage) == 1

    result, replies = await box.handle("w1", said("wangfang", "w1", "/nosuch"))
    assert [r.reply.text for r in replies] == [r.text for r in result.replies]
    assert "没有 /nosuch 这个命令" in replies[0].reply.text
    assert rows(engine, InboxMessage) == 0  # gone with the turn that handled it
    assert rows(engine, OutboxReply) == len(replies) >= 1
    for reply in replies:
        await box.sent(reply)
    assert rows(engine, OutboxReply) == 0
    assert not await box.take_pending(at_start=True)  # nothing left to finish


async def test_replies_sent_at_the_same_moment_to_many_reps_all_leave_the_outbox(
        engine: Engine) -> None:
    """Rows of replies sent while another's is being deleted go in one delete together
    (`SentRows`); each rep's `sent` returns only once its own row is gone."""
    box = Mailbox(engine, CHANNEL, "host:wecom:1")
    users = [f"rep{n}" for n in range(12)]
    stored = []
    for user in users:
        await enrolled(engine, user)
        await box.receive(user, f"k-{user}", "<xml/>")
        stored += (await box.handle(f"k-{user}", said(user, f"k-{user}", "/nosuch")))[1]
    assert rows(engine, OutboxReply) == len(stored) >= len(users)

    await asyncio.gather(*(box.sent(reply) for reply in stored[:-1]))
    assert rows(engine, OutboxReply) == 1  # the one not sent yet stays
    await box.sent(stored[-1])
    assert rows(engine, OutboxReply) == 0


async def test_what_a_crash_left_goes_to_its_worker_at_once_and_to_others_later(
        engine: Engine, clock: Clock) -> None:
    await enrolled(engine, "wangfang")
    await enrolled(engine, "lina")
    first = Mailbox(engine, CHANNEL, "host:wecom:1")
    await first.receive("wangfang", "w1", "<xml>one</xml>")
    _, replies = await first.handle("w1", said("wangfang", "w1", "/nosuch"))
    await first.receive("lina", "w2", "<xml>two</xml>")  # acknowledged, then the kill

    other = Mailbox(engine, CHANNEL, "host:wecom:2")
    assert not await other.take_pending(at_start=False)  # the first worker may be alive
    restarted = Mailbox(engine, CHANNEL, "host:wecom:1")
    pending = await restarted.take_pending(at_start=True)
    assert [r.reply.text for r in pending.replies] == [r.reply.text for r in replies]
    assert all(r.recovered for r in pending.replies)
    assert [r.tag for r in pending.replies] == [r.tag for r in replies]  # same card task id
    assert [(m.message_key, m.user_id, m.payload) for m in pending.messages] == [
        ("w2", "lina", "<xml>two</xml>")]
    assert [user for user, _, _ in pending.by_user()] == ["wangfang", "lina"]

    # the restarted worker dies too: after the lease another worker takes everything
    clock.advance(minutes=6)
    taken = await other.take_pending(at_start=False)
    assert len(taken.replies) == len(replies) and len(taken.messages) == 1
    assert not await restarted.take_pending(at_start=True)  # now the other one's


async def test_an_attached_chart_survives_the_outbox(engine: Engine) -> None:
    chart = Attachment("风格.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "photo")
    reply = Reply("你的思维偏好", (Choice("q.1", "再测一次"),), chart)
    with engine.database.transaction() as session:
        session.add(OutboxReply(channel=CHANNEL, user_id="wangfang",
                                body=reply_body(reply, "abc123"), data=chart.data,
                                worker="host:wecom:1", lease_until=engine.clock(),
                                created_at=engine.clock()))
    pending = await Mailbox(engine, CHANNEL, "host:wecom:1").take_pending(at_start=True)
    [stored] = pending.replies
    assert (stored.reply, stored.tag, stored.recovered) == (reply, "abc123", True)


async def test_a_stopping_worker_hands_its_rows_to_the_next_pass_of_another(
        engine: Engine, clock: Clock) -> None:
    """A graceful stop releases what the worker holds (coach/handover.py): another worker's
    very next pass takes it, on the same clock reading, with no lease to wait out; a worker
    that first hears from one of those reps takes that rep's rows before the new message."""
    await enrolled(engine, "wangfang")
    await enrolled(engine, "lina")
    stopping = Mailbox(engine, CHANNEL, "host:wecom:1")
    await stopping.receive("wangfang", "w1", "<xml>one</xml>")
    _, replies = await stopping.handle("w1", said("wangfang", "w1", "/nosuch"))
    await stopping.receive("wangfang", "w2", "<xml>two</xml>")
    await stopping.receive("lina", "w3", "<xml>three</xml>")
    other = Mailbox(engine, CHANNEL, "host:wecom:2")
    assert not await other.take_pending(at_start=False)  # held by a live worker

    handed = await hand_over(stopping, interval=30)
    assert (handed.messages, handed.replies) == (2, len(replies))
    assert await hand_over(stopping, interval=30) == HandedOver(0, 0)  # nothing held now

    assert await other.receive("lina", "w4", "<xml>four</xml>") is Received.NEW
    lina = await take_left_for(other, "lina")  # lina's next message reached `other` first
    assert [m.message_key for m in lina.messages] == ["w3"] and not lina.replies
    pending = await other.take_pending(at_start=False)  # its next pass: the rest, in order
    assert [(r.user_id, r.reply.text) for r in pending.replies] == [
        ("wangfang", r.reply.text) for r in replies]
    assert [m.message_key for m in pending.messages] == ["w2"]
    assert await other.receive("wangfang", "w5", "<xml>five</xml>") is Received.NEW
    assert not await take_left_for(other, "wangfang")  # each taken once
    assert not await Mailbox(engine, CHANNEL, "host:wecom:3").take_pending(at_start=False)
