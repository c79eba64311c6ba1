"""CRM import and export as an admin runs them: the real `repcoach` command on a config
for SQLite or PostgreSQL (`db_url`), with CSV and XLSX files as a CRM writes them.

An import shows how it reads the columns and a preview, imports only with --yes, and
imports nothing when any row is wrong, naming each wrong row by its number. An export
writes accounts, visits and stage history as CSV and XLSX; imported into another rep, the
accounts come back the same."""

from __future__ import annotations

import csv
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_access import admin_cli

Cli = Callable[..., subprocess.CompletedProcess[str]]


def accounts_of(database: Database, rep: str) -> list[tuple[str, ...]]:
    with database.transaction() as session:
        return [tuple(r) for r in session.execute(text(
            "SELECT a.name, a.hospital, a.department, a.title, a.tier FROM accounts a "
            "JOIN reps r ON r.id = a.rep_id WHERE r.name = :rep AND a.kind != 'hospital' "
            "ORDER BY a.id"), {"rep": rep})]


def crm_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def setup(tmp_path: Path, db_url: str, *reps: str) -> Cli:
    cli = admin_cli(tmp_path, db_url)
    for rep in reps:
        assert cli("enroll", "--name", rep).returncode == 0
    return cli


def test_a_crm_csv_is_previewed_then_imported(tmp_path: Path, db_url: str,
                                              database: Database) -> None:
    cli = setup(tmp_path, db_url, "王芳")
    file = crm_csv(tmp_path / "crm.csv", [
        ["客户姓名", "医院", "科室", "职称", "客户分级", "备注"],
        ["李建国", "泰山医院", "心内科", "主任医师", "A", "老客户"],
        ["张敏", "泰山医院", "肿瘤科", "副主任医师", "b", ""],
        ["赵强", "人民医院", "", "", "", ""],
    ], encoding="gb18030")  # what Excel in China writes
    preview = cli("import", "accounts", str(file), "--rep", "王芳")
    assert preview.returncode == 0, preview.stderr
    assert "name       <- 客户姓名" in preview.stdout and "tier       <- 客户分级" in preview.stdout
    assert "  + 李建国 · 泰山医院 · 心内科 · 主任医师 · A" in preview.stdout
    assert "preview only: run again with --yes to import 3 account(s)" in preview.stdout
    assert accounts_of(database, "王芳") == []

    done = cli("import", "accounts", str(file), "--rep", "王芳", "--yes")
    assert done.returncode == 0 and "imported 3 account(s); 0 already there" in done.stdout
    assert accounts_of(database, "王芳") == [
        ("李建国", "泰山医院", "心内科", "主任医师", "A"),
        ("张敏", "泰山医院", "肿瘤科", "副主任医师", "B"),
        ("赵强", "人民医院", None, None, None)]
    again = cli("import", "accounts", str(file), "--rep", "王芳", "--yes")
    assert "imported 0 account(s); 3 already there" in again.stdout
    assert len(accounts_of(database, "王芳")) == 3


def test_every_wrong_row_is_named_and_nothing_is_imported(tmp_path: Path, db_url: str,
                                                          database: Database) -> None:
    cli = setup(tmp_path, db_url, "王芳")
    file = crm_csv(tmp_path / "crm.csv", [
        ["name", "hospital", "department", "tier"],
        ["Li Jianguo", "Taishan Hospital", "Cardiology", "A"],
        ["", "Taishan Hospital", "Oncology", "B"],
        ["Zhang Min", "Taishan Hospital", "Oncology", "VIP"],
        ["Li Jianguo", "Taishan Hospital", "Cardiology", "A"],
        ["Zhao Qiang", "x" * 120, "", ""],
    ])
    result = cli("import", "accounts", str(file), "--rep", "王芳", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "crm.csv:3: the name is empty",
        "crm.csv:4: tier 'VIP' is not one of A, B, C",
        "crm.csv:5: the same customer as row 2 (Li Jianguo, Taishan Hospital)",
        "crm.csv:6: hospital is longer than 100 characters",
        "nothing imported: fix the 4 problem(s) above and run again",
    ]
    assert accounts_of(database, "王芳") == []


def test_personal_data_in_a_crm_cell_is_refused_row_by_row(tmp_path: Path, db_url: str,
                                                          database: Database) -> None:
    """The chat's compliance guard reads every free-text cell: a phone or ID number in a
    title or department is named by its row, past the preview's first rows too, and nothing
    is imported (nor shown back)."""
    cli = setup(tmp_path, db_url, "王芳")
    rows = [["姓名", "医院", "科室", "职称"]]
    rows += [[f"医生{n}", "泰山医院", "心内科", "主治医师"] for n in range(1, 9)]
    rows += [["李建国", "泰山医院", "心内科", "电话13812345678"],
             ["张敏", "泰山医院", "身份证110101199003074518", "主任医师"]]
    file = crm_csv(tmp_path / "crm.csv", rows)
    result = cli("import", "accounts", str(file), "--rep", "王芳", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "crm.csv:10: title holds personal data ([手机号/phone]); remove it in the CRM and "
        "export again",
        "crm.csv:11: department holds personal data ([身份证号/ID number]); remove it in the "
        "CRM and export again",
        "nothing imported: fix the 2 problem(s) above and run again",
    ]
    assert "13812345678" not in result.stdout + result.stderr
    assert "110101199003074518" not in result.stdout + result.stderr
    assert accounts_of(database, "王芳") == []


def test_columns_named_otherwise_are_mapped_by_the_admin(tmp_path: Path, db_url: str,
                                                         database: Database) -> None:
    cli = setup(tmp_path, db_url, "王芳")
    file = crm_csv(tmp_path / "crm.csv", [["终端客户", "所在医院"], ["李建国", "泰山医院"]])
    unknown = cli("import", "accounts", str(file), "--rep", "王芳")
    assert unknown.returncode == 1 and "no column for the customer's name" in unknown.stderr
    mapped = cli("import", "accounts", str(file), "--rep", "王芳", "--map", "name=终端客户",
                 "--map", "hospital=所在医院", "--yes")
    assert mapped.returncode == 0, mapped.stderr
    assert accounts_of(database, "王芳") == [("李建国", "泰山医院", None, None, None)]
    wrong = cli("import", "accounts", str(file), "--rep", "nobody")
    assert wrong.returncode == 1 and "no rep called 'nobody'" in wrong.stderr


def test_an_xlsx_from_the_crm_is_read(tmp_path: Path, db_url: str, database: Database) -> None:
    cli = setup(tmp_path, db_url, "王芳")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["姓名", "医院", "科室", "分级"], ["李建国", "泰山医院", "心内科", "A"],
                [None, None, None, None], ["张敏", "泰山医院", "肿瘤科", "C"]):
        sheet.append(row)
    book.save(tmp_path / "crm.xlsx")
    done = cli("import", "accounts", str(tmp_path / "crm.xlsx"), "--rep", "王芳", "--yes")
    assert done.returncode == 0, done.stderr
    assert [a[0] for a in accounts_of(database, "王芳")] == ["李建国", "张敏"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    refused = cli("import", "accounts", str(broken), "--rep", "王芳")
    assert refused.returncode == 1 and "cannot read broken.xlsx as an Excel workbook" \
        in refused.stderr


def test_export_then_import_round_trip(tmp_path: Path, db_url: str, database: Database,
                                       engine: Engine) -> None:
    cli = setup(tmp_path, db_url, "王芳", "李娜")
    file = crm_csv(tmp_path / "crm.csv", [
        ["姓名", "医院", "科室", "职称", "分级"],
        ["李建国", "泰山医院", "心内科", "主任医师", "A"],
        ["=HYPERLINK(\"http://x\")", "泰山医院", "", "", ""],
    ])
    assert cli("import", "accounts", str(file), "--rep", "王芳", "--yes").returncode == 0
    with database.transaction() as session:  # 王芳 also logs a visit in chat
        session.execute(text("INSERT INTO identities (rep_id, channel, external_id, created_at)"
                             " SELECT id, 'memory', 'wf', CURRENT_TIMESTAMP FROM reps "
                             "WHERE name = '王芳'"))
    chat = MemoryChat(engine, user_id="wf")
    chat.say("泰山医院心内科李建国主任开始给几个病人试用了")
    chat.press("保存")

    out = tmp_path / "export"
    done = cli("export", "--rep", "王芳", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "王芳: 2 accounts, 1 visits, 1 stages written to" in done.stdout
    rows = list(csv.reader((out / "accounts.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:5] == ["name", "hospital", "department", "title", "tier"]
    assert rows[1][:7] == ["李建国", "泰山医院", "心内科", "主任医师", "A", "trial", "试用"]
    # company time with its offset, to the second (imported at the second, not finer)
    created = rows[0].index("created_at")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", rows[1][created])
    utc = datetime.fromisoformat(rows[1][created]).astimezone(UTC).replace(tzinfo=None)
    with database.transaction() as session:
        stored = session.execute(text("SELECT created_at FROM accounts WHERE name = '李建国'")
                                 ).scalars().first()
    assert datetime.fromisoformat(str(stored)) == utc
    assert rows[2][0] == "'=HYPERLINK(\"http://x\")"  # opens as text, never runs
    visits = list(csv.reader((out / "visits.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", visits[1][0])
    assert visits[1][1:] == ["李建国", "泰山医院", "心内科",
                             "泰山医院心内科李建国主任开始给几个病人试用了"]
    book = load_workbook(out / "repcoach-export.xlsx")
    assert book.sheetnames == ["accounts", "visits", "stages"]
    formula = book["accounts"]["A3"]
    assert formula.value == "=HYPERLINK(\"http://x\")" and formula.data_type == "s"
    assert book["stages"]["E2"].value == "trial" and book["stages"]["F2"].value == "试用"

    back = cli("import", "accounts", str(out / "repcoach-export.xlsx"), "--rep", "李娜", "--yes")
    assert back.returncode == 0, back.stderr
    assert accounts_of(database, "李娜") == accounts_of(database, "王芳")
