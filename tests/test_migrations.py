"""`repcoach db upgrade` migrates an older schema with data in it, losing nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from coach.store.database import Database, SchemaOutdated
from coach.store.migrate import current_revision, head_revision, upgrade

ROOT = Path(__file__).resolve().parent.parent


def _fresh(db_url: str) -> None:
    """Empty the test database: this test builds its schema from the first migration."""
    engine = create_engine(db_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            tables = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all()
            for table in tables:
                connection.execute(text(f'DROP TABLE "{table}"'))
    engine.dispose()


def _rep_and_customer(connection: Connection, now: datetime) -> None:
    """Rep 1 (王芳) and her customer 7 (李主任, 泰山医院), in any schema version."""
    connection.execute(text(
        "INSERT INTO reps (id, name, locale, role, active, created_at) "
        "VALUES (1, '王芳', 'zh', 'rep', true, :now)"), {"now": now})
    connection.execute(text(
        "INSERT INTO accounts (id, rep_id, kind, name, name_key, hospital, archived, "
        "created_at, updated_at) VALUES (7, 1, 'doctor', '李主任', '李', '泰山医院', false, "
        ":now, :now)"), {"now": now})


def test_upgrade_keeps_data_written_at_the_first_migration(db_url: str) -> None:
    _fresh(db_url)
    upgrade(db_url, "0001")
    now = datetime(2026, 1, 5, 9, 0)
    engine = create_engine(db_url)
    with engine.begin() as connection:
        _rep_and_customer(connection, now)
        connection.execute(text(
            "INSERT INTO notes (id, rep_id, account_id, text, created_at) "
            "VALUES (3, 1, 7, '关心三期数据', :now)"), {"now": now})
    assert current_revision(engine) == "0001"
    with pytest.raises(SchemaOutdated, match="repcoach db upgrade"):
        Database(db_url).require_current_schema()

    env = {"REPCOACH_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert current_revision(engine) == head_revision()
    with engine.begin() as connection:
        note = connection.execute(text("SELECT text, flags FROM notes WHERE id = 3")).one()
        account = connection.execute(text("SELECT name, hospital FROM accounts")).one()
    assert note[0] == "关心三期数据" and note[1] in ([], "[]")
    assert tuple(account) == ("李主任", "泰山医院")
    engine.dispose()


def test_upgrade_to_0005_keeps_flagged_notes_and_names_each_reports_customer(
        db_url: str) -> None:
    """Flags written before compliance records existed are copied in, so /team keeps showing
    them, and each report gets the customer it was filed under."""
    _fresh(db_url)
    upgrade(db_url, "0004")
    now = datetime(2026, 11, 5, 9, 0)
    engine = create_engine(db_url)
    with engine.begin() as connection:
        _rep_and_customer(connection, now)
        connection.execute(text(
            "INSERT INTO notes (id, rep_id, account_id, text, flags, redactions, created_at) "
            "VALUES (3, 1, 7, '李主任要回扣', '[\"kickback\"]', '[]', :now), "
            "(4, 1, 7, '关心三期数据', '[]', '[]', :now)"), {"now": now})
        connection.execute(text(
            "INSERT INTO adverse_events (id, rep_id, account_id, phrase, report, day0, "
            "deadline, remind_at, status) VALUES (1, 1, 7, '皮疹', '病人起了皮疹', :now, :now, "
            ":now, 'open')"), {"now": now})
    upgrade(db_url)
    with engine.begin() as connection:
        records = connection.execute(text(
            "SELECT note_id, kind, text, customer FROM compliance_records")).all()
        customer = connection.execute(text("SELECT customer FROM adverse_events")).scalar()
    assert [tuple(r) for r in records] == [(3, "typed", "李主任要回扣", "李主任 · 泰山医院")]
    assert customer == "李主任 · 泰山医院"
    engine.dispose()
