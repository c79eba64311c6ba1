"""Logging a visit: the note, an optional follow-up, and one coaching prompt back.

The prompt is the best-fitting tactic for the customer's stage and style, so every visit
gives the rep something; without a diagnosed stage it asks for one instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.registry import action
from coach.actions.tactics import describe, rank_tactics, tactic_playbook
from coach.settings import EngineSettings

if TYPE_CHECKING:
    from coach.context import Turn


def remind_at(due: date, settings: EngineSettings) -> datetime:
    """The UTC moment of `reminder_hour` local time on the due day."""
    local = datetime.combine(due, time(hour=settings.reminder_hour))
    return local - timedelta(hours=settings.utc_offset_hours)


@action("log_visit", provides=("visit", "coaching"))
def log_visit(turn: Turn, _args: Mapping[str, Any]) -> None:
    account = turn.require_account()
    note_text = str(turn.vars.get("note") or "").strip()
    note = turn.store.add_note(account, note_text, turn.now) if note_text else None
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
