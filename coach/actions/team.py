"""A manager's read-only view of their team: activity, flagged notes, adverse events.

Only a rep enrolled as manager of a team (`repcoach enroll --manager-of TEAM`) sees it, and
only for reps of that team. Nothing here can change another rep's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from coach.actions.registry import action
from coach.store.models import Account, AdverseEvent, Note, Rep

if TYPE_CHECKING:
    from coach.context import Turn

ACTIVITY_DAYS = 7
FLAGGED_DAYS = 30
LIST_LIMIT = 20


@action("team_overview", provides=("team",))
def team_overview(turn: Turn, _args: Mapping[str, Any]) -> None:
    rep = turn.rep
    if rep.role != "manager" or not rep.team:
        turn.vars["team"] = None
        return
    session = turn.store.session
    members = session.execute(
        select(Rep).where(Rep.team == rep.team, Rep.id != rep.id, Rep.active.is_(True))
        .order_by(Rep.name)
    ).scalars().all()
    ids = [m.id for m in members]
    since = turn.now - timedelta(days=ACTIVITY_DAYS)
    notes = dict(session.execute(
        select(Note.rep_id, func.count(Note.id))
        .where(Note.rep_id.in_(ids), Note.created_at >= since).group_by(Note.rep_id)).all())
    accounts = dict(session.execute(
        select(Account.rep_id, func.count(Account.id))
        .where(Account.rep_id.in_(ids), Account.archived.is_(False))
        .group_by(Account.rep_id)).all())
    names = {m.id: m.name for m in members}
    customers = dict(session.execute(
        select(Account.id, Account.name).where(Account.rep_id.in_(ids))).all())
    flagged = session.execute(
        select(Note).where(Note.rep_id.in_(ids),
                           Note.created_at >= turn.now - timedelta(days=FLAGGED_DAYS))
        .order_by(Note.created_at.desc()).limit(200)
    ).scalars().all()
    events = session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id.in_(ids))
        .order_by(AdverseEvent.day0.desc()).limit(LIST_LIMIT)
    ).scalars().all()
    turn.vars["team"] = {
        "name": rep.team,
        "members": [{"name": m.name, "notes": notes.get(m.id, 0),
                     "accounts": accounts.get(m.id, 0)} for m in members],
        "flagged": [{"rep": names[n.rep_id], "date": turn.local_date(n.created_at),
                     "categories": [_flag_name(turn, c) for c in n.flags],
                     "text": n.text} for n in flagged if n.flags][:LIST_LIMIT],
        "adverse_events": [{"rep": names[e.rep_id], "day0": turn.local_time(e.day0),
                            "deadline": turn.local_time(e.deadline), "phrase": e.phrase,
                            "customer": customers.get(e.account_id or 0),
                            "forwarded": e.status == "forwarded"} for e in events],
    }


def _flag_name(turn: Turn, category: str) -> str:
    text = turn.library.catalog.messages.get(f"flag_{category}")
    return text.get(turn.locale) if text is not None else category
