"""Seeing and editing the rep's accounts: list, card, rename, merge duplicates, archive,
and tidying the notes on a card (a note filed under the wrong customer is moved or deleted)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from coach.actions.dates import date_view
from coach.actions.moving import move_reports
from coach.actions.registry import action

if TYPE_CHECKING:
    from coach.context import Turn

CARD_NOTES = 5


@action("list_accounts", provides=("accounts", "account_count"))
def list_accounts(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`accounts`: the rep's customers ({name, hospital, department, stage_name, style}),
    the last visited first, in the picker's order, and `account_count`."""
    accounts = [turn.account_view(a) for a in turn.store.recent_accounts(None)]
    turn.vars["accounts"] = accounts
    turn.vars["account_count"] = len(accounts)


@action("account_overview", provides=("overview",))
def account_overview(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The current customer's card: `overview` holds `stage_history` ({date, stage_name,
    previous_name}), `notes` ({date, text}, newest first), `style_history` ({date, letters,
    confidence_pct}), the open `objections` ({date, phrase, name}), the safety `reports`
    not yet forwarded ({phrase, deadline, late}: a card never hides an open report) and the
    open `followups` ({due, action, late}, soonest first)."""
    account = turn.require_account()
    today = turn.local_now.date()
    library, locale = turn.library, turn.locale
    turn.vars["overview"] = {
        "stage_history": [
            {"date": turn.local_date(row.created_at),
             "stage_name": library.stage_name(row.stage, locale),
             "previous_name": library.stage_name(row.previous_stage, locale),
             "confidence_pct": round(row.confidence * 100)}
            for row in turn.store.stage_history(account)
        ],
        "style_history": [
            {"date": turn.local_date(row.created_at), "letters": row.letters,
             "name": library.style_name(row.letters, locale),
             "confidence_pct": round(row.confidence * 100)}
            for row in turn.store.style_assessments(account)
        ],
        "notes": [
            {"date": turn.local_date(note.created_at), "text": note.text}
            for note in turn.store.recent_notes(account, CARD_NOTES)
        ],
        "objections": [
            {"date": turn.local_date(row.created_at), "phrase": row.phrase,
             "name": library.label("objections", row.kind, locale)}
            for row in turn.store.open_objections(account)
        ],
        "reports": [
            {"phrase": row.phrase, "deadline": turn.local_time(row.deadline),
             "late": row.deadline <= turn.now}
            for row in turn.store.open_reports(account)
        ],
        # what is still to do for the customer, soonest first (overdue ones included)
        "followups": [
            {"due": date_view(date.fromisoformat(row.due_date), today) if row.due_date
             else None, "action": row.action,
             "late": bool(row.due_date and row.due_date < today.isoformat())}
            for row in turn.store.open_followups(account)
        ],
    }


@action("rename_account")
def rename_account(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Rename the current customer to `new_name`."""
    new_name = str(turn.vars.get("new_name") or "").strip()
    if new_name:
        turn.store.rename(turn.require_account(), new_name, turn.now)


@action("merge_accounts", args={"from": ()})
def merge_accounts(turn: Turn, args: Mapping[str, Any]) -> None:
    """Merge the duplicate customer saved in the variable `from` names into the current one:
    its notes and history move over and the duplicate is archived."""
    keep = turn.require_account()
    duplicate = turn.store.account(turn.vars.get(str(args["from"])))
    if duplicate is not None and duplicate.id != keep.id:
        turn.store.merge(keep, duplicate, turn.now)


@action("describe_account", provides=("other_account",), args={"of": ()})
def describe_account(turn: Turn, args: Mapping[str, Any]) -> None:
    """`other_account`: the customer an `input: account` step saved in the variable `of`
    names (the duplicate to merge), as `account` is shown, with `note_count`; or none."""
    other = turn.store.account(turn.vars.get(str(args["of"])))
    view = turn.account_view(other)
    turn.vars["other_account"] = (
        {**view, "note_count": turn.store.note_count(other)}
        if view is not None and other is not None else None)


@action("archive_account")
def archive_account(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Archive the current customer: off the lists and suggestions, history kept."""
    turn.store.archive(turn.require_account(), turn.now)


PICKABLE_NOTES = 8
NOTE_LABEL = 40


@action("list_notes", provides=("note_items",))
def list_notes(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The customer's recent notes as a list to pick one from."""
    account = turn.require_account()
    turn.vars["note_items"] = [
        {"id": note.id, "label": f"{turn.local_date(note.created_at)[5:]} "
                                 f"{_short(note.text, NOTE_LABEL)}"}
        for note in turn.store.recent_notes(account, PICKABLE_NOTES)
    ]


@action("describe_note", provides=("picked_note",))
def describe_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`picked_note`: the date and text of the note in `note_id`, to confirm before a move."""
    note = turn.store.note(turn.vars.get("note_id") or 0)
    turn.vars["picked_note"] = None if note is None else {
        "date": turn.local_date(note.created_at), "text": note.text}


@action("move_note", provides=("moved", "moved_reports"))
def move_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """File the picked note (with its follow-ups, objections and safety reports) under the
    customer chosen; `moved_reports` lists the reports that went along (never silently:
    each report records the move)."""
    note = turn.store.note(turn.vars.get("note_id") or 0)
    target = turn.store.account(turn.vars.get("move_to"))
    source = turn.store.account(note.account_id) if note is not None else None
    turn.vars["moved"], turn.vars["moved_reports"] = None, []
    if note is None or target is None or source is None or note.account_id == target.id:
        return
    turn.vars["moved_reports"] = move_reports(turn, note, source, target, "")
    turn.store.move_note(note, target, turn.now)
    turn.vars["moved"] = turn.account_view(target)


@action("delete_note", provides=("deleted",))
def delete_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Delete the note in `note_id`: its follow-ups and objections go, a safety report stays;
    `deleted` says whether it went."""
    note = turn.store.note(turn.vars.get("note_id") or 0)
    turn.vars["deleted"] = note is not None
    if note is not None:
        turn.store.delete_note(note)


@action("resolve_objections", provides=("resolved",))
def resolve_objections(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The customer's concerns are answered: they leave the card and the suggestions."""
    turn.vars["resolved"] = turn.store.resolve_objections(turn.require_account(), turn.now)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
