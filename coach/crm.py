"""CRM import and export for admins (`repcoach import accounts`, `repcoach export`).

A company's CRM already knows each rep's customers; retyping them in chat would be a week of
work. An import reads a CRM export (CSV in UTF-8 or GB18030, the encodings Excel writes in
China, or XLSX), maps its columns to ours by their headers in Chinese or English (or as the
admin says), checks every row, and imports nothing unless every row is right: a half-done
import is worse than none, because the admin cannot tell which half. An export writes a rep's
accounts, visits and stage history as CSV and XLSX for the CRM, with no cell that a
spreadsheet would run as a formula, times in company time with the offset written out
(ISO 8601, to the second: a CRM reading them cannot mistake UTC for Beijing time), and the
stage and style codes with their names beside them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coach.compliance import Guard
from coach.names import name_key
from coach.store.export import SafeWriter
from coach.store.models import Account, Note, Rep, StageChange
from coach.store.repo import RepStore

if TYPE_CHECKING:
    from coach.library import Library

__all__ = ["FIELDS", "ImportPlan", "RepNotFound", "TableError", "export_tables", "find_rep",
           "plan_import", "read_table", "run_import", "write_csv", "write_xlsx"]

FIELDS = ("name", "hospital", "department", "title", "tier")
HEADERS: dict[str, frozenset[str]] = {
    "name": frozenset({"name", "customer", "doctor", "姓名", "客户", "客户姓名", "医生",
                       "医生姓名"}),
    "hospital": frozenset({"hospital", "institution", "医院", "医院名称", "机构", "终端"}),
    "department": frozenset({"department", "dept", "科室", "科室名称"}),
    "title": frozenset({"title", "职称", "职务"}),
    "tier": frozenset({"tier", "grade", "level", "分级", "级别", "客户分级", "客户级别"}),
}
TIERS = frozenset({"A", "B", "C"})
LIMITS = {"name": 100, "hospital": 100, "department": 100, "title": 30}
MAX_ROWS = 5000
ENCODINGS = ("utf-8-sig", "gb18030")


class RepNotFound(LookupError):
    """No rep, or more than one, answers to what the admin typed."""


class TableError(Exception):
    """The file cannot be read as a table; nothing was imported."""


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]  # rows[0] is the file's row 2 (row 1 is the header)


@dataclass
class ImportPlan:
    """What an import would do: the column each field comes from, the rows to create, the
    rows already there, and every problem with its row number."""

    columns: dict[str, str] = field(default_factory=dict)
    create: list[dict[str, str | None]] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)  # row numbers already in the store
    problems: list[str] = field(default_factory=list)


def read_table(path: Path) -> Table:
    """The first sheet of an .xlsx, or a .csv; every cell as trimmed text."""
    if path.suffix.lower() == ".xlsx":
        try:
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a zip that is not a workbook, a locked file ...
            raise TableError(f"cannot read {path.name} as an Excel workbook: {exc}") from exc
        sheet = book.worksheets[0]
        cells = [["" if v is None else str(v).strip() for v in row]
                 for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        raw = path.read_bytes()
        for encoding in ENCODINGS:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TableError(f"{path.name} is neither UTF-8 nor GB18030 text")
        cells = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    cells = [row for row in cells if any(row)] if cells else []
    if not cells:
        raise TableError(f"{path.name} is empty")
    return Table(cells[0], cells[1:])


def _columns(header: Sequence[str], overrides: Mapping[str, str]) -> tuple[dict[str, int],
                                                                           list[str]]:
    found: dict[str, int] = {}
    problems: list[str] = []
    lowered = [h.strip().lower() for h in header]
    for key, column in overrides.items():
        if key not in FIELDS:
            problems.append(f"--map {key}=…: unknown field (use {', '.join(FIELDS)})")
        elif column.strip().lower() not in lowered:
            problems.append(f"--map {key}={column}: no such column (columns: "
                            f"{', '.join(header)})")
        else:
            found[key] = lowered.index(column.strip().lower())
    for key in FIELDS:
        if key not in found:
            for index, name in enumerate(lowered):
                if name in HEADERS[key] and index not in found.values():
                    found[key] = index
                    break
    if "name" not in found:
        problems.append(f"no column for the customer's name (a header such as 姓名 or name; "
                        f"columns: {', '.join(header)}); say which with --map name=COLUMN")
    return found, problems


def plan_import(session: Session, rep: Rep, table: Table, source: str,
                overrides: Mapping[str, str] | None = None,
                guard: Guard | None = None) -> ImportPlan:
    """Check every row against the rules and the rep's accounts; change nothing. With the
    chat's compliance `guard`, a free-text cell holding personal data (a phone number, an ID
    number …: what the guard would redact in a note) makes its row wrong: the store never
    keeps what a rep typing it in chat could not store, and the admin fixes the CRM side."""
    found, problems = _columns(table.header, overrides or {})
    plan = ImportPlan(columns={k: table.header[i] for k, i in found.items()},
                      problems=problems)
    if problems:
        return plan
    if len(table.rows) > MAX_ROWS:
        plan.problems.append(f"{source}: {len(table.rows)} rows; at most {MAX_ROWS} at a time")
        return plan
    known = {(a.name_key, (a.hospital or "")) for a in RepStore(session, rep).active_accounts()}
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(table.rows, start=2):
        record: dict[str, str | None] = {
            key: (row[index].strip() if index < len(row) else "") or None
            for key, index in found.items()}
        wrong = []
        if not record.get("name"):
            wrong.append("the name is empty")
        for key, limit in LIMITS.items():
            value = record.get(key)
            if value and len(value) > limit:
                wrong.append(f"{key} is longer than {limit} characters")
        if guard is not None:
            wrong.extend(_personal_data(guard, record))
        tier = record.get("tier")
        if tier:
            record["tier"] = tier.upper()
            if record["tier"] not in TIERS:
                wrong.append(f"tier {tier!r} is not one of A, B, C")
        if wrong:
            plan.problems.append(f"{source}:{number}: {'; '.join(wrong)}")
            continue
        identity = (name_key(str(record["name"])), record.get("hospital") or "")
        if identity in seen:
            plan.problems.append(f"{source}:{number}: the same customer as row "
                                 f"{seen[identity]} ({record['name']}, "
                                 f"{record.get('hospital') or 'no hospital'})")
            continue
        seen[identity] = number
        if identity in known:
            plan.existing.append(number)
        else:
            plan.create.append(record)
    if not table.rows:
        plan.problems.append(f"{source}: no rows under the header")
    return plan


def _personal_data(guard: Guard, record: Mapping[str, str | None]) -> list[str]:
    """What the guard finds in the row's free text, named by field and kind, never the value
    (the error goes to a terminal and a log)."""
    found = []
    for key in LIMITS:
        value = record.get(key)
        kinds = sorted({r.placeholder for r in guard.check(value).redactions}) if value else []
        if kinds:
            found.append(f"{key} holds personal data ({', '.join(kinds)}); remove it in the "
                         "CRM and export again")
    return found


def run_import(session: Session, rep: Rep, plan: ImportPlan, now: datetime) -> int:
    """Create the planned accounts, all in the caller's transaction; returns how many."""
    if plan.problems:
        raise ValueError("an import with problems must not run")
    store = RepStore(session, rep)
    now = now.replace(microsecond=0)  # to the second, as everything typed in chat
    for record in plan.create:
        account = store.create_account(str(record["name"]), record.get("hospital"),
                                       record.get("department"), now,
                                       title=record.get("title"))
        account.tier = record.get("tier")
    return len(plan.create)


def find_rep(session: Session, who: str) -> Rep:
    """A rep by id, or by name when exactly one has it."""
    if who.isdigit():
        rep = session.get(Rep, int(who))
        if rep is None:
            raise RepNotFound(f"no rep with id {who}")
        return rep
    found = session.execute(select(Rep).where(Rep.name == who)).scalars().all()
    if len(found) != 1:
        raise RepNotFound(f"{len(found)} reps are called {who!r}; give the id instead"
                          if found else f"no rep called {who!r}")
    return found[0]


def _when(value: datetime | None, zone: timezone) -> str:
    """A stored UTC time in company time, ISO 8601 to the second with its offset
    (2026-11-22T10:00:00+08:00)."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(zone).isoformat(timespec="seconds")


def export_tables(session: Session, rep: Rep, library: Library, offset_hours: int,
                  locale: str = "zh") -> dict[str, list[list[Any]]]:
    """The rep's accounts, visits and stage history as tables (a header row first); times
    in company time (`offset_hours`), stage and style names in `locale` beside the codes."""
    zone = timezone(timedelta(hours=offset_hours))
    accounts = session.execute(select(Account).where(Account.rep_id == rep.id,
                                                     Account.kind != "hospital")
                               .order_by(Account.id)).scalars().all()
    by_id = {a.id: a for a in accounts}
    notes = session.execute(select(Note).where(Note.rep_id == rep.id)
                            .order_by(Note.created_at, Note.id)).scalars().all()
    stages = session.execute(select(StageChange).where(StageChange.rep_id == rep.id)
                             .order_by(StageChange.created_at, StageChange.id)).scalars().all()

    def who(account_id: int | None) -> list[Any]:
        account = by_id.get(account_id or 0)
        return [account.name, account.hospital or "", account.department or ""] if account \
            else ["", "", ""]

    def stage(code: str | None) -> list[str]:
        return [code or "", library.stage_name(code, locale) or ""]

    return {
        "accounts": [["name", "hospital", "department", "title", "tier", "stage", "stage_name",
                      "style", "style_name", "role", "archived", "created_at"],
                     *[[a.name, a.hospital or "", a.department or "", a.title or "",
                        a.tier or "", *stage(a.stage), a.style or "",
                        library.style_name(a.style, locale) or "",
                        ";".join(a.held_roles()),
                        "yes" if a.archived else "", _when(a.created_at, zone)]
                       for a in accounts]],
        "visits": [["date", "name", "hospital", "department", "note"],
                   *[[_when(n.created_at, zone), *who(n.account_id), n.text] for n in notes]],
        "stages": [["date", "name", "hospital", "department", "stage", "stage_name",
                    "previous_stage", "previous_stage_name", "confidence"],
                   *[[_when(s.created_at, zone), *who(s.account_id), *stage(s.stage),
                      *stage(s.previous_stage), round(s.confidence, 2)] for s in stages]],
    }


def write_csv(path: Path, rows: list[list[Any]]) -> None:
    """UTF-8 with a BOM (Excel in China opens it right), no cell a formula."""
    out = io.StringIO()
    writer = SafeWriter(out)
    for row in rows:
        writer.writerow(row)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))


def write_xlsx(path: Path, tables: Mapping[str, list[list[Any]]]) -> None:
    """One sheet per table; text cells are stored as text, never as formulas."""
    from openpyxl import Workbook

    book = Workbook()
    for default in list(book.worksheets):  # a new workbook comes with an empty sheet
        book.remove(default)
    for name, rows in tables.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows():
            for cell in cells:  # "=HYPERLINK(…)" typed in a note stays text
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    book.save(path)
