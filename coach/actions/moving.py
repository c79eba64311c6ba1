"""Moving the visit just saved to the customer the rep meant ("记错人了 刚才那条不是王主任 是
刘医生"), with what that visit did: its follow-ups, concerns and safety reports, the stage
it set (the wrong customer gets back the one before), and the wrong customer's follow-ups
it replaced. The trial D rep's correction became a new proposal under the wrong customer.

A safety report never changes customer silently: it follows the note, its reporter is
the right customer now, the rep's correction is appended to its text with the time (what
was written first stays), and the reply names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from coach.actions.dates import date_view
from coach.actions.registry import action
from coach.actions.signals import signal_name
from coach.store.conversation import LastVisit
from coach.store.models import Account, Note

if TYPE_CHECKING:
    from coach.context import Turn


@action("move_last_visit", provides=("moved_visit",))
def move_last_visit(turn: Turn, _args: Mapping[str, Any]) -> None:
    """File the visit in `moving` under the customer picked (`move_to`); `moved_visit` says
    what went along (None: nothing moved, the visit is no longer there)."""
    moving = turn.vars.get("moving") or {}
    note = turn.store.note(int(moving.get("note_id") or 0))
    source = turn.store.account(moving.get("account_id"))
    target = turn.store.account(turn.vars.get("move_to"))
    turn.vars["moved_visit"] = None
    if note is None or source is None or target is None or note.account_id != source.id:
        return
    turn.vars["account"] = target.id
    if target.id == source.id:  # what was being added to it is still to save
        amends = turn.vars.get("amends") or {}
        turn.vars["moved_visit"] = {"same": True, "to": target.name,
                                    "adding": int(amends.get("note_id") or 0) == note.id}
        return
    last = turn.state.last_visit
    since = (last.first or last.at) if last is not None and last.note_id == note.id else None
    today = turn.local_now.date()
    followups = [_followup(f.due_date, f.action, today)
                 for f in turn.store.open_followups(source) if f.note_id == note.id]
    objections = [signal_name(turn, "objection", o.kind)
                  for o in turn.store.open_objections(source) if o.note_id == note.id]
    typed = str(moving.get("typed") or "").strip()
    reports = move_reports(turn, note, source, target, typed)
    turn.store.move_note(note, target, turn.now)
    if typed:  # the note still names the wrong one: the rep's correction goes with it
        note.text = f"{note.text}\n{typed}"
    adding = _still_adding(turn, note, target, str(moving.get("pending") or ""))
    stage = _move_stage(turn, source, target, since)
    restored = _give_back(turn, source, [int(i) for i in moving.get("replaced") or []], today)
    created = target.id > int(moving.get("newest") or 0)  # added at the pick
    archived = (since is not None and source.created_at >= since
                and turn.store.note_count(source) == 0 and not turn.store.open_reports(source))
    if archived:  # made for this visit alone, by mistake: off the lists, nothing lost
        turn.store.archive(source, turn.now)
    if last is not None and last.note_id == note.id:
        turn.state.last_visit = LastVisit(note_id=note.id, account_id=target.id, at=last.at,
                                          first=last.first, name=target.name,
                                          hospital=target.hospital)
    turn.vars["moved_visit"] = {
        "same": False, "from": source.name, "to": target.name, "created": created,
        "hospital": target.hospital, "department": target.department,
        "followups": followups, "objections": objections, "stage": stage,
        "restored": restored, "reports": reports, "archived": archived,
        "adding": adding}


def _still_adding(turn: Turn, note: Note, target: Account, pending: str) -> bool:
    """Moved while the rep was adding to it under the proposal ("对了，还说…" then "记错人了，
    是刘医生"): what they added is still to be saved, now on the right customer's visit."""
    amends = turn.vars.get("amends")
    if not amends or int(amends.get("note_id") or 0) != note.id:
        return False
    turn.vars["amends"] = {**amends, "account_id": target.id}
    turn.vars["note"] = f"{note.text}\n{pending}" if pending else note.text
    turn.vars["note_own"] = None
    return True


def _followup(due: str, what: str | None, today: date) -> dict[str, Any]:
    return {"due": date_view(date.fromisoformat(due), today), "action": what}


def move_reports(turn: Turn, note: Note, source: Account, target: Account, typed: str
                 ) -> list[dict[str, Any]]:
    """The note's safety reports, as it moves from `source` to `target` (a person
    correction, or /accounts' "move this note"): the rep's correction (`typed`, else a line
    saying who it was moved from and to) is appended to each with the time, what was
    written first stays; the store files them, and the note's compliance flags, under
    `target` (RepStore.move_note). What the reply lists."""
    moved = []
    for event in turn.store.note_reports(note):
        line = turn.message("report_correction", day0=turn.local_time(turn.now), report=typed) \
            if typed else turn.message("report_moved", day0=turn.local_time(turn.now),
                                       source=source.name, target=target.name)
        event.report = f"{event.report}\n{line}" if event.report else line
        moved.append({"phrase": event.phrase, "deadline": turn.local_time(event.deadline),
                      "open": event.status == "open"})
    return moved


def _move_stage(turn: Turn, source: Account, target: Account, since: Any
                ) -> dict[str, Any] | None:
    """The stage the visit set on the wrong customer ("开始试用了" → 试用): it is the right
    customer's now, and the wrong one is back where he was."""
    if since is None:
        return None
    made = [c for c in turn.store.stage_changes([source.id]) if c.created_at >= since]
    if not made:
        return None
    newest, oldest = made[0], made[-1]
    earlier = [c for c in turn.store.stage_changes([source.id]) if c.created_at < since]
    source.stage = oldest.previous_stage
    source.stage_confidence = earlier[0].confidence if earlier and source.stage else None
    source.updated_at = turn.now
    for change in made:
        change.account_id = target.id
    oldest.previous_stage = target.stage
    target.stage, target.stage_confidence = newest.stage, newest.confidence
    target.updated_at = turn.now
    return {"to": signal_name(turn, "stage", newest.stage),
            "back": signal_name(turn, "stage", source.stage) if source.stage else None}


def _give_back(turn: Turn, source: Account, ids: list[int], today: date
               ) -> list[dict[str, Any]]:
    """The wrong customer's follow-ups the visit replaced: open again, as they were."""
    restored = []
    for followup_id in ids:
        followup = turn.store.followup(followup_id)
        if followup is not None and followup.account_id == source.id and \
                followup.status == "replaced":
            followup.status = "open"
            restored.append(_followup(followup.due_date, followup.action, today))
    return restored
