"""Data rights in chat: `/export` sends everything we hold, `/forget` deletes all of it but
the safety records the law requires (coach/store/export.py says which and why).

Before `/forget` asks, the rep is shown every report not yet forwarded, with its deadline:
after the deletion they can no longer see or be reminded of them, so the manager of their
team is (coach/reminders.py, handovers), and the rep is told who that will be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from coach.actions.registry import action, require_content
from coach.messages import Attachment
from coach.store.export import as_csv, as_json, collect, erase
from coach.store.models import CLOSED_REPORTS, AdverseEvent, ComplianceRecord
from coach.store.repo import Directory

if TYPE_CHECKING:
    from coach.context import Turn


@action("export_data", provides=("export",),
        content_check=require_content(("csv", "columns"), ("csv", "kinds")))
def export_data(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Everything stored about the rep as JSON and CSV attachments; `export` counts the
    accounts and notes sent."""
    data = collect(turn.store.session, turn.rep, turn.settings.utc_offset_hours)
    stamp = turn.local_now.strftime("%Y%m%d")
    turn.attachments.append(Attachment(f"repcoach-export-{stamp}.json", "application/json",
                                       as_json(data)))
    turn.attachments.append(Attachment(f"repcoach-export-{stamp}.csv", "text/csv",
                                       as_csv(_sheet(turn, data))))
    # the rep's customers: a hospital's plan holder (kind "hospital") is not one
    customers = [a for a in data["accounts"] if a["kind"] != "hospital"]
    turn.vars["export"] = {"accounts": len(customers), "notes": len(data["notes"])}


def _sheet(turn: Turn, data: Mapping[str, Any]) -> list[list[Any]]:
    """The CSV's rows in the rep's words (trial G: the codes trial/AD were no help): the
    header, customers (tier, roles, stage, style, open concerns), notes and follow-ups. The
    JSON keeps every stored value as is."""
    library, locale = turn.library, turn.locale
    words = library.content(turn.playbook, locale)["csv"]
    join = "、" if locale == "zh" else ", "
    accounts = {a["id"]: a for a in data["accounts"] if a["kind"] != "hospital"}
    concerns: dict[int, list[str]] = {}
    for objection in data.get("objections", []):
        if objection["status"] == "open":
            label = str(library.label("objections", objection["kind"], locale))
            concerns.setdefault(objection["account_id"], [])
            if label not in concerns[objection["account_id"]]:
                concerns[objection["account_id"]].append(label)
    columns = ("kind", "date", "customer", "hospital", "department", "tier", "role", "stage",
               "style", "concerns", "text")
    rows: list[list[Any]] = [[words["columns"][c] for c in columns]]

    def who(account_id: int | None) -> list[Any]:
        account = accounts.get(account_id or 0, {})
        return [account.get("name"), account.get("hospital"), account.get("department")]

    for account in accounts.values():
        rows.append([words["kinds"]["account"], account["created_at"], *who(account["id"]),
                     account["tier"] or "",
                     join.join(str(library.label("roles", r, locale))
                               for r in account["roles"] or []),
                     library.stage_name(account["stage"], locale) or "",
                     library.style_name(account["style"], locale) or "",
                     join.join(concerns.get(account["id"], [])), ""])
    for note in data.get("notes", []):
        rows.append([words["kinds"]["note"], note["created_at"], *who(note["account_id"]),
                     "", "", "", "", "", note["text"]])
    for followup in data.get("followups", []):
        rows.append([words["kinds"]["followup"], followup["due_date"],
                     *who(followup["account_id"]), "", "", "", "", "",
                     followup["action"] or ""])
    return rows


@action("forget_check", provides=("open_reports", "report_manager"))
def forget_check(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep's reports not yet forwarded ({phrase, customer, deadline, late}), oldest
    deadline first, and `report_manager`: the names of who follows them up after the
    deletion (empty when the team has no manager on RepCoach)."""
    session = turn.store.session
    reports = session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id == turn.rep.id,
                                   AdverseEvent.status.not_in(CLOSED_REPORTS))
        .order_by(AdverseEvent.deadline, AdverseEvent.id)).scalars().all()
    turn.vars["open_reports"] = [
        {"phrase": e.phrase, "customer": e.customer, "deadline": turn.local_time(e.deadline),
         "late": e.deadline <= turn.now} for e in reports]
    turn.vars["report_manager"] = [
        m.name for m in Directory(session).escalation_targets(turn.rep) if m.id != turn.rep.id]


@action("forget_me", provides=("kept",))
def forget_me(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Erase the rep's data; say how many safety records the law makes us keep, and how
    many of them are still to be forwarded (`kept.open`)."""
    session = turn.store.session
    turn.vars["kept"] = {
        "open": session.scalar(select(func.count(AdverseEvent.id)).where(
            AdverseEvent.rep_id == turn.rep.id,
            AdverseEvent.status.not_in(CLOSED_REPORTS))) or 0,
        "reports": session.scalar(select(func.count(AdverseEvent.id))
                                  .where(AdverseEvent.rep_id == turn.rep.id)) or 0,
        "flags": session.scalar(select(func.count(ComplianceRecord.id))
                                .where(ComplianceRecord.rep_id == turn.rep.id)) or 0}
    erase(session, turn.rep, turn.now)
    turn.forgotten = True
