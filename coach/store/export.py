"""A rep's data rights (PIPL): everything we hold about them, and deleting what may be.

Both walk the same list of tables, always filtered on the rep's id, so nothing the rep owns
is left out of an export or left behind by a deletion. Two tables are the exception to
deletion: adverse-event reports and compliance flags. Drug-safety law requires reports and
their audit trail to be kept, and PIPL (art. 47) lets data be kept where another law
requires it; so `/forget` keeps them, detached from the deleted customers and notes (the
customer as it was named stays on the record), and keeps the rep's row without their name,
so the manager of their team still sees them. Nothing else of the rep's is kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import Session

from coach.store.models import (
    Account,
    AdverseEvent,
    Base,
    ComplianceRecord,
    Conversation,
    EnrollmentCode,
    FollowUp,
    Goal,
    Identity,
    Lesson,
    Note,
    Objection,
    Plan,
    ProcessedMessage,
    QuizResult,
    Rep,
    Screening,
    StageChange,
    StyleAssessment,
    Suggestion,
)
from coach.store.repo import ERASED_CHANNEL, Directory, customer_label

# Children before parents, so deletion never trips a foreign key.
REP_TABLES: tuple[type[Base], ...] = (
    Lesson, Plan, Goal, Screening, AdverseEvent, ComplianceRecord, Suggestion, FollowUp,
    Objection, StyleAssessment, StageChange, Note, QuizResult, Account, Conversation,
    ProcessedMessage, EnrollmentCode, Identity,
)
#: Kept by `/forget`: the law on drug-safety reporting requires them.
RETAINED: tuple[type[Base], ...] = (AdverseEvent, ComplianceRecord)


def _plain(value: Any, zone: tzinfo) -> Any:
    """A stored moment (naive UTC) as ISO 8601 with its offset, in `zone` (the time the rep
    reads in chat, said so: "2026-12-08T00:01:27+08:00"); a calendar date as it is."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).astimezone(zone).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(obj: Base, zone: tzinfo) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key), zone) for c in inspect(obj).mapper.column_attrs}


def collect(session: Session, rep: Rep, utc_offset_hours: int = 0) -> dict[str, Any]:
    """Every row that belongs to `rep`, by table (enrollment code hashes left out); times
    with the rep's UTC offset."""
    zone = timezone(timedelta(hours=utc_offset_hours))
    data: dict[str, Any] = {"rep": _row(rep, zone)}
    for model in REP_TABLES:
        if model is EnrollmentCode:
            continue
        rows = session.execute(
            select(model).where(model.rep_id == rep.id)  # type: ignore[attr-defined]
        ).scalars()
        data[model.__tablename__] = [_row(r, zone) for r in rows]
    return data


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


#: A cell starting with one of these is a formula to Excel (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet shows it, never runs it: a leading quote turns "=HYPERLINK(…)"
    typed into a note back into text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose cells can never be formulas (see `safe_cell`)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])


def as_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows (a header first) as one sheet a rep can open in Excel (UTF-8 with BOM); what
    goes in them, in the rep's words, is coach/actions/rights.py's to say."""
    out = io.StringIO()
    writer = SafeWriter(out)
    for row in rows:
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def erase(session: Session, rep: Rep, now: datetime) -> None:
    """Delete everything the rep owns but the safety records, and their name and access."""
    for event in session.execute(select(AdverseEvent).where(AdverseEvent.rep_id == rep.id,
                                                            AdverseEvent.customer.is_(None),
                                                            AdverseEvent.account_id.is_not(None))
                                 ).scalars():
        event.customer = customer_label(session.get(Account, event.account_id))
    session.flush()
    for model in RETAINED:
        session.execute(update(model).where(model.rep_id == rep.id)  # type: ignore[attr-defined]
                        .values(note_id=None))
    session.execute(update(AdverseEvent).where(AdverseEvent.rep_id == rep.id)
                    .values(account_id=None))
    Directory(session).mark_erased(rep, now)
    for model in REP_TABLES:
        if model is Identity:  # but the fingerprints just left (Directory.mark_erased)
            session.execute(delete(Identity).where(Identity.rep_id == rep.id,
                                                   Identity.channel != ERASED_CHANNEL))
        elif model not in RETAINED:
            session.execute(delete(model).where(model.rep_id == rep.id))  # type: ignore[attr-defined]
    session.execute(update(Rep).where(Rep.id == rep.id).values(
        name="", active=False, forgotten_at=now, nudge_after=None))
    session.expunge_all()  # nothing of the rep's may be flushed again in this turn
