"""The weekly nudge to keep key accounts current.

A customer is proposed for re-evaluation when it was not re-assessed for `review_days`
(default 90) or its stage has not moved across `stalled_visits` logged visits. One message a
week per rep at most, with a button per customer (diagnose now) and a snooze. Buttons carry
`NudgeKey` / `SnoozeKey` keys (coach.turn.keys), checked against the pressing rep like any
other key. Each nudge ends with a coaching card of course unit 1 (coach/cards.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from coach.cards import card_text, rotation
from coach.library import Library
from coach.messages import Choice, Reply
from coach.store.database import Database
from coach.store.models import Account, Note, Rep, StageChange
from coach.store.repo import Directory
from coach.turn.keys import NudgeKey, SnoozeKey, encode

WEEK = timedelta(days=7)
MAX_PROPOSED = 3


@dataclass(frozen=True)
class DueNudge:
    rep_id: int
    channel: str
    user_id: str
    reply: Reply


def stale_accounts(session: Session, rep_id: int, now: datetime, review_days: int,
                   stalled_visits: int) -> list[Account]:
    """This rep's customers that need a fresh look, oldest review first."""
    accounts = session.execute(
        select(Account).where(Account.rep_id == rep_id, Account.archived.is_(False))
    ).scalars().all()
    last = (select(StageChange.account_id, func.max(StageChange.created_at).label("at"))
            .where(StageChange.rep_id == rep_id).group_by(StageChange.account_id).subquery())
    last_change = {account_id: at for account_id, at in session.execute(select(last)).all()}
    # visits since each account's last stage change, for all accounts in one query
    visits_since = dict(session.execute(
        select(Note.account_id, func.count(Note.id))
        .join(Account, Account.id == Note.account_id)
        .outerjoin(last, last.c.account_id == Note.account_id)
        .where(Note.rep_id == rep_id,
               Note.created_at > func.coalesce(last.c.at, Account.created_at))
        .group_by(Note.account_id)
    ).all())
    cutoff = now - timedelta(days=review_days)
    stale = []
    for account in accounts:
        reviewed = max(filter(None, (account.reviewed_at, last_change.get(account.id),
                                     account.created_at)))
        visits = visits_since.get(account.id, 0) if account.stage else 0
        if reviewed < cutoff or visits >= stalled_visits:
            stale.append((reviewed, account))
    return [account for _, account in sorted(stale, key=lambda item: item[0])]


def reps_due(database: Database, now: datetime, limit: int = 500) -> list[int]:
    """Active reps whose week has come round (a quick read; each is then handled alone)."""
    with database.transaction() as session:
        return list(session.execute(
            select(Rep.id).where(Rep.active.is_(True), _week_come_round(now))
            .order_by(Rep.id).limit(limit)
        ).scalars().all())


def claim_nudge(session: Session, library: Library, rep_id: int, now: datetime,
                channels: Iterable[str], review_days: int, stalled_visits: int
                ) -> list[DueNudge]:
    """Claim one rep's week and build their nudge (none: nothing to propose, or another
    worker took the week), in the caller's transaction (coach/claims.py).

    One short transaction per rep, not one for all: on SQLite a transaction holds the only
    write lock, and reps' turns must not wait behind a batch of hundreds. The claim is a
    conditional UPDATE: on PostgreSQL a second worker's waits for the first's commit and
    then finds the week taken, so two workers never nudge the same rep twice."""
    order = list(channels)
    claimed = session.execute(
        update(Rep).where(Rep.id == rep_id, Rep.active.is_(True), _week_come_round(now))
        .values(nudge_after=now + WEEK).execution_options(synchronize_session=False))
    rep = session.get(Rep, rep_id) if getattr(claimed, "rowcount", 0) == 1 else None
    if rep is None:
        return []
    stale = stale_accounts(session, rep.id, now, review_days, stalled_visits)
    identities = [i for i in Directory(session).identities_of(rep.id)
                  if i.channel in order]
    if not stale or not identities:
        return []
    identity = min(identities, key=lambda i: order.index(i.channel))
    shown = stale[:MAX_PROPOSED]
    context = {"names": [a.name for a in shown], "count": len(stale),
               "rep": {"name": rep.name, "locale": rep.locale},
               # a coaching card of course unit 1, a different one each week
               "tip": card_text(library, rep.locale, rotation(session, rep, now))}
    choices = [Choice(encode(NudgeKey(a.id)),
                      library.message("nudge_review_label", rep.locale, name=a.name))
               for a in shown]
    choices.append(Choice(encode(SnoozeKey()),
                          library.message("nudge_snooze_label", rep.locale)))
    return [DueNudge(rep.id, identity.channel, identity.external_id,
                     Reply(library.message("nudge", rep.locale, **context), tuple(choices)))]


def _week_come_round(now: datetime) -> ColumnElement[bool]:
    return (Rep.nudge_after.is_(None)) | (Rep.nudge_after <= now)
