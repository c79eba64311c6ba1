"""A rep says a report the guard filed is not an adverse event ("王主任说我们的副作用比竞品少"
read as one, a competitor's patient, a case already forwarded).

Nothing is erased (domain.md: reports and their audit trail are kept): the report is closed
as "not_ae", which stops its reminders and the manager's escalation, and keeps who said so,
when and why, for the manager (/team) and the safety team (`repcoach ae export --all`). The
same note sent twice is one report (`repeated`); saying "not one" closes every open copy of
it, so none is left due.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from coach.messages import Choice
from coach.store.models import AdverseEvent
from coach.turn.keys import AdverseEventAction, AdverseEventKey, encode

if TYPE_CHECKING:
    from coach.context import Turn

__all__ = ["REASONS", "TYPED", "UNRELATED", "ask_why", "dismiss", "repeated"]

#: Why a report is not one, as the rep chooses it (button key -> stored reason). Each has a
#: label `dismiss_reason_<reason>` in playbooks/system.yaml.
REASONS: dict[AdverseEventAction, str] = {
    "ne": "no_event",      # nothing happened: an opinion, a comparison, a worry, a question
    "nc": "competitor",    # it was another company's product
    "nr": "reported",      # already reported: the same case told again
    "np": "not_patient",   # not a patient on our product (the doctor's own illness …)
}
#: A reason the rep typed instead of choosing one (kept whole in dismissed_note).
TYPED = "typed"
#: The answer "不是，和我们的药无关" to the guard's question for an event without the product.
UNRELATED = "unrelated"


def ask_why(turn: Turn, event: AdverseEvent) -> None:
    """Ask why `event` is not an adverse event, one button per reason (from the 🚨 notice's
    button or /today), or typed as the next message (coach/turn/typed_reason.py); the
    report stays open until one is given."""
    turn.state.dismissing, turn.state.dismissing_at = event.id, turn.now
    turn.say(turn.message("adverse_event_dismiss_ask", phrase=event.phrase),
             tuple(Choice(encode(AdverseEventKey(event.id, action)),
                          turn.message(f"dismiss_reason_{reason}"))
                   for action, reason in REASONS.items()))


def repeated(turn: Turn, report: str) -> AdverseEvent | None:
    """The rep's open report with this very text taken within the reporting window: the
    same note sent again (after /cancel, a retry) is that report, not a second one."""
    since = turn.now - timedelta(hours=turn.settings.adverse_event_hours)
    same = turn.store.same_open_reports(report, since)
    return same[0] if same else None


def dismiss(turn: Turn, event: AdverseEvent, reason: str,
            note: str | None = None) -> list[AdverseEvent]:
    """Close `event` and every open copy of it as not an adverse event, keeping who, when
    and why (`note`: the reason as typed, with `reason` TYPED); returns what was closed."""
    since = event.day0 - timedelta(hours=turn.settings.adverse_event_hours)
    closed = [event, *(e for e in turn.store.same_open_reports(event.report, since)
                       if e.id != event.id)]
    for each in closed:
        turn.store.dismiss_report(each, reason, turn.now, note)
    return closed
