"""Moving or cancelling a named customer's open follow-up by text ("王主任那个跟进改到下周
二", "刘医生的跟进推迟一周", "取消张主任下周三的拜访"), whichever visit was saved last. The
reader is coach/capture/moves.py; the note reader hands it over (`followup_move`).

The follow-up keeps its step; only its day changes (or it is dropped), and the reply says
from when to when. Several open ones: the rep picks (numbered). None, or no customer of
that name: said so, and the text can still be logged as a note, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.dates import date_view
from coach.actions.registry import action
from coach.capture.matching import Mention
from coach.capture.moves import FollowupMove
from coach.capture.revisions import in_week_of
from coach.store.models import OPEN_FOLLOWUPS, FollowUp
from coach.turn.picker import find_account

if TYPE_CHECKING:
    from coach.context import Turn


def move_request(move: FollowupMove) -> dict[str, Any]:
    """The move as flow variables keep it (JSON)."""
    return {"name": move.person.name, "hospital": move.person.hospital,
            "department": move.person.department, "title": move.person.title,
            "cancel": move.cancel, "due": move.due.isoformat() if move.due else None,
            "shift": move.shift, "old": move.old.isoformat() if move.old else None,
            "what": move.what}


def _which(followups: Sequence[FollowUp], request: Mapping[str, Any]) -> list[FollowUp]:
    """The follow-ups the text names: on the old day it says (or that weekday), for what it
    says; all of them when it says neither, or when what it says matches none."""
    chosen = list(followups)
    old = request.get("old")
    if old:
        day = date.fromisoformat(old)
        same = [f for f in chosen if f.due_date == old] or [
            f for f in chosen if date.fromisoformat(f.due_date).weekday() == day.weekday()]
        chosen = same or chosen
    what = str(request.get("what") or "")
    if what:
        named = [f for f in chosen if f.action and (what in f.action or f.action in what)]
        chosen = named or chosen
    return chosen


@action("find_followup_move", provides=("fu_status", "fu_items", "followup", "fu_customer"))
def find_followup_move(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Whose follow-up `followup_move` moves, and which: `fu_status` one (in `followup`),
    several (`fu_items` to pick from) or none (no customer of that name, or no open one)."""
    request = turn.vars.get("followup_move") or {}
    mention = Mention(str(request.get("name") or ""), request.get("hospital"),
                      request.get("department"), request.get("title"))
    found = find_account(turn, mention)
    accounts = [found.account] if found.account is not None else list(found.candidates)
    turn.vars["fu_customer"] = mention.name
    followups = [f for a in accounts for f in turn.store.open_followups(a)]
    chosen = _which(followups, request)
    today = turn.local_now.date()
    names = {a.id: a.name for a in accounts}
    turn.vars["fu_items"] = [
        {"id": f.id, "label": _label(turn, f, names.get(f.account_id, ""), today)}
        for f in chosen]
    turn.vars["followup"] = chosen[0].id if len(chosen) == 1 else None
    turn.vars["fu_status"] = "none" if not chosen else "one" if len(chosen) == 1 else "several"


def _label(turn: Turn, followup: FollowUp, name: str, today: date) -> str:
    view = date_view(date.fromisoformat(followup.due_date), today)
    return turn.message("followup_move_item", name=name, due=view,
                        action=followup.action or "")


@action("apply_followup_move", provides=("fu_moved",))
def apply_followup_move(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Move (or cancel) the follow-up in `followup` as `followup_move` asks; `fu_moved`
    says what moved, from when to when (None: it is no longer open)."""
    from coach.actions.visits import remind_at  # (visits imports the note reader)

    request = turn.vars.get("followup_move") or {}
    followup = turn.store.followup(int(turn.vars.get("followup") or 0))
    turn.vars["fu_moved"] = None
    if followup is None or followup.status not in OPEN_FOLLOWUPS:
        return
    today = turn.local_now.date()
    before = date.fromisoformat(followup.due_date)
    account = turn.store.account(followup.account_id)
    moved: dict[str, Any] = {"name": account.name if account else "",
                             "action": followup.action, "from": date_view(before, today),
                             "cancel": bool(request.get("cancel")), "to": None}
    if request.get("cancel"):
        followup.status = "dropped"
    else:
        # "改到周四" of a follow-up next Tuesday: that week's Thursday, as a date correction
        due = (in_week_of(str(turn.vars.get("note") or ""), date.fromisoformat(
            request["due"]), before, today) if request.get("due")
               else max(before, today) + timedelta(days=int(request.get("shift") or 0)))
        followup.due_date = due.isoformat()
        followup.remind_at = remind_at(due, turn.settings)
        followup.status = "open"
        followup.sent_at = None
        moved["to"] = date_view(due, today)
    turn.vars["fu_moved"] = moved
