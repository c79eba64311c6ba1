"""Logging a visit: the note, an optional follow-up, and one coaching prompt back.

The prompt is the best-fitting tactic for the customer's stage and style, so every visit
gives the rep something; without a diagnosed stage it asks for one instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.registry import action
from coach.actions.tactics import describe, rank_tactics, tactic_playbook
from coach.settings import EngineSettings

if TYPE_CHECKING:
    from coach.context import Turn


@dataclass(frozen=True)
class NoteReview:
    """What the compliance guard found in a note, in the shape the store and texts need."""

    text: str
    redacted: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    adverse_phrases: list[str] = field(default_factory=list)

    def view(self, turn: Turn) -> dict[str, Any]:
        guard = turn.library.guard
        explain = (lambda c: guard.explanation(c, turn.locale)) if guard else (lambda c: c)
        return {
            "redacted": [{"category": c, "explanation": explain(c)} for c in self.redacted],
            "flags": [{"category": c, "explanation": explain(c)} for c in self.flags],
            "adverse_event": None,
            "issues": bool(self.redacted or self.flags or self.adverse_phrases),
        }


def review_note(turn: Turn, text: str) -> NoteReview:
    """Run the guard on a note (its personal data was already removed on input; this pass
    finds flags and adverse events, and catches anything that slipped in another way)."""
    guard = turn.library.guard
    if guard is None or not text:
        return NoteReview(text)
    result = guard.check(text)
    redacted = sorted(set(turn.vars.pop("_redacted", [])) | {r.category
                                                               for r in result.redactions})
    flags = sorted({f.category for f in result.flags}
                   | ({"prescription_count"} if "prescription_count" in redacted else set()))
    phrases = list(result.adverse_event.phrases) if result.adverse_event else []
    return NoteReview(result.redacted, [c for c in redacted if c == "personal_data"], flags,
                      phrases)


def remind_at(due: date, settings: EngineSettings) -> datetime:
    """The UTC moment of `reminder_hour` local time on the due day."""
    local = datetime.combine(due, time(hour=settings.reminder_hour))
    return local - timedelta(hours=settings.utc_offset_hours)


@action("log_visit", provides=("visit", "coaching", "compliance"))
def log_visit(turn: Turn, _args: Mapping[str, Any]) -> None:
    account = turn.require_account()
    note_text = str(turn.vars.get("note") or "").strip()
    review = review_note(turn, note_text)
    note = turn.store.add_note(account, review.text, turn.now, flags=review.flags,
                               redactions=review.redacted) if note_text else None
    turn.vars["compliance"] = review.view(turn)
    if review.adverse_phrases and note is not None:
        event = turn.store.add_adverse_event(
            account, note, review.adverse_phrases[0], turn.now,
            timedelta(hours=turn.settings.adverse_event_hours),
            timedelta(hours=turn.settings.adverse_event_remind_before_hours))
        turn.vars["compliance"]["adverse_event"] = {
            "day0": turn.local_time(event.day0), "deadline": turn.local_time(event.deadline),
            "phrase": event.phrase, "hours": turn.settings.adverse_event_hours}
    due_iso = turn.vars.get("due_date")
    due: date | None = date.fromisoformat(due_iso) if isinstance(due_iso, str) else None
    if due is not None:
        action_text = turn.vars.get("next_action")
        turn.store.add_followup(account, note, str(action_text) if action_text else None,
                                due.isoformat(), remind_at(due, turn.settings), turn.now)
    done = turn.store.followup(turn.vars.get("followup") or 0)
    if done is not None:
        done.status = "done"
    turn.vars["visit"] = {"note_id": note.id if note else None,
                          "due": due.isoformat() if due else None}
    turn.vars["coaching"] = coaching_prompt(turn)


def coaching_prompt(turn: Turn) -> str:
    account = turn.require_account()
    playbook = tactic_playbook(turn.library)
    if account.stage is None or playbook is None:
        return turn.message("coaching_no_stage", account=turn.account_view(account))
    ranked = rank_tactics(turn, playbook, account, blocked=set())
    if not ranked:
        return turn.message("coaching_no_stage", account=turn.account_view(account))
    tactic = describe(turn, playbook, account, ranked[0])
    return f"{tactic['text']}\n{tactic['why']}"


@action("reschedule_followup", provides=("followup_due",))
def reschedule_followup(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Move the reminded follow-up to the date the rep gave; it will remind again then."""
    followup = turn.store.followup(turn.vars.get("followup") or 0)
    due_iso = turn.vars.get("due_date")
    turn.vars["followup_due"] = None
    if followup is None or not isinstance(due_iso, str):
        return
    due = date.fromisoformat(due_iso)
    followup.due_date = due.isoformat()
    followup.remind_at = remind_at(due, turn.settings)
    followup.status = "open"
    followup.sent_at = None
    turn.vars["followup_due"] = due.isoformat()


@action("edit_note", provides=("compliance",))
def edit_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Replace the note just logged with the rep's edited text, checked again."""
    visit = turn.vars.get("visit") or {}
    note = turn.store.note(visit.get("note_id") or 0)
    text = str(turn.vars.get("note_edit") or "").strip()
    if note is None or not text:
        return
    review = review_note(turn, text)
    note.text, note.flags = review.text, review.flags
    note.redactions = sorted(set(note.redactions or []) | set(review.redacted))
    turn.vars["compliance"] = review.view(turn)
