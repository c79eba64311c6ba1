"""A worker stopping on purpose hands what it still holds to the others at once.

A worker owns the inbox and outbox rows it wrote for a lease (coach/mailbox.py), so that no
other worker handles a live one's messages twice. A worker stopped with SIGTERM in a rolling
release never starts again under its name: without a hand-over, the messages it received but
had not run, and the replies it had not sent, would wait the whole lease (5 minutes) while the
rep's newer messages, reaching other workers, were answered first.

So a graceful stop, once its turn in progress is finished (or given up after a short grace),
releases every row it holds: owner `RELEASED`, lease ended (`BACKDATE`). Any worker takes
them at its next pass (`Mailbox.take_pending`, every `reminder_interval`), and a worker that
gets a newer message of the same rep first takes that rep's left rows before it
(`take_left_for`; the insert that stores that message asks whether there are any), so the
rep's order holds. A row released is never lost: it stays in the store until some worker has
run or sent it, this one included at its next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from coach.mailbox import RELEASED, Mailbox, Pending
from coach.store.models import InboxMessage, OutboxReply

__all__ = ["HandedOver", "hand_over", "take_left_for"]

log = logging.getLogger(__name__)

#: A released row's lease is dated this far back: the store's clock has whole seconds, and
#: another host's clock may run a little behind ours; either way the row is free at once.
BACKDATE = timedelta(minutes=1)


@dataclass(frozen=True)
class HandedOver:
    """What a stopping worker released: messages whose turn had not run, replies not sent."""

    messages: int
    replies: int

    def __bool__(self) -> bool:
        return bool(self.messages or self.replies)


def _release(session: Session, mailbox: Mailbox) -> HandedOver:
    expired = mailbox.engine.clock() - BACKDATE
    counts = []
    for table in (InboxMessage, OutboxReply):
        result = session.execute(
            update(table).where(table.channel == mailbox.channel,
                                table.worker == mailbox.worker)
            .values(worker=RELEASED, lease_until=expired)
            .execution_options(synchronize_session=False))
        counts.append(int(getattr(result, "rowcount", 0) or 0))
    return HandedOver(messages=counts[0], replies=counts[1])


async def hand_over(mailbox: Mailbox, *, interval: float) -> HandedOver:
    """Release every row `mailbox`'s worker holds and say so in one log line. Call it after
    the channel stopped taking messages and its turns are finished or cancelled.
    `interval` is how often a worker looks for released rows (its reminder pass)."""
    try:
        handed = await mailbox.engine.database.run_in_transaction(_release, mailbox)
    except SQLAlchemyError as exc:  # the rows stay this worker's: its lease runs out later
        log.warning("%s stopping: messages and replies not handed over (%s); other workers "
                    "take them once the lease runs out, or this worker at its next start",
                    mailbox.channel, exc.__class__.__name__)
        return HandedOver(0, 0)
    if not handed:
        log.info("%s stopping: nothing left to hand over", mailbox.channel)
    elif mailbox.engine.database.is_sqlite:  # SQLite: one worker (docs/deploy.md)
        log.warning("%s stopping: %d messages and %d replies not finished; they go out at "
                    "the next start", mailbox.channel, handed.messages, handed.replies)
    else:
        log.warning("%s stopping: %d messages and %d replies handed over to the other "
                    "workers (taken at their next pass, within %g s; with no other worker, "
                    "at the next start)", mailbox.channel, handed.messages, handed.replies,
                    interval)
    return handed


async def take_left_for(mailbox: Mailbox, user_id: str) -> Pending:
    """A rep's rows another worker released or left behind (its lease ran out), claimed for
    this worker: the caller finishes them before the rep's newer message, holding the rep's
    lock. Whether there are any was asked by the insert that stored that message
    (`Mailbox.receive`), so the common case (nothing left) costs nothing here; nothing is
    claimed when the store cannot be read: the rep's next message, or the next pass, takes
    them."""
    if not mailbox.left_seen(user_id):
        return Pending()
    try:
        pending = await mailbox.engine.database.run_in_transaction(mailbox.claim_user, user_id)
    except SQLAlchemyError as exc:
        log.warning("%s: rows left for %s not taken: %s", mailbox.channel, user_id,
                    exc.__class__.__name__)
        mailbox.left_unclaimed(user_id)
        return Pending()
    mailbox.hold(pending)
    return pending
