"""A rep's data rights (PIPL): everything we hold about them, and deleting all of it.

Both walk the same list of tables, always filtered on the rep's id, so nothing the rep owns
is left out of an export or left behind by a deletion.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from coach.store.models import (
    Account,
    AdverseEvent,
    Base,
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

# Children before parents, so deletion never trips a foreign key.
REP_TABLES: tuple[type[Base], ...] = (
    Lesson, Plan, Goal, Screening, AdverseEvent, Suggestion, FollowUp, Objection,
    StyleAssessment, StageChange, Note, QuizResult, Account, Conversation, ProcessedMessage,
    EnrollmentCode, Identity,
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Base) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs}


def collect(session: Session, rep: Rep) -> dict[str, Any]:
    """Every row that belongs to `rep`, by table (enrollment code hashes left out)."""
    data: dict[str, Any] = {"rep": _row(rep)}
    for model in REP_TABLES:
        if model is EnrollmentCode:
            continue
        rows = session.execute(
            select(model).where(model.rep_id == rep.id)  # type: ignore[attr-defined]
        ).scalars()
        data[model.__tablename__] = [_row(r) for r in rows]
    return data


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def as_csv(data: dict[str, Any]) -> bytes:
    """Accounts and notes as one sheet a rep can open in Excel (UTF-8 with BOM)."""
    accounts = {a["id"]: a for a in data.get("accounts", [])}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["type", "date", "customer", "hospital", "department", "stage", "style",
                     "text"])
    for account in data.get("accounts", []):
        writer.writerow(["account", account["created_at"], account["name"], account["hospital"],
                         account["department"], account["stage"], account["style"], ""])
    for note in data.get("notes", []):
        account = accounts.get(note["account_id"], {})
        writer.writerow(["note", note["created_at"], account.get("name"),
                         account.get("hospital"), account.get("department"), "", "",
                         note["text"]])
    for followup in data.get("followups", []):
        account = accounts.get(followup["account_id"], {})
        writer.writerow(["followup", followup["due_date"], account.get("name"),
                         account.get("hospital"), account.get("department"), "", "",
                         followup["action"] or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def erase(session: Session, rep: Rep) -> None:
    """Delete the rep and everything they own."""
    for model in REP_TABLES:
        session.execute(delete(model).where(model.rep_id == rep.id))  # type: ignore[attr-defined]
    session.execute(delete(Rep).where(Rep.id == rep.id))
    session.expunge_all()  # nothing of the rep's may be flushed again in this turn
