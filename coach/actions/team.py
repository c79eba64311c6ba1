"""A manager's read-only view of their team: activity, flagged texts, adverse events.

Only a rep enrolled as manager of a team (`repcoach enroll --manager-of TEAM`) sees it, and
only for reps of that team. Nothing here can change another rep's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from coach.actions.registry import action
from coach.store.models import (
    CLOSED_REPORTS,
    Account,
    AdverseEvent,
    ComplianceRecord,
    Note,
    Rep,
)

if TYPE_CHECKING:
    from coach.context import Turn
    from coach.library import Library

ACTIVITY_DAYS = 7
FLAGGED_DAYS = 30
LIST_LIMIT = 20


@action("team_overview", provides=("team",))
def team_overview(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Activity of the team's active reps; flags and adverse events of every rep ever in the
    team, the manager's own included (a joint-visit note): a revoked rep's open reports and
    a forgotten rep's records stay in view."""
    rep = turn.rep
    if rep.role != "manager" or not rep.team:
        turn.vars["team"] = None
        return
    session = turn.store.session
    everyone = session.execute(
        select(Rep).where(Rep.team == rep.team, Rep.id != rep.id).order_by(Rep.name)
    ).scalars().all()
    members = [m for m in everyone if m.active]
    ids = [m.id for m in members]
    all_ids = [m.id for m in everyone] + [rep.id]
    since = turn.now - timedelta(days=ACTIVITY_DAYS)
    notes = dict(session.execute(
        select(Note.rep_id, func.count(Note.id))
        .where(Note.rep_id.in_(ids), Note.created_at >= since).group_by(Note.rep_id)).all())
    accounts = dict(session.execute(
        select(Account.rep_id, func.count(Account.id))
        .where(Account.rep_id.in_(ids), Account.archived.is_(False))
        .group_by(Account.rep_id)).all())
    names = {m.id: _rep_name(turn, m) for m in everyone}
    names[rep.id] = turn.message("team_own_reports", name=rep.name)
    flagged = session.execute(
        select(ComplianceRecord).where(
            ComplianceRecord.rep_id.in_(all_ids),
            ComplianceRecord.created_at >= turn.now - timedelta(days=FLAGGED_DAYS))
        .order_by(ComplianceRecord.created_at.desc()).limit(LIST_LIMIT)
    ).scalars().all()
    # open reports first (oldest deadline first), then the latest forwarded ones
    events = session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id.in_(all_ids))
        .order_by(AdverseEvent.status.in_(CLOSED_REPORTS), AdverseEvent.deadline)
        .limit(LIST_LIMIT)
    ).scalars().all()
    turn.vars["team"] = {
        "name": rep.team,
        "members": [{"name": m.name, "notes": notes.get(m.id, 0),
                     "accounts": accounts.get(m.id, 0)} for m in members],
        "flagged": [{"rep": names[r.rep_id], "date": turn.local_date(r.created_at),
                     "categories": [_flag_name(turn, c) for c in r.categories],
                     "edited": r.kind == "edited", "customer": r.customer,
                     "text": r.text} for r in flagged],
        "adverse_events": [{"rep": names[e.rep_id], "day0": turn.local_time(e.day0),
                            "deadline": turn.local_time(e.deadline), "phrase": e.phrase,
                            "customer": e.customer,
                            "kind": turn.message(f"report_kind_{e.kind}"),
                            "overdue": e.status not in CLOSED_REPORTS and e.deadline <= turn.now,
                            "unconfirmed": e.status == "unconfirmed",
                            "not_ae": e.status == "not_ae",
                            # why the rep said it is not one (shown beside "not_ae")
                            "reason": turn.message(f"dismiss_reason_{e.dismissed_reason}",
                                                   text=e.dismissed_note or "")
                            if e.dismissed_reason else None,
                            "forwarded": e.status == "forwarded"} for e in events],
    }


def _rep_name(turn: Turn, rep: Rep) -> str:
    return rep_label(turn.library, turn.locale, rep)


def rep_label(library: Library, locale: str, rep: Rep) -> str:
    """A rep as the manager knows them; after /forget only their number is left."""
    if rep.forgotten_at is not None or not rep.name:
        return library.message("team_forgotten_rep", locale, number=rep.id)
    if not rep.active:
        return library.message("team_revoked_rep", locale, name=rep.name)
    return rep.name


def _flag_name(turn: Turn, category: str) -> str:
    return flag_label(turn.library, turn.locale, category)


def flag_label(library: Library, locale: str, category: str) -> str:
    """A compliance flag's name (`flag_<category>` in the catalog), or the category."""
    text = library.catalog.messages.get(f"flag_{category}")
    return text.get(locale) if text is not None else category
