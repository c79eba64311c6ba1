"""Follow-up reminders: rows in the store, not timers in a process.

A reminder is delivered at least once: `due` reads the open follow-ups whose time has come,
the channel sends them, and only then `mark_sent` records the delivery. A crash in between
sends the reminder again after the restart rather than losing it.

Reminder buttons carry `r<id>.<action>` keys: they do not depend on where the rep is in a
conversation, and the follow-up id is checked against the pressing rep before anything
happens, so a forged key does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from coach.library import Library
from coach.messages import Choice, Reply
from coach.store.database import Database
from coach.store.models import Account, FollowUp, Rep
from coach.store.repo import Directory

LOG, RESCHEDULE, DROP = "l", "s", "d"
ACTIONS = (LOG, RESCHEDULE, DROP)


@dataclass(frozen=True)
class DueReminder:
    followup_id: int
    channel: str
    user_id: str
    reply: Reply


def reminder_key(followup_id: int, action: str) -> str:
    return f"r{followup_id}.{action}"


def parse_reminder_key(key: str) -> tuple[int, str] | None:
    if not key.startswith("r"):
        return None
    number, _, action = key[1:].partition(".")
    if not number.isdigit() or action not in ACTIONS or len(key) > 64:
        return None
    return int(number), action


def reminder_reply(library: Library, rep: Rep, account: Account, followup: FollowUp) -> Reply:
    locale = rep.locale
    context = {"account": {"name": account.name, "hospital": account.hospital},
               "action": followup.action, "due": followup.due_date,
               "rep": {"name": rep.name, "locale": locale}}
    text = library.message("reminder", locale, **context)
    choices = tuple(
        Choice(reminder_key(followup.id, action), library.message(label, locale))
        for action, label in ((LOG, "reminder_log_label"),
                              (RESCHEDULE, "reminder_reschedule_label"),
                              (DROP, "reminder_drop_label"))
    )
    return Reply(text, choices)


def due(database: Database, library: Library, now: datetime, channels: Iterable[str],
        limit: int = 100) -> list[DueReminder]:
    """Reminders due now for reps reachable on one of `channels` (first listed wins)."""
    order = list(channels)
    found: list[DueReminder] = []
    with database.transaction() as session:
        directory = Directory(session)
        for followup in directory.due_followups(now, limit):
            rep = session.get(Rep, followup.rep_id)
            account = session.execute(
                select(Account).where(Account.id == followup.account_id,
                                      Account.rep_id == followup.rep_id)
            ).scalar_one_or_none()
            if rep is None or account is None or not rep.active:
                continue
            identities = [i for i in directory.identities_of(rep.id) if i.channel in order]
            if not identities:
                continue
            identity = min(identities, key=lambda i: order.index(i.channel))
            found.append(DueReminder(followup.id, identity.channel, identity.external_id,
                                     reminder_reply(library, rep, account, followup)))
    return found


def mark_sent(database: Database, followup_ids: Iterable[int], now: datetime) -> None:
    ids = list(followup_ids)
    if not ids:
        return
    with database.transaction() as session:
        for followup in session.execute(
            select(FollowUp).where(FollowUp.id.in_(ids), FollowUp.status == "open")
        ).scalars():
            followup.status = "sent"
            followup.sent_at = now
