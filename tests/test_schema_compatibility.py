"""A rolling release: after the new release's `repcoach db upgrade`, a worker of the old release
that its supervisor restarts runs when the migrations in between are declared compatible
with it, with a warning in its log, and refuses (naming both schemas and what to do) when
they are not, or when the database is older than the release (coach/store/compatibility.py).

The newer release is this code's migrations plus two more in a folder of the test's own: 9001
only adds a column and declares the code of today's head compatible; 9002 drops it again and
declares nothing. Today's code is the old release. On SQLite and PostgreSQL, then
`repcoach run` itself as a real process.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from coach.store.compatibility import compatible_code, declared
from coach.store.database import Database, SchemaOutdated
from coach.store.migrate import MIGRATIONS_DIR, head_revision, scripts, upgrade
from coach.store.models import SchemaCompatibility
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.wecom_support import free_port
from tests.test_migrations import _fresh
from tests.test_wecom_e2e_process import (
    environment,
    repcoach_command,
    stop,
    wait_for_line,
    write_config,
)

EXPAND = '''"""a column added: expand-only"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None
compatible_with = "{head}"


def upgrade() -> None:
    with op.batch_alter_table("reps") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.String(40), nullable=True))
'''

CONTRACT = '''"""the column dropped again: the code of 9001 no longer runs on it"""
from alembic import op

revision = "9002"
down_revision = "9001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reps") as batch_op:
        batch_op.drop_column("nickname")
'''


def head() -> str:
    revision = head_revision()
    assert revision is not None
    return revision


@pytest.fixture
def newer_release(tmp_path: Path) -> Path:
    """The migrations of a release after this one."""
    folder = tmp_path / "newer-migrations"
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "9001_expand.py").write_text(EXPAND.format(head=head()))
    (folder / "versions" / "9002_contract.py").write_text(CONTRACT)
    return folder


def recorded(db_url: str) -> set[tuple[str, str]]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(select(SchemaCompatibility.code_revision,
                                         SchemaCompatibility.schema_revision)).all()
    engine.dispose()
    return {(code, schema) for code, schema in rows}


def test_an_old_release_runs_on_a_newer_schema_declared_compatible(
        db_url: str, newer_release: Path, caplog: pytest.LogCaptureFixture) -> None:
    upgrade(db_url, "9001", newer_release)
    assert recorded(db_url) == {(code, "9001") for code in ["9001", *compatible_code(
        scripts(), head())]}
    with caplog.at_level(logging.WARNING, logger="coach.store.database"):
        Database(db_url).require_current_schema()
    assert caplog.messages == [f"database schema 9001 is newer than this release's {head()}; "
                               "it is declared compatible; running"]


def test_an_old_release_refuses_a_newer_schema_not_declared_compatible(
        db_url: str, newer_release: Path) -> None:
    upgrade(db_url, "9002", newer_release)
    assert recorded(db_url) == {("9002", "9002")}
    with pytest.raises(SchemaOutdated) as refused:
        Database(db_url).require_current_schema()
    assert (f"is at schema 9002, newer than this release's {head()}, and not declared "
            f"compatible with it") in str(refused.value)
    assert "run the release that upgraded it (schema 9002) instead" in str(refused.value)


def test_a_release_refuses_a_database_older_than_itself(db_url: str) -> None:
    _fresh(db_url)
    upgrade(db_url, "0013")
    with pytest.raises(SchemaOutdated, match=f"is at schema 0013, older than this release's "
                                             f"{head()}; run `repcoach db upgrade`"):
        Database(db_url).require_current_schema()
    upgrade(db_url)
    Database(db_url).require_current_schema()


def test_releases_before_today_on_todays_schema(db_url: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """0014 and 0013 only added tables since 0011; 0011 changed what `role` means to the
    code of 0010."""
    assert compatible_code(scripts(), "0014") == ["0014", "0013", "0011"]
    _fresh(db_url)
    upgrade(db_url, "0014")
    database = Database(db_url)
    with caplog.at_level(logging.WARNING, logger="coach.store.database"):
        database.require_current_schema("0013")
        database.require_current_schema("0011")
    assert len(caplog.messages) == 2 and "declared compatible; running" in caplog.messages[0]
    with pytest.raises(SchemaOutdated, match="newer than this release's 0010"):
        database.require_current_schema("0010")


def test_every_declaration_names_an_earlier_revision() -> None:
    directory = scripts()
    for script in directory.walk_revisions():
        older = {s.revision for s in directory.walk_revisions(base="base", head=script.revision)}
        assert declared(script) in older, script.revision


# --- `repcoach run`, an old worker restarted by its supervisor ----------------------------


async def test_repcoach_run_starts_on_a_compatible_schema_and_refuses_another(
        tmp_path: Path, sqlite_template: Path, newer_release: Path) -> None:
    database = tmp_path / "repcoach.sqlite3"
    shutil.copy(sqlite_template, database)
    upgrade(f"sqlite:///{database}", "9001", newer_release)  # the new release's db upgrade
    config = tmp_path / "config.yaml"
    write_config(config, database, free_port())
    async with WecomSimulator() as sim:
        process = await asyncio.create_subprocess_exec(
            *repcoach_command(), "--config", str(config), "run", cwd=tmp_path,
            env=environment(sim), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert process.stdout is not None
        assert "running: wecom" in await wait_for_line(process.stdout, "running:")
        logged = await stop(process)
        assert process.returncode == 0, logged
        assert (f"database schema 9001 is newer than this release's {head()}; it is "
                "declared compatible; running") in logged

        upgrade(f"sqlite:///{database}", "9002", newer_release)  # the next release contracts
        refused = await asyncio.create_subprocess_exec(
            *repcoach_command(), "--config", str(config), "run", cwd=tmp_path,
            env=environment(sim), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        async with asyncio.timeout(60):
            out, err = await refused.communicate()
    assert refused.returncode != 0 and b"running:" not in out
    assert (f"error: the database at sqlite:///{database} is at schema 9002, newer than this "
            f"release's {head()}, and not declared compatible with it") in err.decode()
