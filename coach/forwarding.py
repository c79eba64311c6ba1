"""Closing a safety report as forwarded to pharmacovigilance, by the rep: never in one tap.

Forwarded stops the rep's reminders and the manager's escalation, so a slip (a mistyped
number in /today, where numbers shift with every list, or a button pressed on the wrong
message) must not close a real report silently. The rep is asked first, with the report
named (what was written, the customer, day 0 and the deadline); once confirmed, the report
can be reopened (撤销) for UNDO_WINDOW, from the confirmation's button or from /today, which
lists the reports the rep closed recently. A report the safety team closed themselves
(`repcoach ae forward`) is theirs: the rep cannot reopen it.

Every path that changes a report's status here keeps the row: a report is never deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from coach.messages import Choice
from coach.store.models import CLOSED_REPORTS, AdverseEvent
from coach.turn.keys import AdverseEventKey, encode

if TYPE_CHECKING:
    from coach.context import Turn

__all__ = ["BY_REP", "UNDO_WINDOW", "ask", "confirm", "described", "keep_open", "undo",
           "undoable"]

#: How long a rep can reopen a report they marked forwarded.
UNDO_WINDOW = timedelta(hours=24)
#: `forwarded_by` of a report the rep closed (the safety team's carry their own name).
BY_REP = "rep: "


def described(turn: Turn, event: AdverseEvent) -> dict[str, Any]:
    """What names a report to the rep: its phrase, customer, day 0 and deadline."""
    return {"phrase": event.phrase, "customer": event.customer,
            "day0": turn.local_time(event.day0), "deadline": turn.local_time(event.deadline),
            "late": event.deadline <= turn.now}


def undoable(event: AdverseEvent, now: datetime) -> bool:
    """Whether the rep may still reopen `event`: they closed it, within UNDO_WINDOW."""
    return (event.status == "forwarded" and event.forwarded_at is not None
            and (event.forwarded_by or "").startswith(BY_REP)
            and now - event.forwarded_at <= UNDO_WINDOW)


def ask(turn: Turn, event: AdverseEvent) -> bool:
    """Ask the rep to confirm `event` was forwarded; False when it is closed already."""
    if event.status in CLOSED_REPORTS:
        return False
    turn.say(turn.message("forward_confirm", **described(turn, event)), (
        Choice(encode(AdverseEventKey(event.id, "c")), turn.message("forward_confirm_label")),
        Choice(encode(AdverseEventKey(event.id, "k")), turn.message("forward_not_yet_label"))))
    return True


def confirm(turn: Turn, event: AdverseEvent) -> bool:
    """Close `event` as forwarded by the rep, and offer to undo it; False when it is closed
    already (an old confirmation pressed again changes nothing)."""
    if event.status in CLOSED_REPORTS:
        return False
    event.status, event.forwarded_at = "forwarded", turn.now
    event.forwarded_by = f"{BY_REP}{turn.rep.name}"[:100]
    turn.say(turn.message("adverse_event_forwarded", hours=int(UNDO_WINDOW.total_seconds()
                                                                // 3600),
                          **described(turn, event)),
             (Choice(encode(AdverseEventKey(event.id, "u")), turn.message("forward_undo_label")),))
    return True


def keep_open(turn: Turn, event: AdverseEvent) -> bool:
    """The rep answered "not yet": nothing changes; the deadline is said again."""
    if event.status in CLOSED_REPORTS:
        return False
    turn.say(turn.message("forward_kept_open", **described(turn, event)))
    return True


def undo(turn: Turn, event: AdverseEvent) -> bool:
    """Reopen a report the rep closed: its reminders and the manager's escalation run again
    (a reminder already due is sent at the next pass). False when it cannot be reopened
    here; the rep is told why and whom to ask."""
    if event.status != "forwarded":
        return False
    if not undoable(event, turn.now):
        turn.say(turn.message("forward_undo_too_late", hours=int(UNDO_WINDOW.total_seconds()
                                                                  // 3600),
                              **described(turn, event)))
        return True
    event.status, event.forwarded_at, event.forwarded_by = "open", None, None
    turn.say(turn.message("forward_undone", **described(turn, event)))
    return True
