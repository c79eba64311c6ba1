"""Follow-up reminders: rows in the store, not timers in a process.

A reminder is delivered at least once: `due` reads the open follow-ups whose time has come,
the channel sends them, and only then `mark_sent` records the delivery. A crash in between
sends the reminder again after the restart rather than losing it.

Reminder buttons carry `ReminderKey`s (coach.turn.keys): they do not depend on where the
rep is in a conversation, and the follow-up id is checked against the pressing rep before
anything happens, so a forged key does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from coach.library import Library
from coach.messages import Choice, Reply
from coach.store.database import Database
from coach.store.models import Account, AdverseEvent, FollowUp, Rep
from coach.store.repo import Directory
from coach.turn.keys import AdverseEventKey, ReminderAction, ReminderKey, encode

LOG: ReminderAction = "l"
RESCHEDULE: ReminderAction = "s"
DROP: ReminderAction = "d"


@dataclass(frozen=True)
class DueReminder:
    followup_id: int
    channel: str
    user_id: str
    reply: Reply


BATCH = 100  # follow-ups per query; the runner asks again while batches come back full

def reminder_reply(library: Library, rep: Rep, account: Account, followup: FollowUp) -> Reply:
    locale = rep.locale
    context = {"account": {"name": account.name, "hospital": account.hospital},
               "action": followup.action, "due": followup.due_date,
               "rep": {"name": rep.name, "locale": locale}}
    text = library.message("reminder", locale, **context)
    choices = tuple(
        Choice(encode(ReminderKey(followup.id, action)), library.message(label, locale))
        for action, label in ((LOG, "reminder_log_label"),
                              (RESCHEDULE, "reminder_reschedule_label"),
                              (DROP, "reminder_drop_label"))
    )
    return Reply(text, choices)


def due(database: Database, library: Library, now: datetime, channels: Iterable[str],
        limit: int = BATCH) -> list[DueReminder]:
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


def due_adverse_events(database: Database, library: Library, now: datetime,
                       channels: Iterable[str], offset_hours: int) -> list[DueReminder]:
    """Adverse events not yet forwarded whose deadline is near: remind the rep once.

    `followup_id` carries the event id negated, so one list serves both kinds."""
    order = list(channels)
    found: list[DueReminder] = []
    with database.transaction() as session:
        directory = Directory(session)
        events = session.execute(
            select(AdverseEvent).where(AdverseEvent.status == "open",
                                       AdverseEvent.remind_at <= now).limit(100)
        ).scalars().all()
        for event in events:
            rep = session.get(Rep, event.rep_id)
            identities = [i for i in directory.identities_of(event.rep_id) if i.channel in order]
            if rep is None or not identities:
                continue
            identity = min(identities, key=lambda i: order.index(i.channel))
            deadline = (event.deadline + timedelta(hours=offset_hours)).strftime("%Y-%m-%d %H:%M")
            text = library.message("adverse_event_reminder", rep.locale, due=deadline,
                                   name=event.phrase, rep={"name": rep.name,
                                                           "locale": rep.locale})
            button = Choice(encode(AdverseEventKey(event.id)),
                            library.message("adverse_event_forwarded_label", rep.locale))
            found.append(DueReminder(-event.id, identity.channel, identity.external_id,
                                     Reply(text, (button,))))
    return found


def mark_sent(database: Database, followup_ids: Iterable[int], now: datetime) -> None:
    """Record delivery: follow-ups by id, adverse-event reminders by negated id."""
    ids = list(followup_ids)
    if not ids:
        return
    with database.transaction() as session:
        for followup in session.execute(
            select(FollowUp).where(FollowUp.id.in_([i for i in ids if i > 0]),
                                   FollowUp.status == "open")
        ).scalars():
            followup.status = "sent"
            followup.sent_at = now
        for event in session.execute(
            select(AdverseEvent).where(AdverseEvent.id.in_([-i for i in ids if i < 0]),
                                       AdverseEvent.status == "open")
        ).scalars():
            event.status = "reminded"
