"""Follow-up reminders: rows in the store, not timers in a process.

A reminder goes out once, whatever the number of workers: `claim_due` takes the rows whose
time has come, marks them and hands back their messages in one transaction, in which the
caller also puts the messages in the outbox (coach/claims.py). A crash after that commit
leaves the messages in the outbox for the next pass of any worker, not lost and not sent
twice.

Reminder buttons carry `ReminderKey`s (coach.turn.keys): they do not depend on where the
rep is in a conversation, and the follow-up id is checked against the pressing rep before
anything happens, so a forged key does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coach.claims import due_rows
from coach.library import Library
from coach.messages import Choice, Reply
from coach.store.models import (
    CLOSED_REPORTS,
    Account,
    AdverseEvent,
    FollowUp,
    Identity,
    Rep,
)
from coach.store.repo import Directory
from coach.turn.keys import AdverseEventKey, ReminderAction, ReminderKey, encode

LOG: ReminderAction = "l"
RESCHEDULE: ReminderAction = "s"
DROP: ReminderAction = "d"


#: What a reminder is about: a follow-up, an adverse event near its deadline (to the rep),
#: one past its deadline and not forwarded (to the rep's manager), or one left open by a rep
#: who can no longer be reminded (revoked, or erased with /forget: to the manager at once).
ReminderKind = Literal["followup", "adverse_event", "escalation", "handover"]


@dataclass(frozen=True)
class DueReminder:
    kind: ReminderKind
    ref: int  # the id of what `kind` names: the follow-up's, or the adverse event's
    channel: str
    user_id: str
    reply: Reply


BATCH = 100  # follow-ups per query; the runner asks again while batches come back full
#: An unconfirmed report keeps its status once reminded (the rep can still answer the
#: question); its next reminder time moves this far past the deadline, i.e. never again.
REMINDED = timedelta(days=3650)


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


def claim_due(session: Session, library: Library, now: datetime, channels: Iterable[str],
              offset_hours: int, limit: int = BATCH) -> list[DueReminder]:
    """Every kind of reminder due now, claimed (coach/claims.py): follow-ups, adverse events
    near their deadline, and those past it for the managers. What is returned is marked as
    sent in `session`; the caller posts it to the outbox in the same transaction."""
    order = list(channels)
    return [*_followups(session, library, now, order, limit),
            *_adverse_events(session, library, now, order, offset_hours),
            *_handovers(session, library, now, order, offset_hours),
            *_escalations(session, library, now, order, offset_hours)]


def _followups(session: Session, library: Library, now: datetime, order: list[str],
               limit: int) -> list[DueReminder]:
    """Follow-ups due now for reps reachable on one of `order` (first listed wins)."""
    found: list[DueReminder] = []
    directory = Directory(session)
    for followup in directory.due_followups(now, order, limit):
        rep = session.get(Rep, followup.rep_id)
        account = session.execute(
            select(Account).where(Account.id == followup.account_id,
                                  Account.rep_id == followup.rep_id)
        ).scalar_one_or_none()
        if rep is None or account is None or not rep.active:
            continue
        identity = _first(directory.identities_of(rep.id), order)
        if identity is None:
            continue
        followup.status, followup.sent_at = "sent", now
        found.append(DueReminder("followup", followup.id, identity.channel,
                                 identity.external_id,
                                 reminder_reply(library, rep, account, followup)))
    return found


def _adverse_events(session: Session, library: Library, now: datetime, order: list[str],
                    offset_hours: int) -> list[DueReminder]:
    """Adverse events not yet forwarded whose deadline is near: remind the rep once."""
    found: list[DueReminder] = []
    directory = Directory(session)
    events = session.execute(due_rows(
        select(AdverseEvent).where(AdverseEvent.status.in_(("open", "unconfirmed")),
                                   AdverseEvent.remind_at <= now,
                                   AdverseEvent.rep_id.in_(Directory.reachable_reps(order)))
        .order_by(AdverseEvent.remind_at).limit(BATCH))
    ).scalars().all()
    for event in events:
        rep = session.get(Rep, event.rep_id)
        identity = _first(directory.identities_of(event.rep_id), order)
        if rep is None or identity is None:
            continue
        text = library.message("adverse_event_reminder", rep.locale,
                               due=_local(event.deadline, offset_hours),
                               name=event.phrase, rep={"name": rep.name,
                                                       "locale": rep.locale})
        buttons = [Choice(encode(AdverseEventKey(event.id)),
                          library.message("adverse_event_forwarded_label", rep.locale))]
        if event.status == "unconfirmed":  # the rep can still say it is not one
            buttons += [
                Choice(encode(AdverseEventKey(event.id, "y")),
                       library.message("adverse_event_yes_label", rep.locale)),
                Choice(encode(AdverseEventKey(event.id, "n")),
                       library.message("adverse_event_no_label", rep.locale))]
            event.remind_at = event.deadline + REMINDED  # reminded once; the question stays
        else:  # a false alarm can still be said so, with a reason (coach/dismissal.py)
            buttons.append(Choice(encode(AdverseEventKey(event.id, "d")),
                                  library.message("adverse_event_dismiss_label", rep.locale)))
            event.status = "reminded"
        found.append(DueReminder("adverse_event", event.id, identity.channel,
                                 identity.external_id, Reply(text, tuple(buttons))))
    return found


def _handovers(session: Session, library: Library, now: datetime, order: list[str],
               offset_hours: int) -> list[DueReminder]:
    """Open reports of a rep who can no longer be reminded (revoked, or their data erased
    with /forget), before their deadline: the rep's reminder cannot reach them, so the
    manager(s) of the team are told now, once; the escalation at the deadline follows as
    for any report. Handed over, `remind_at` is set to the deadline (a revoked rep's own
    reminder can never be sent, see `Directory.reachable_reps`)."""
    pending = session.execute(due_rows(
        select(AdverseEvent).join(Rep, Rep.id == AdverseEvent.rep_id)
        .where(AdverseEvent.status.not_in(CLOSED_REPORTS), AdverseEvent.deadline > now,
               AdverseEvent.remind_at < AdverseEvent.deadline, Rep.active.is_(False),
               Rep.team.in_(_managed()))
        .order_by(AdverseEvent.deadline).limit(BATCH), AdverseEvent)
    ).scalars().all()
    return _tell_managers(session, library, pending, "handover", order, offset_hours, now)


def _escalations(session: Session, library: Library, now: datetime, order: list[str],
                 offset_hours: int) -> list[DueReminder]:
    """Adverse events past their deadline and not forwarded: tell the manager(s) of the
    rep's team once, whether the rep is still active or not (a revoked rep's report still
    has to reach pharmacovigilance). Told to one manager, it counts as told."""
    overdue = session.execute(due_rows(
        select(AdverseEvent).join(Rep, Rep.id == AdverseEvent.rep_id)
        .where(AdverseEvent.status.not_in(CLOSED_REPORTS), AdverseEvent.deadline <= now,
               AdverseEvent.escalated_at.is_(None), Rep.team.in_(_managed()))
        .order_by(AdverseEvent.deadline).limit(BATCH), AdverseEvent)
    ).scalars().all()
    return _tell_managers(session, library, overdue, "escalation", order, offset_hours, now)


def _managed() -> Select[Any]:
    """The teams with an active manager (a subquery)."""
    return select(Rep.team).where(Rep.role == "manager", Rep.active.is_(True))


def _tell_managers(session: Session, library: Library, events: Iterable[AdverseEvent],
                   kind: ReminderKind, order: list[str], offset_hours: int, now: datetime
                   ) -> list[DueReminder]:
    """One message per report to each of its escalation targets (`kind` says which
    message); the report is marked told (handed over or escalated)."""
    found: list[DueReminder] = []
    directory = Directory(session)
    for event in events:
        rep = session.get(Rep, event.rep_id)
        if rep is None or not rep.team:
            continue
        for manager in directory.escalation_targets(rep):
            identity = _first(directory.identities_of(manager.id), order)
            if identity is None:
                continue
            text = library.message(
                "adverse_event_escalation", manager.locale, overdue=kind == "escalation",
                own=manager.id == rep.id,
                who=rep.name or library.message("team_forgotten_rep", manager.locale,
                                                number=rep.id),
                name=event.phrase, customer=event.customer,
                day0=_local(event.day0, offset_hours),
                due=_local(event.deadline, offset_hours),
                rep={"name": manager.name, "locale": manager.locale})
            if kind == "escalation":
                event.escalated_at = now
            else:
                event.remind_at = event.deadline
            found.append(DueReminder(kind, event.id, identity.channel,
                                     identity.external_id, Reply(text)))
    return found


def _first(identities: Iterable[Identity], order: list[str]) -> Identity | None:
    """The identity on the first listed channel the person has."""
    reachable = [i for i in identities if i.channel in order]
    return min(reachable, key=lambda i: order.index(i.channel)) if reachable else None


def _local(moment: datetime, offset_hours: int) -> str:
    return (moment + timedelta(hours=offset_hours)).strftime("%Y-%m-%d %H:%M")
