"""When the weekly digest is due, to whom, and the claim that makes it go out exactly once.

The digest is due at a configured weekday and time in company time (`DigestSettings`, the
clock offset of `EngineSettings.utc_offset_hours`). Its week is named after the date of that
moment ("2026-W49"), so a digest missed while every worker was down goes out late, once;
never twice. Up to `LATE_LIMIT` late: past that, a Monday briefing read on Wednesday says
little, and a first start (a new install) must not send the week before's. People enrolled
after the moment get theirs from the next one.

Exactly once, across restarts and workers: `claim` inserts the (recipient, week) row of
`digest_sends`, whose unique key lets only one insert win, and the caller writes the digest
to the outbox (coach/mailbox.py) in that same transaction. Either both are stored or neither:
a crash before the commit leaves nothing claimed (the next pass sends it), a crash after it
leaves the digest in the outbox (the restarted channel sends it, as it does a turn's reply).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coach.settings import DigestSettings
from coach.store.database import Database
from coach.store.models import DigestSend, Identity, Rep
from coach.store.repo import Directory

BATCH = 200  # recipients a pass looks at; the next pass takes the rest
LATE_LIMIT = timedelta(hours=24)


@dataclass(frozen=True)
class Recipient:
    """Someone whose digest of `week` is due, reachable as `user_id` on `channel`."""

    rep_id: int
    kind: str  # "manager" or "rep"
    week: str
    channel: str
    user_id: str


def last_due(now: datetime, settings: DigestSettings, offset_hours: int) -> datetime:
    """The latest digest moment at or before `now` (both naive UTC)."""
    offset = timedelta(hours=offset_hours)
    local = now + offset
    moment = local.replace(hour=settings.hour, minute=settings.minute, second=0,
                           microsecond=0)
    moment -= timedelta(days=(local.weekday() - settings.weekday) % 7)
    if moment > local:
        moment -= timedelta(days=7)
    return moment - offset


def week_of(moment: datetime, offset_hours: int) -> str:
    """The ISO week of a digest moment, in company time: its unique key with the recipient."""
    year, week, _ = (moment + timedelta(hours=offset_hours)).isocalendar()
    return f"{year}-W{week:02d}"


def due_recipients(database: Database, now: datetime, settings: DigestSettings,
                   offset_hours: int, channels: Sequence[str],
                   limit: int = BATCH) -> list[Recipient]:
    """Active people reachable on `channels` (first listed wins) with no digest claimed for
    the current week, while it is at most `LATE_LIMIT` late: managers of a team get the
    team's, everyone else their own."""
    if not settings.enabled or not channels:
        return []
    order = list(channels)
    moment = last_due(now, settings, offset_hours)
    if now - moment > LATE_LIMIT:
        return []
    week = week_of(moment, offset_hours)
    claimed = select(DigestSend.rep_id).where(DigestSend.week == week)
    with database.transaction() as session:
        reps = session.execute(
            select(Rep).where(Rep.active.is_(True), Rep.forgotten_at.is_(None),
                              Rep.created_at <= moment,
                              Rep.id.in_(Directory.reachable_reps(order)),
                              Rep.id.not_in(claimed))
            .order_by(Rep.id).limit(limit)).scalars().all()
        identities = session.execute(
            select(Identity).where(Identity.rep_id.in_([r.id for r in reps]),
                                   Identity.channel.in_(order))
            .order_by(Identity.id)).scalars().all()
        found = []
        for rep in reps:
            mine = [i for i in identities if i.rep_id == rep.id]
            if not mine:
                continue
            identity = min(mine, key=lambda i: order.index(i.channel))
            kind = "manager" if rep.role == "manager" and rep.team else "rep"
            found.append(Recipient(rep.id, kind, week, identity.channel,
                                   identity.external_id))
        return found


def claim(session: Session, recipient: Recipient, now: datetime) -> bool:
    """Claim `recipient`'s digest of the week inside the caller's transaction; False when
    someone (another worker, or this one before a restart) already has. The insert either
    wins on the unique key or does nothing, so it never aborts the transaction."""
    values = {"rep_id": recipient.rep_id, "week": recipient.week, "kind": recipient.kind,
              "channel": recipient.channel, "claimed_at": now}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        # RETURNING, not rowcount: psycopg's async cursor reports no rowcount for it
        won = session.execute(insert(DigestSend).values(**values)
                              .on_conflict_do_nothing(index_elements=["rep_id", "week"])
                              .returning(DigestSend.id)).scalar_one_or_none()
        return won is not None
    try:  # any other backend: a savepoint keeps a lost race from ending the transaction
        with session.begin_nested():
            session.add(DigestSend(**values))
        return True
    except IntegrityError:
        return False


def mark_delivered(session: Session, recipient: Recipient, now: datetime) -> None:
    """The platform took the digest (a digest resent from the outbox after a crash keeps
    `sent_at` empty: the outbox, not this row, tracks delivery)."""
    row = session.execute(select(DigestSend).where(
        DigestSend.rep_id == recipient.rep_id, DigestSend.week == recipient.week)
    ).scalar_one_or_none()
    if row is not None and row.sent_at is None:
        row.sent_at = now
