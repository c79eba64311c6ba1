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

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import Delete, and_, delete, func, insert, or_, select, true
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from coach.engine import Engine
from coach.messages import Attachment, Choice, Incoming, Reply
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


class Mailbox:
    """One channel's inbox and outbox in the store (see the module docstring)."""

    def __init__(self, engine: Engine, channel: str, worker: str,
                 lease: timedelta = DEFAULT_LEASE,
                 receive_wait: float = RECEIVE_WAIT_SECONDS) -> None:
        self.engine = engine
        self.channel = channel
        self.worker = worker[:128]
        self.lease = lease
        self.receive_wait = receive_wait
        self._unsettled: set[str] = set()  # keys whose row could not be dropped yet

    # receiving ------------------------------------------------------------------------------
    async def receive(self, user_id: str, message_key: str, payload: str) -> Received:
        """Store an incoming message before the platform is told it arrived."""
        now = self.engine.clock()
        store = insert(InboxMessage).values(
            channel=self.channel, message_key=message_key, user_id=user_id, payload=payload,
            worker=self.worker, lease_until=now + self.lease, received_at=now)
        try:
            await self.engine.database.execute_alone(store, self.receive_wait)
        except IntegrityError:
            return Received.KNOWN
        except SQLAlchemyError as exc:
            log.warning("%s message %s not stored: %s", self.channel, message_key,
                        exc.__class__.__name__)
            return Received.UNSTORED
        return Received.NEW

    async def handle(self, message_key: str, incoming: Incoming,
                     ) -> tuple[TurnResult, list[StoredReply]]:
        """Run the turn; its replies are in the outbox when it returns (toasts excepted:
        they answer a button press and mean nothing later)."""
        kept: list[tuple[TurnResult, list[StoredReply]]] = []

        def keep(session: Session, result: TurnResult) -> None:
            kept.clear()
            session.execute(delete(InboxMessage).where(
                InboxMessage.channel == self.channel,
                InboxMessage.message_key == message_key))
            kept.append((result, [self.post(session, incoming.user_id, reply)
                                  for reply in result.replies if not reply.toast]))

        result = await self.engine.handle(incoming, keep=keep)
        if kept and kept[0][0] is result:
            stored = {id(s.reply): s for s in kept[0][1]}
            return result, [stored.get(id(r)) or StoredReply(None, incoming.user_id, r)
                            for r in result.replies]
        # nothing was committed: the rep is told so; the message is not run again later
        await self.settle(message_key)
        return result, [StoredReply(None, incoming.user_id, r) for r in result.replies]

    def queue(self, session: Session, user_id: str, replies: list[Reply]) -> list[StoredReply]:
        """Put several pushed replies (the weekly digest, coach/digest_schedule.py) in the
        outbox inside the caller's transaction, each as `post` does."""
        return [self.post(session, user_id, reply) for reply in replies]

    async def settle(self, message_key: str) -> None:
        """Drop a stored message that needs no turn (refused, forged, or given up on)."""
        try:
            await self.engine.database.execute_alone(self._inbox_rows([message_key]))
            self._unsettled.discard(message_key)
        except SQLAlchemyError:
            self._unsettled.add(message_key)  # tried again at the next `take_pending`

    def _inbox_rows(self, keys: list[str]) -> Delete:
        return delete(InboxMessage).where(InboxMessage.channel == self.channel,
                                          InboxMessage.message_key.in_(keys))

    # sending --------------------------------------------------------------------------------
    def post(self, session: Session, user_id: str, reply: Reply, *,
             keep_trying: bool = False) -> StoredReply:
        """Put `reply` in the outbox in the caller's transaction, this worker's for a lease:
        a turn's replies, or (`keep_trying`) a claimed reminder (coach/claims.py), which a
        refusing platform does not drop (`refused`)."""
        now = self.engine.clock()
        tag = secrets.token_hex(6)
        row = OutboxReply(channel=self.channel, user_id=user_id,
                          body=reply_body(reply, tag, keep_trying),
                          data=reply.attachment.data if reply.attachment else None,
                          worker=self.worker, lease_until=now + self.lease, created_at=now)
        session.add(row)
        session.flush()
        return StoredReply(row.id, user_id, reply, tag=tag, keep_trying=keep_trying)

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
        try:
            await self.engine.database.execute_alone(
                delete(OutboxReply).where(OutboxReply.id == reply.id))
        except SQLAlchemyError as exc:
            log.warning("sent reply %s not marked: %s", reply.id, exc.__class__.__name__)

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
                await self.engine.database.execute_alone(self._inbox_rows(keys))
                self._unsettled.difference_update(keys)
            except SQLAlchemyError:
                pass
        return await self.engine.database.run_in_transaction(self._claim, at_start)

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
