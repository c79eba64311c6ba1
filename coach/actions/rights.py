"""Data rights in chat: `/export` sends everything we hold, `/forget` deletes all of it but
the safety records the law requires (coach/store/export.py says which and why)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from coach.actions.registry import action
from coach.messages import Attachment
from coach.store.export import as_csv, as_json, collect, erase
from coach.store.models import AdverseEvent, ComplianceRecord

if TYPE_CHECKING:
    from coach.context import Turn


@action("export_data", provides=("export",))
def export_data(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Everything stored about the rep as JSON and CSV attachments; `export` counts the
    accounts and notes sent."""
    data = collect(turn.store.session, turn.rep)
    stamp = turn.local_now.strftime("%Y%m%d")
    turn.attachments.append(Attachment(f"repcoach-export-{stamp}.json", "application/json",
                                       as_json(data)))
    turn.attachments.append(Attachment(f"repcoach-export-{stamp}.csv", "text/csv",
                                       as_csv(data)))
    turn.vars["export"] = {"accounts": len(data["accounts"]), "notes": len(data["notes"])}


@action("forget_me", provides=("kept",))
def forget_me(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Erase the rep's data; say how many safety records the law makes us keep."""
    session = turn.store.session
    turn.vars["kept"] = {
        "reports": session.scalar(select(func.count(AdverseEvent.id))
                                  .where(AdverseEvent.rep_id == turn.rep.id)) or 0,
        "flags": session.scalar(select(func.count(ComplianceRecord.id))
                                .where(ComplianceRecord.rep_id == turn.rep.id)) or 0}
    erase(session, turn.rep, turn.now)
    turn.forgotten = True
