"""The safety team's view of adverse-event reports, across every rep and team.

Reports are listed whoever logged them: an active rep, a revoked one, or one whose data was
erased with /forget (the report outlives them, see coach/store/export.py). Open reports come
first, oldest deadline first; the safety team marks a report forwarded once it is in their
own system, which stops its reminders and escalation.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coach.store.export import SafeWriter
from coach.store.models import CLOSED_REPORTS, AdverseEvent, Rep

COLUMNS = ("id", "kind", "status", "rep", "team", "customer", "day0", "deadline", "overdue",
           "forwarded_at", "forwarded_by", "escalated_at", "dismissed_at", "dismissed_by",
           "dismissed_reason", "dismissed_note", "phrase", "report", "source")


@dataclass(frozen=True)
class SafetyReport:
    """One adverse-event report as the safety team reads it (times in UTC, ISO 8601)."""

    id: int
    kind: str
    status: str
    rep: str
    team: str
    customer: str
    day0: str
    deadline: str
    overdue: bool
    forwarded_at: str
    forwarded_by: str
    escalated_at: str
    #: the rep said it is not an adverse event (status not_ae): when, who, why
    dismissed_at: str
    dismissed_by: str
    dismissed_reason: str
    #: the reason as the rep typed it (dismissed_reason "typed")
    dismissed_note: str
    phrase: str
    report: str
    source: str


def _iso(moment: datetime | None) -> str:
    """UTC, said so (the store keeps naive UTC times)."""
    return moment.isoformat(timespec="minutes") + "Z" if moment else ""


def _rep_label(rep: Rep) -> str:
    if rep.forgotten_at is not None or not rep.name:
        return f"rep #{rep.id} (data deleted)"
    return rep.name if rep.active else f"{rep.name} (revoked)"


def safety_reports(session: Session, now: datetime, *, include_forwarded: bool = False,
                   team: str | None = None) -> list[SafetyReport]:
    query = select(AdverseEvent, Rep).join(Rep, Rep.id == AdverseEvent.rep_id)
    if not include_forwarded:
        query = query.where(AdverseEvent.status.not_in(CLOSED_REPORTS))
    if team is not None:
        query = query.where(Rep.team == team)
    # open ones first, deaths first among them, then the oldest deadline
    query = query.order_by(AdverseEvent.status.in_(CLOSED_REPORTS), AdverseEvent.kind != "death",
                           AdverseEvent.deadline,
                           AdverseEvent.id)
    return [SafetyReport(
        id=event.id, kind=event.kind, status=event.status, rep=_rep_label(rep), team=rep.team or "",
        customer=event.customer or "", day0=_iso(event.day0), deadline=_iso(event.deadline),
        overdue=event.status not in CLOSED_REPORTS and event.deadline <= now,
        forwarded_at=_iso(event.forwarded_at), forwarded_by=event.forwarded_by or "",
        escalated_at=_iso(event.escalated_at), dismissed_at=_iso(event.dismissed_at),
        dismissed_by=event.dismissed_by or "", dismissed_reason=event.dismissed_reason or "",
        dismissed_note=event.dismissed_note or "",
        phrase=event.phrase, report=event.report, source=event.source or "")
        for event, rep in session.execute(query).all()]


def mark_forwarded(session: Session, ids: Sequence[int], now: datetime, by: str
                   ) -> list[int]:
    """Mark reports forwarded by `by`; returns the ids that were open (unknown ids are left
    out)."""
    events = session.execute(
        select(AdverseEvent).where(AdverseEvent.id.in_(ids),
                                   AdverseEvent.status.not_in(CLOSED_REPORTS))).scalars().all()
    for event in events:
        event.status, event.forwarded_at, event.forwarded_by = "forwarded", now, by[:100]
    return sorted(e.id for e in events)


def as_csv(reports: Iterable[SafetyReport]) -> bytes:
    """UTF-8 with a BOM, so Excel shows the Chinese text."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(COLUMNS)
    for report in reports:
        row = asdict(report)
        writer.writerow([row[c] for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_json(reports: Iterable[SafetyReport]) -> bytes:
    return json.dumps([asdict(r) for r in reports], ensure_ascii=False, indent=2).encode()
