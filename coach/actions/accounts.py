"""Seeing and editing the rep's accounts: list, card, rename, merge duplicates, archive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import action

if TYPE_CHECKING:
    from coach.context import Turn

CARD_NOTES = 5


@action("list_accounts", provides=("accounts", "account_count"))
def list_accounts(turn: Turn, _args: Mapping[str, Any]) -> None:
    accounts = [turn.account_view(a) for a in turn.store.active_accounts()]
    turn.vars["accounts"] = accounts
    turn.vars["account_count"] = len(accounts)


@action("account_overview", provides=("overview",))
def account_overview(turn: Turn, _args: Mapping[str, Any]) -> None:
    account = turn.require_account()
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
    }


@action("rename_account")
def rename_account(turn: Turn, _args: Mapping[str, Any]) -> None:
    new_name = str(turn.vars.get("new_name") or "").strip()
    if new_name:
        turn.store.rename(turn.require_account(), new_name, turn.now)


@action("merge_accounts", args={"from": ()})
def merge_accounts(turn: Turn, args: Mapping[str, Any]) -> None:
    keep = turn.require_account()
    duplicate = turn.store.account(turn.vars.get(str(args["from"])))
    if duplicate is not None and duplicate.id != keep.id:
        turn.store.merge(keep, duplicate, turn.now)


@action("archive_account")
def archive_account(turn: Turn, _args: Mapping[str, Any]) -> None:
    turn.store.archive(turn.require_account(), turn.now)
