"""A message from a rep whose access was revoked that reads as an adverse event.

Revoked means nothing the person sends is kept as coaching data. A safety report is
different: the rep heard of an adverse event, day 0 has started whatever their access to
RepCoach, and the company must not lose it (docs: domain.md, "a safety report is never
lost"). So the text, personal data removed by the guard, is stored as a report under the
revoked rep, with no customer; the team's manager is told at once by the next reminder
pass (coach/reminders.py, handovers), the safety team sees it in `repcoach ae list`, and
the person is told to contact pharmacovigilance directly, with the deadline. Nothing else
of the message is kept. A redelivered message is recorded once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from coach.library import Library
from coach.messages import Incoming, Reply
from coach.settings import EngineSettings
from coach.store.models import Rep
from coach.store.repo import Directory, RepStore
from coach.turn.door import GUARDED_CHARS, normalise

__all__ = ["SOURCE", "revoked_report"]

SOURCE = "sent after access was revoked"
ERASED_SOURCE = "sent after the data was erased"


def revoked_report(directory: Directory, library: Library, settings: EngineSettings,
                   incoming: Incoming, now: datetime, locale: str, *,
                   erased: Rep | None = None) -> Reply | None:
    """The reply to a revoked rep's message that reads as an adverse event, the report
    stored; None when it does not read as one (the usual "access revoked" reply applies).
    The same for someone whose data was erased (/forget) and has no account now: the report
    is stored under the anonymised rep it was erased from (`erased`), as the law keeps
    their earlier ones."""
    rep = erased or directory.revoked_rep(incoming.channel, incoming.user_id)
    guard = library.guard
    if rep is None or guard is None or not incoming.text:
        return None
    result = guard.check(normalise(incoming.text)[:GUARDED_CHARS])
    found = result.adverse_event or result.possible_event
    if found is None:
        return None
    store = RepStore(directory.session, rep)
    deadline = now + timedelta(hours=settings.adverse_event_hours)
    if not (incoming.message_id and store.seen_message(incoming.channel,
                                                       incoming.message_id, now)):
        event = store.add_adverse_event(
            None, None, found.phrases[0], now, timedelta(hours=settings.adverse_event_hours),
            timedelta(hours=settings.adverse_event_remind_before_hours),
            report=result.redacted, source=SOURCE if erased is None else ERASED_SOURCE,
            status="open" if result.adverse_event is not None else "unconfirmed",
            kind=found.kind)
        deadline = event.deadline
    managers = [m.name for m in directory.escalation_targets(rep) if m.id != rep.id]
    local = deadline + timedelta(hours=settings.utc_offset_hours)
    key = "erased_report" if erased is not None else "access_revoked_report"
    return Reply(library.message(key, locale, phrase=found.phrases[0],
                                 deadline=local.strftime("%Y-%m-%d %H:%M"),
                                 hours=settings.adverse_event_hours, names=managers))
