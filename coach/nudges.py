"""The weekly nudge to keep key accounts current.

A customer is proposed for re-evaluation when it was not re-assessed for `review_days`
(default 90) or its stage has not moved across `stalled_visits` logged visits. One message a
week per rep at most, with a button per customer (diagnose now) and a snooze. Buttons carry
`n<account id>` / `n.s` keys, checked against the pressing rep like any other key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.library import Library
from coach.messages import Choice, Reply
from coach.numbers import is_number
from coach.store.database import Database
from coach.store.models import Account, Note, Rep, StageChange
from coach.store.repo import Directory

SNOOZE = "n.s"
WEEK = timedelta(days=7)
MAX_PROPOSED = 3


@dataclass(frozen=True)
class DueNudge:
    rep_id: int
    channel: str
    user_id: str
    reply: Reply


def nudge_key(account_id: int) -> str:
    return f"n{account_id}"


def parse_nudge_key(key: str) -> int | str | None:
    """An account id to re-evaluate, SNOOZE, or None when the key is not a nudge key."""
    if key == SNOOZE:
        return SNOOZE
    if key.startswith("n") and is_number(key[1:]) and len(key) <= 20:
        return int(key[1:])
    return None


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


def due(database: Database, library: Library, now: datetime, channels: Iterable[str],
        review_days: int, stalled_visits: int) -> list[DueNudge]:
    """One nudge per rep whose week has come round and who has customers to re-evaluate."""
    order = list(channels)
    found: list[DueNudge] = []
    with database.transaction() as session:
        directory = Directory(session)
        reps = session.execute(
            select(Rep).where(Rep.active.is_(True),
                              (Rep.nudge_after.is_(None)) | (Rep.nudge_after <= now))
            .limit(500)
        ).scalars().all()
        for rep in reps:
            rep.nudge_after = now + WEEK
            stale = stale_accounts(session, rep.id, now, review_days, stalled_visits)
            identities = [i for i in directory.identities_of(rep.id) if i.channel in order]
            if not stale or not identities:
                continue
            identity = min(identities, key=lambda i: order.index(i.channel))
            shown = stale[:MAX_PROPOSED]
            context = {"names": [a.name for a in shown], "count": len(stale),
                       "rep": {"name": rep.name, "locale": rep.locale}}
            choices = [Choice(nudge_key(a.id),
                              library.message("nudge_review_label", rep.locale, name=a.name))
                       for a in shown]
            choices.append(Choice(SNOOZE, library.message("nudge_snooze_label", rep.locale)))
            found.append(DueNudge(rep.id, identity.channel, identity.external_id,
                                  Reply(library.message("nudge", rep.locale, **context),
                                        tuple(choices))))
    return found
