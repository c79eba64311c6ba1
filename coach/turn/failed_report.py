"""An adverse event in a message whose turn failed for a reason of the code or a playbook.

A turn is one transaction: when it fails, the report the door stored in it is rolled back
with everything else. When the database itself failed nothing can be stored, and the reply
says so. But when the database is fine and the turn broke on a bug (a playbook text that
cannot render, an exception in an action), sending again may fail the same way every time,
and the report would be lost for as long as the bug stays. So the report alone is stored in
a transaction of its own: the rep's words (personal data removed), no customer, its clock
from now, a source that says why; the reply says it is kept (engine `saved_nothing`). The
same text already open within the reporting window is that report, not a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from coach.compliance.guard import GuardResult
from coach.messages import Incoming
from coach.settings import EngineSettings
from coach.store.repo import Directory, RepStore

__all__ = ["SOURCE", "keep_report_alone"]

SOURCE = "kept alone: the message's turn failed"


def keep_report_alone(session: Session, settings: EngineSettings, incoming: Incoming,
                      result: GuardResult, now: datetime) -> datetime | None:
    """Store the report `result` found in `incoming`; its deadline, or None when the sender
    is no active rep (a stranger's or revoked rep's message is handled elsewhere)."""
    found = result.adverse_event or result.possible_event
    rep = Directory(session).rep_for_identity(incoming.channel, incoming.user_id)
    if found is None or rep is None:
        return None
    store = RepStore(session, rep)
    window = timedelta(hours=settings.adverse_event_hours)
    same = store.same_open_reports(result.redacted, now - window)
    if same:
        return same[0].deadline
    event = store.add_adverse_event(
        None, None, found.phrases[0], now, window,
        timedelta(hours=settings.adverse_event_remind_before_hours),
        report=result.redacted, source=SOURCE,
        status="open" if result.adverse_event is not None else "unconfirmed", kind=found.kind)
    return event.deadline
