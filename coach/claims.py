"""Background messages claimed once across workers: reminders, escalations, nudges, digests.

Every worker runs the same background pass (bot/runner.py). Without a claim, two workers
passing at the same moment both read the same due row, both send it, and only then mark it:
the rep gets the reminder twice, a manager the escalation three times. So a pass takes its
work in one transaction that

1. reads the due rows through `due_rows` — `FOR UPDATE SKIP LOCKED` on PostgreSQL, so a
   second worker skips the rows a first one holds instead of waiting for them and then
   sending them again; on SQLite the transaction holds the database's only write lock
   (`BEGIN IMMEDIATE`), which gives the same result with the same code;
2. marks them (a status, a timestamp, a claim row of its own) so no later pass finds them;
3. posts every message into the outbox (coach/mailbox.py) under this worker's name with a
   lease,

and commits the three together or not at all. Only then does the worker send, deleting each
outbox row as the platform takes it. A worker killed after the commit leaves its rows in
the outbox; once their lease runs out another worker's pass (`Mailbox.take_pending`) sends
them. A reminder or escalation that does not get through, even one the platform refuses for
good, goes back to the outbox for any worker to try again later (`Mailbox.retry_later`,
`Mailbox.refused`): nothing of those is dropped. A weekly nudge refused for good is (the
next comes a week later).

To add a kind of background message, write a `pick(session)` that selects with `due_rows`,
marks what it selected and returns `Outgoing` messages; the runner calls
`claim(database, pick, outbox(channels))` and hands the result to `send_posted`
(bot/runner.py), as `send_due_reminders` does for reminders and nudges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from coach.messages import Reply
from coach.store.database import Database

__all__ = ["Outgoing", "claim", "due_rows"]


class Outgoing(Protocol):
    """A message the engine sends on its own, addressed to one person on one channel."""

    @property
    def channel(self) -> str: ...

    @property
    def user_id(self) -> str: ...

    @property
    def reply(self) -> Reply: ...


Item = TypeVar("Item", bound=Outgoing)
T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])


def due_rows(query: S, *of: Any) -> S:
    """`query` locking the rows it returns for this transaction and skipping rows another
    transaction holds (PostgreSQL; SQLite has no row locks and ignores it). `of` names the
    tables to lock when the query joins others (PostgreSQL refuses to lock the outer side
    of a join)."""
    return query.with_for_update(skip_locked=True, of=list(of) or None)


def claim(database: Database, pick: Callable[[Session], Sequence[Item]],
          post: Callable[[Session, Item], T]) -> list[T]:
    """In one transaction: `pick` selects (with `due_rows`) and marks the work due now and
    returns its messages; `post` puts each in the outbox. Returns what `post` returned, in
    order: committed, so it is this worker's to send."""
    with database.transaction() as session:
        return [post(session, item) for item in pick(session)]
