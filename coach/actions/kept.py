"""Notes the rep typed in the middle of something else, kept until logged or dropped.

The runner keeps them (`EngineState.parked`) and, when a flow ends with some still kept,
starts the `kept` playbook, which shows the oldest (`show_kept_note`): `take_kept_note`
hands it to the log flow with the adverse events and removals the guard already recorded
from it; `drop_kept_note` lets it go (its adverse-event reports stay: they are stored on
their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import action
from coach.store.conversation import ParkedNote

if TYPE_CHECKING:
    from coach.context import Turn

MAX_KEPT = 10


def keep_note(turn: Turn, text: str) -> bool:
    """Keep `text` to be logged later, with what the guard found in it this turn; False
    when too many already wait (the rep is told, nothing is silently dropped)."""
    if len(turn.state.parked) >= MAX_KEPT:
        return False
    reports = list(turn.findings.reports)
    turn.state.parked.append(ParkedNote(text=text, reports=reports,
                                        redacted=sorted(turn.findings.redacted)))
    # its safety reports go with it: the visit being logged now is someone else's
    turn.state.reports = [r for r in turn.state.reports if r not in reports]
    return True


@action("show_kept_note", provides=("kept",))
def show_kept_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The oldest kept note, for the question that offers it."""
    parked = turn.state.parked
    turn.vars["kept"] = None if not parked else {
        "text": parked[0].text, "more": len(parked) - 1, "reports": len(parked[0].reports)}


@action("take_kept_note", provides=("note", "note_rest"))
def take_kept_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Take the oldest kept note into `note` for `next: "@log"`. A note longer than a
    message may be (`max_text_chars`, kept whole rather than refused: pipeline) is read for
    its first part, which bounds the reader's work (it grows faster than the text); the
    rest, `note_rest`, is stored with it when the visit is saved."""
    kept = turn.state.take_parked()
    turn.vars["note_rest"] = None
    if kept is None:  # logged from elsewhere since it was offered
        turn.vars["note"] = None
        return
    limit = turn.settings.max_text_chars
    turn.vars["note"] = kept.text[:limit]
    turn.vars["note_rest"] = kept.text[limit:] or None
    turn.state.redacted = sorted(set(turn.state.redacted) | set(kept.redacted))
    turn.state.reports += [r for r in kept.reports if r not in turn.state.reports]


@action("drop_kept_note", provides=("dropped",))
def drop_kept_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Drop the oldest note kept mid-question; `dropped.reports` counts its adverse events,
    which stay stored."""
    kept = turn.state.take_parked()
    turn.vars["dropped"] = {"reports": len(kept.reports)} if kept is not None else None
