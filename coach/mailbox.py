"""Inbox and outbox: a platform message acknowledged is a message answered, across crashes.

Platforms stop redelivering once we acknowledge (WeCom's HTTP 200, Telegram's confirmed
update offset). Between that moment and the rep seeing the reply the process can die, so:

1. `receive` stores the message (one insert) *before* the channel acknowledges it;
2. `handle` runs the turn and, in the turn's own transaction, deletes the inbox row and
   writes the replies to the outbox: either the turn and its replies are both stored, or
   neither is and the inbox row is still there;
3. the channel sends each reply and `sent` deletes it from the outbox;
4. on start, `take_pending` hands back what a crash left — replies not yet sent, then
   messages not yet handled — and the channel finishes them in the same order as before.

Rows are owned by a worker for a lease (`lease_until`): the worker that wrote them takes
them back at once when it restarts; any other worker only once the lease has run out, so with
several workers a live one's messages are never handled twice.

A live worker keeps its leases: sending can take longer than a lease (Telegram's 429
retry-after back-offs, a slow WeCom API, a reminder waiting behind a big batch), and a row
whose lease ran out while it was still being sent would go out a second time from another
worker. So the mailbox remembers the rows it *holds* — an inbox message from its storing
to its turn, a reply from the commit that wrote or claimed it until it leaves the outbox or
its send failed (`let_go`) — and a heartbeat (`start_renewing`) extends all their leases
every third of a lease, in one UPDATE per table for all of them. Only a dead or hung
worker's rows run out. A row the heartbeat no longer finds under this worker's name (sent,
or taken over after a hang longer than the lease) is forgotten, and so is one held for
twelve leases (a safety net, logged: no send waits that long).

Messages the engine sends on its own (reminders, escalations, nudges) enter the outbox the
same way, in the transaction that claims them (`post`, coach/claims.py), and leave it like
any reply; one the platform refuses waits there for a retry (`retry_later`).

The platform message id still deduplicates turns (`processed_messages`), so a redelivery that
races the crash is handled once. What cannot be made exact is a reply that left for the
platform just before the kill and was not yet marked sent: it goes again on restart, marked
`recovered` so a channel that can ask the platform to drop a repeat (WeCom's duplicate check)
does so.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    Delete,
    Exists,
    Insert,
    Table,
    and_,
    bindparam,
    delete,
    event,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from coach.documents.font_worker import reply_with_font_off_loop
from coach.engine import Engine
from coach.messages import Attachment, Choice, Incoming, Reply
from coach.store.conversation import Save
from coach.store.database import Database
from coach.store.models import InboxMessage, OutboxReply
from coach.turn.result import TurnResult

__all__ = ["Mailbox", "PendingMessage", "Received", "StoredReply"]

log = logging.getLogger(__name__)

#: How long a worker owns the rows it wrote. Longer than any reply can wait to go out (WeCom's
#: per-member throttle holds one up to a minute), so no second worker resends a live one.
DEFAULT_LEASE = timedelta(minutes=5)
#: The owner of a row no worker holds: released for a retry, taken by whichever passes first.
RELEASED = ""
#: A message the engine sent on its own that the platform refused waits this long in the
#: outbox, behind the others: one unreachable chat cannot hold a batch up, and is not dropped.
RETRY_AFTER = timedelta(minutes=30)
#: How long `receive` waits for the store before giving up, well inside WeCom's 5 s.
RECEIVE_WAIT_SECONDS = 2.0
#: The heartbeat renews held leases this many times a lease: two may fail (a busy store, a
#: stalled loop) before another worker can take a row still being worked on.
RENEWALS_PER_LEASE = 3
#: Ids a renewal names in one statement (SQLite takes at most 32,766 parameters).
RENEW_CHUNK = 10_000
#: A row held this many leases is no longer renewed: a safety net for a path that forgot to
#: let go of a row it gave up on, which would otherwise never reach another worker. An hour
#: at the default lease: no send waits that long.
LONGEST_HOLD_LEASES = 12

K = TypeVar("K", int, str)


class Held(Generic[K]):
    """The rows (outbox ids or inbox keys) a worker is working on, with when it took each."""

    def __init__(self) -> None:
        self._since: dict[K, float] = {}

    def add(self, keys: Iterable[K]) -> None:
        now = time.monotonic()
        for key in keys:
            self._since.setdefault(key, now)

    def discard(self, keys: Iterable[K]) -> None:
        for key in keys:
            self._since.pop(key, None)

    def to_renew(self, longest: float) -> tuple[list[K], list[K]]:
        """(rows to renew, rows held `longest` seconds or more, now forgotten)."""
        now = time.monotonic()
        held = list(self._since.items())  # one C-level copy: a claim may add from a thread
        stale = [key for key, since in held if now - since >= longest]
        self.discard(stale)
        return sorted(key for key, since in held if now - since < longest), stale

    def __len__(self) -> int:
        return len(self._since)


class Received(Enum):
    NEW = "new"  # stored now: handle it
    KNOWN = "known"  # already stored by an earlier delivery: being handled, or will be
    UNSTORED = "unstored"  # the store refused or was busy: tell the rep nothing was saved


@dataclass(frozen=True)
class StoredReply:
    """A reply with its outbox row (`id` None: not stored, e.g. "nothing was saved")."""

    id: int | None
    user_id: str
    reply: Reply
    recovered: bool = False  # left by a crash: it may have reached the platform already
    tag: str = ""  # a stable per-reply token (a card's task id is made from it)
    keep_trying: bool = False  # sent by the engine on its own: a refusal is tried again later


@dataclass(frozen=True)
class PendingMessage:
    """A message acknowledged before a crash whose turn never ran."""

    message_key: str
    user_id: str
    payload: str


@dataclass
class Pending:
    """What a crash (or a dead worker) left, in the order it must be finished."""

    replies: list[StoredReply] = field(default_factory=list)
    messages: list[PendingMessage] = field(default_factory=list)

    def by_user(self) -> list[tuple[str, list[StoredReply], list[str]]]:
        """Per user: their replies to send, then their messages' payloads to handle."""
        users = dict.fromkeys([*(r.user_id for r in self.replies),
                               *(m.user_id for m in self.messages)])
        return [(user, [r for r in self.replies if r.user_id == user],
                 [m.payload for m in self.messages if m.user_id == user]) for user in users]

    def __bool__(self) -> bool:
        return bool(self.replies or self.messages)

    def of(self, user: str) -> Pending:
        """The part of this that is `user`'s."""
        return Pending([r for r in self.replies if r.user_id == user],
                       [m for m in self.messages if m.user_id == user])


def reply_body(reply: Reply, tag: str, keep_trying: bool = False) -> dict[str, Any]:
    """A reply as JSON, its attachment's bytes kept apart (`OutboxReply.data`)."""
    body: dict[str, Any] = {"text": reply.text, "tag": tag,
                            "choices": [[c.key, c.label] for c in reply.choices]}
    if keep_trying:
        body["keep_trying"] = True
    if reply.attachment is not None:
        body["attachment"] = {"filename": reply.attachment.filename,
                              "mime_type": reply.attachment.mime_type,
                              "kind": reply.attachment.kind}
    return body


def reply_from(body: dict[str, Any], data: bytes | None) -> Reply:
    attachment = None
    if body.get("attachment") and data is not None:
        meta = body["attachment"]
        attachment = Attachment(meta["filename"], meta["mime_type"], data, meta["kind"])
    return Reply(str(body.get("text", "")),
                 tuple(Choice(str(k), str(label)) for k, label in body.get("choices", [])),
                 attachment)


class SentRows:
    """Deletes the outbox rows of sent replies; those sent while a delete is on its way go
    together in the next one. With many reps served at once, one statement (a round trip on
    PostgreSQL, each about as much client CPU as a small turn's statement) serves several
    replies; each caller still returns only once its row is gone, so nothing changes for a
    crash. The delete runs in a task of its own: a caller cancelled meanwhile leaves the
    others' rows to be deleted."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._queued: list[int] = []
        self._done: asyncio.Future[str | None] | None = None  # the queued rows' delete
        self._deleting: asyncio.Task[None] | None = None

    async def delete(self, reply_id: int) -> str | None:
        """Delete `reply_id`'s row: None once deleted, else the name of the error that
        kept it (the caller logs it with its reply, as a single delete did)."""
        loop = asyncio.get_running_loop()
        self._queued.append(reply_id)
        if self._done is None:
            self._done = loop.create_future()
        done = self._done
        if self._deleting is None or self._deleting.done():
            self._deleting = loop.create_task(self._delete_queued())
        return await asyncio.shield(done)

    async def _delete_queued(self) -> None:
        while self._queued and self._done is not None:
            ids, self._queued = self._queued, []
            done, self._done = self._done, None
            failed: str | None = "cancelled"
            try:
                await self._database.execute_alone(_SENT, params={"reply_ids": ids})
                failed = None
            except Exception as exc:  # each caller logs it for its reply; none is lost
                failed = exc.__class__.__name__
            finally:
                done.set_result(failed)


class Mailbox:
    """One channel's inbox and outbox in the store (see the module docstring)."""

    def __init__(self, engine: Engine, channel: str, worker: str,
                 lease: timedelta = DEFAULT_LEASE,
                 receive_wait: float = RECEIVE_WAIT_SECONDS,
                 longest_hold: timedelta | None = None) -> None:
        self.engine = engine
        self.channel = channel
        self.worker = worker[:128]
        self.lease = lease
        self.receive_wait = receive_wait
        self._unsettled: set[str] = set()  # keys whose row could not be dropped yet
        self._held_replies: Held[int] = Held()  # outbox ids this worker is working on
        self._held_messages: Held[str] = Held()  # inbox keys this worker is working on
        self.longest_hold = longest_hold if longest_hold is not None else (
            lease * LONGEST_HOLD_LEASES)
        self._renewing: asyncio.Task[None] | None = None
        self._left_for: set[str] = set()  # reps whose message found rows left (`left_seen`)
        self._sent_rows = SentRows(engine.database)

    # receiving ------------------------------------------------------------------------------
    async def receive(self, user_id: str, message_key: str, payload: str) -> Received:
        """Store an incoming message before the platform is told it arrived."""
        now = self.engine.clock()
        row = {"channel": self.channel, "message_key": message_key, "user_id": user_id,
               "payload": payload, "worker": self.worker, "lease_until": now + self.lease,
               "received_at": now, "left_channel": self.channel, "left_user": user_id,
               "left_worker": self.worker, "left_now": now}
        try:
            left = await self.engine.database.scalar_alone(_RECEIVE, self.receive_wait, row)
        except IntegrityError:
            return Received.KNOWN
        except SQLAlchemyError as exc:
            log.warning("%s message %s not stored: %s", self.channel, message_key,
                        exc.__class__.__name__)
            return Received.UNSTORED
        self._held_messages.add([message_key])
        if left:
            self._left_for.add(user_id)
        return Received.NEW

    def left_seen(self, user_id: str) -> bool:
        """Whether a message of `user_id` stored since the last call found rows of theirs
        that another worker released or left (its lease ran out): the insert that stores a
        message asks in the same statement (`_RECEIVE`), so the common case (nothing left)
        costs nothing more. Asked once: coach/handover.py `take_left_for` claims them."""
        if user_id not in self._left_for:
            return False
        self._left_for.discard(user_id)
        return True

    def left_unclaimed(self, user_id: str) -> None:
        """Rows seen left for `user_id` could not be claimed (the store failed): the rep's
        next message tries again, unless a pass takes them first."""
        self._left_for.add(user_id)

    async def handle(self, message_key: str, incoming: Incoming,
                     ) -> tuple[TurnResult, list[StoredReply]]:
        """Run the turn; its replies are in the outbox when it returns (toasts excepted:
        they answer a button press and mean nothing later)."""
        kept: list[tuple[TurnResult, list[StoredReply]]] = []

        def keep(session: Session, result: TurnResult, save: Save | None) -> None:
            kept.clear()
            replies = [reply for reply in result.replies if not reply.toast]
            kept.append((result, self._post_all(session, incoming.user_id, replies,
                                                answered=(message_key, save), hold=False)))

        try:
            result = await self.engine.handle(incoming, keep=keep)
        finally:  # handled (its row deleted with the turn), or settled just below
            self._held_messages.discard([message_key])
        if kept and kept[0][0] is result:  # committed: this worker holds its replies now
            self._held_replies.add(s.id for s in kept[0][1] if s.id is not None)
            stored = {id(s.reply): s for s in kept[0][1]}
            return result, [stored.get(id(r)) or StoredReply(None, incoming.user_id, r)
                            for r in result.replies]
        # nothing was committed: the rep is told so; the message is not run again later
        await self.settle(message_key)
        return result, [StoredReply(None, incoming.user_id, r) for r in result.replies]

    def queue(self, session: Session, user_id: str, replies: list[Reply]) -> list[StoredReply]:
        """Put several pushed replies (the weekly digest, coach/digest_schedule.py) in the
        outbox inside the caller's transaction, each as `post` does."""
        return self._post_all(session, user_id, replies)

    async def settle(self, message_key: str) -> None:
        """Drop a stored message that needs no turn (refused, forged, or given up on)."""
        self._held_messages.discard([message_key])
        try:
            await self.engine.database.execute_alone(_DROP_MESSAGES, params=self._keys(
                [message_key]))
            self._unsettled.discard(message_key)
        except SQLAlchemyError:
            self._unsettled.add(message_key)  # tried again at the next `take_pending`

    def _keys(self, keys: list[str]) -> dict[str, Any]:
        return {"inbox_channel": self.channel, "inbox_keys": keys}

    # sending --------------------------------------------------------------------------------
    def post(self, session: Session, user_id: str, reply: Reply, *,
             keep_trying: bool = False) -> StoredReply:
        """Put `reply` in the outbox in the caller's transaction, this worker's for a lease:
        a turn's replies, or (`keep_trying`) a claimed reminder (coach/claims.py), which a
        refusing platform does not drop (`refused`)."""
        return self._post_all(session, user_id, [reply], keep_trying=keep_trying)[0]

    def _post_all(self, session: Session, user_id: str, replies: list[Reply], *,
                  keep_trying: bool = False, answered: tuple[str, Save | None] | None = None,
                  hold: bool = True) -> list[StoredReply]:
        """`post` for each of `replies`, in order. With `answered` (a message's key, and its
        turn's conversation state to write) the turn is done: its inbox row goes, and its
        state is written, in the same transaction.

        Plain statements built once, not ORM rows (each a unit-of-work flush, CPU on every
        message). On PostgreSQL the state, the inbox row and the first reply go in one
        statement (data-modifying WITH clauses), one round trip where three were; further
        replies go in one batch insert. `hold`: this worker holds the rows (renews their
        lease) once the transaction commits; False when the caller does it."""
        now = self.engine.clock()
        tags = [secrets.token_hex(6) for _ in replies]
        rows = [{"channel": self.channel, "user_id": user_id,
                 "body": reply_body(reply, tag, keep_trying),
                 "data": reply.attachment.data if reply.attachment else None,
                 "worker": self.worker, "lease_until": now + self.lease, "created_at": now}
                for reply, tag in zip(replies, tags, strict=True)]
        ids: list[int] = []
        if answered is not None:
            key, save = answered
            done = self._keys([key])
            if session.get_bind().dialect.name == "postgresql":
                statement = _ANSWERED[bool(rows), save is not None]
                params = {**done, **(save.params if save is not None else {}),
                          **(rows.pop(0) if rows else {})}
                result = session.execute(statement, params)
                if statement.is_insert:
                    ids.append(result.scalar_one())
            else:
                if save is not None:
                    save.run(session)
                session.execute(_DROP_MESSAGES, done)
        if len(rows) == 1:
            ids.append(session.execute(_POST, rows[0]).scalar_one())
        elif rows:
            ids.extend(session.execute(_POST, rows).scalars())
        if hold:  # (a turn's replies are held by `handle` once it returns, which is cheaper)
            for id_ in ids:
                self._hold_once_committed(session, id_)
        return [StoredReply(id_, user_id, reply, tag=tag, keep_trying=keep_trying)
                for id_, reply, tag in zip(ids, replies, tags, strict=True)]

    def _hold_once_committed(self, session: Session, reply_id: int) -> None:
        """Hold `reply_id` from the commit of `session`'s transaction on: a rolled-back one
        (a turn run again, a lost claim) holds nothing."""
        key = ("mailbox-held", id(self))
        ids: set[int] | None = session.info.get(key)
        if ids is None:
            ids = session.info[key] = set()
            held = ids
            event.listen(session, "after_commit",
                         lambda _session: self._held_replies.add(held), once=True)
        ids.add(reply_id)

    async def send_in_order(self, replies: Sequence[StoredReply],
                            send: Callable[[StoredReply], Awaitable[None]],
                            refusal: type[Exception]) -> None:
        """`send` each reply in order; each leaves the outbox once the platform took it. One
        refused for good (`refusal`) goes as `refused` says, and the error stops the rest.
        If one fails, this worker stops renewing it and the rest: their leases run out and
        they go out later (another worker, or this one's next start)."""
        try:
            for stored in replies:
                try:
                    # a document's font is cut here, off the loop (coach/documents/font_worker.py)
                    finished = await reply_with_font_off_loop(stored.reply)
                    await send(stored if finished is stored.reply
                               else replace(stored, reply=finished))
                except refusal:
                    await self.refused(stored)
                    raise
                await self.sent(stored)
        except BaseException:
            self.let_go(replies)
            raise

    async def refused(self, reply: StoredReply) -> None:
        """The platform refused `reply` for good (the rep blocked the bot, an unknown member):
        a turn's reply leaves the outbox, sending it again cannot help; a reminder or an
        escalation waits `RETRY_AFTER` and is tried again, until the person can be reached."""
        if reply.keep_trying:
            await self.retry_later(reply, RETRY_AFTER)
        else:
            await self.sent(reply)

    async def retry_later(self, reply: StoredReply, after: timedelta) -> None:
        """A reply the platform refused (the network, or a rep who blocked the bot) waits in
        the outbox for `after`, then any worker's pass (`take_pending`) tries it again; put
        back if sending had already removed it. Used for what the engine sends on its own
        (reminders, escalations): those must not be lost to one failed try."""
        until = self.engine.clock() + after
        self.let_go([reply])

        def release(session: Session) -> None:
            row = session.get(OutboxReply, reply.id) if reply.id is not None else None
            if row is None:
                row = OutboxReply(channel=self.channel, user_id=reply.user_id,
                                  body=reply_body(reply.reply, reply.tag, reply.keep_trying),
                                  data=reply.reply.attachment.data if reply.reply.attachment
                                  else None, created_at=self.engine.clock())
                session.add(row)
            row.worker, row.lease_until = RELEASED, until

        try:
            await self.engine.database.run_in_transaction(release)
        except SQLAlchemyError as exc:
            log.warning("failed reply %s not released for retry: %s", reply.id,
                        exc.__class__.__name__)

    async def sent(self, reply: StoredReply) -> None:
        """The platform took `reply`: it leaves the outbox. If the store is unreachable now,
        the row stays and goes out once more after a restart (logged)."""
        if reply.id is None:
            return
        self._held_replies.discard([reply.id])
        failed = await self._sent_rows.delete(reply.id)
        if failed is not None:
            log.warning("sent reply %s not marked: %s", reply.id, failed)

    # keeping the leases -------------------------------------------------------------------
    def let_go(self, replies: Iterable[StoredReply] = (), pending: Pending | None = None,
               ) -> None:
        """Stop renewing rows this worker is no longer working on (a send that failed, a
        resumed chat that broke off): their leases run out as a dead worker's would, and
        another worker (or this one's next start) takes them."""
        self._held_replies.discard(r.id for r in [*replies, *(pending.replies if pending else [])]
                                   if r.id is not None)
        self._held_messages.discard(m.message_key for m in (pending.messages if pending else []))

    def let_go_when_done(self, task: asyncio.Task[None], pending: Pending) -> None:
        """`let_go(pending)` once `task`, which works on it, ends however it ends."""
        task.add_done_callback(lambda _task: self.let_go(pending=pending))

    @property
    def held(self) -> int:
        """How many rows this worker is working on."""
        return len(self._held_replies) + len(self._held_messages)

    async def renew(self) -> int:
        """Extend the lease of every row this worker holds, one UPDATE per table; returns how
        many rows it renewed. Rows no longer under this worker's name are forgotten."""
        longest = self.longest_hold.total_seconds()
        replies, stale_replies = self._held_replies.to_renew(longest)
        messages, stale_messages = self._held_messages.to_renew(longest)
        if stale_replies or stale_messages:
            log.warning("%s: %d replies and %d messages held longer than %s, no longer "
                        "renewed: another worker takes them once their lease runs out",
                        self.channel, len(stale_replies), len(stale_messages),
                        self.longest_hold)
        if not replies and not messages:
            return 0
        until = self.engine.clock() + self.lease

        def extend(session: Session) -> tuple[set[int], set[str]]:
            kept_replies: set[int] = set()
            kept_messages: set[str] = set()
            for start in range(0, len(replies), RENEW_CHUNK):
                kept_replies.update(session.scalars(
                    update(OutboxReply).where(
                        OutboxReply.worker == self.worker,
                        OutboxReply.id.in_(replies[start:start + RENEW_CHUNK]))
                    .values(lease_until=until).returning(OutboxReply.id)))
            for start in range(0, len(messages), RENEW_CHUNK):
                kept_messages.update(session.scalars(
                    update(InboxMessage).where(
                        InboxMessage.channel == self.channel,
                        InboxMessage.worker == self.worker,
                        InboxMessage.message_key.in_(messages[start:start + RENEW_CHUNK]))
                    .values(lease_until=until).returning(InboxMessage.message_key)))
            return kept_replies, kept_messages

        kept_replies, kept_messages = await self.engine.database.run_in_transaction(extend)
        self._held_replies.discard(set(replies) - kept_replies)
        self._held_messages.discard(set(messages) - kept_messages)
        return len(kept_replies) + len(kept_messages)

    def start_renewing(self) -> None:
        """Start the heartbeat: `renew` every `lease / RENEWALS_PER_LEASE` until
        `stop_renewing` (or the process ends, after which the leases run out)."""
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.get_running_loop().create_task(self._keep_renewing())

    async def stop_renewing(self) -> None:
        task, self._renewing = self._renewing, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _keep_renewing(self) -> None:
        period = self.lease.total_seconds() / RENEWALS_PER_LEASE
        while True:
            await asyncio.sleep(period)
            try:
                await self.renew()
            except SQLAlchemyError as exc:  # the next beat tries again, well within the lease
                log.warning("%s leases not renewed: %s", self.channel, exc.__class__.__name__)

    async def unsent(self) -> int:
        """Replies of this worker still waiting in the outbox."""
        def count(session: Session) -> int:
            return int(session.scalar(select(func.count()).select_from(OutboxReply).where(
                OutboxReply.channel == self.channel, OutboxReply.worker == self.worker)) or 0)

        try:
            return await self.engine.database.run_in_transaction(count)
        except SQLAlchemyError:
            return -1

    # recovering -----------------------------------------------------------------------------
    async def take_pending(self, *, at_start: bool) -> Pending:
        """Claim what a crash left: at start this worker's own rows and any whose lease ran
        out; later, only other workers' rows whose lease ran out (this worker's own are in
        its hands still)."""
        if self._unsettled:
            keys = list(self._unsettled)
            try:
                await self.engine.database.execute_alone(_DROP_MESSAGES, params=self._keys(keys))
                self._unsettled.difference_update(keys)
            except SQLAlchemyError:
                pass
        pending = await self.engine.database.run_in_transaction(self._claim, at_start)
        self.hold(pending)
        return pending

    def hold(self, pending: Pending) -> None:
        """Renew the leases of `pending`'s rows, claimed for this worker, until it is done
        with them (see `start_renewing`)."""
        self._held_replies.add(r.id for r in pending.replies if r.id is not None)
        self._held_messages.add(m.message_key for m in pending.messages)

    def claim_user(self, session: Session, user_id: str) -> Pending:
        """One rep's rows that other workers released or left (their lease ran out), claimed
        in the caller's transaction (coach/handover.py `take_left_for`)."""
        return self._claim(session, False, user_id)

    def _claim(self, session: Session, at_start: bool, user_id: str | None = None) -> Pending:
        now = self.engine.clock()
        until = now + self.lease

        def claimable(worker: Any, lease_until: Any) -> Any:
            expired = lease_until < now
            return (or_(worker == self.worker, expired) if at_start
                    else and_(worker != self.worker, expired))

        def of_user(user: Any) -> Any:
            return true() if user_id is None else user == user_id

        replies = session.scalars(
            select(OutboxReply).where(OutboxReply.channel == self.channel,
                                      claimable(OutboxReply.worker, OutboxReply.lease_until),
                                      of_user(OutboxReply.user_id))
            .order_by(OutboxReply.id).with_for_update(skip_locked=True)).all()
        messages = session.scalars(
            select(InboxMessage).where(InboxMessage.channel == self.channel,
                                       claimable(InboxMessage.worker, InboxMessage.lease_until),
                                       of_user(InboxMessage.user_id))
            .order_by(InboxMessage.id).with_for_update(skip_locked=True)).all()
        for reply in replies:  # the session writes the claims back at commit
            reply.worker, reply.lease_until = self.worker, until
        for message in messages:
            message.worker, message.lease_until = self.worker, until
        return Pending(
            [StoredReply(r.id, r.user_id, reply_from(r.body, r.data), recovered=True,
                         tag=str(r.body.get("tag", "")),
                         keep_trying=bool(r.body.get("keep_trying"))) for r in replies],
            [PendingMessage(m.message_key, m.user_id, m.payload) for m in messages])


# Statements every message runs, built once (SQLAlchemy then finds each compiled in its cache
# without building and hashing a new statement per call).
_INBOX = cast(Table, InboxMessage.__table__)
_OUTBOX = cast(Table, OutboxReply.__table__)


def _left_behind(table: Table) -> Exists:
    """Rows of `table` of the rep a message is stored for, of the same channel, that
    another worker released or left (its lease ran out by the message's arrival)."""
    return exists().where(table.c.channel == bindparam("left_channel"),
                          table.c.user_id == bindparam("left_user"),
                          table.c.worker != bindparam("left_worker"),
                          table.c.lease_until < bindparam("left_now"))


#: Stores a message, and says in the same statement whether another worker released or left
#: rows of the same rep, which go first (coach/handover.py): read in the statement's snapshot,
#: so a hand-over committed before the message arrived is seen.
_RECEIVE = insert(_INBOX).returning(or_(_left_behind(_OUTBOX), _left_behind(_INBOX)))
_DROP_MESSAGES = delete(_INBOX).where(
    _INBOX.c.channel == bindparam("inbox_channel"),
    _INBOX.c.message_key.in_(bindparam("inbox_keys", expanding=True)))
_POST = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)


def _answered(reply: bool, save: bool) -> Insert | Delete:
    """PostgreSQL: how a turn ends, in one statement; with a reply and a state to write

        WITH saved AS (UPDATE conversations ...), answered AS (DELETE FROM inbox ...)
        INSERT INTO outbox ... RETURNING id

    and without a reply, the DELETE itself is the statement."""
    saved = [Save.STATEMENT.cte("saved")] if save else []
    if reply:
        return insert(_OUTBOX).add_cte(*saved, _DROP_MESSAGES.cte("answered")).returning(
            _OUTBOX.c.id)
    return _DROP_MESSAGES.add_cte(*saved)


_ANSWERED = {(reply, save): _answered(reply, save)
             for reply in (False, True) for save in (False, True)}
_SENT = delete(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("reply_ids", expanding=True)))
