"""Shared fixtures: real databases (SQLite files and a real PostgreSQL server), the real
playbooks, an engine with a clock the test controls.

Every test that asks for `db_url` runs once per backend. Choose with `--db sqlite|postgres|both`
or REPCOACH_TEST_DB; the default is both. Each test gets its own fresh database copied from a
migrated template, so tests stay independent and fast.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coach.capture import Lexicon, load_lexicon
from coach.engine import Engine
from coach.library import Library, load_library
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.testing import MemoryChat
from testkit.clock import Clock

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The bots and commands the tests start keep their playbook validation verdicts
    (coach/validation_cache.py) in a folder of the test run, not in the user's ~/.cache."""
    saved = {name: os.environ.get(name) for name in ("XDG_CACHE_HOME", "CACHE_DIRECTORY")}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ.pop("CACHE_DIRECTORY", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default=os.environ.get("REPCOACH_TEST_DB", "both"),
                     choices=["sqlite", "postgres", "both"],
                     help="database backends to run store and engine tests on")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgres"] if choice == "both" else [choice]
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.support.postgres import running_postgres

    with running_postgres(tmp_path_factory.mktemp("postgres")) as url:
        upgrade(url)
        yield url


def _admin_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of `backend` for this test alone."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "repcoach.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    with fresh_postgres(request.getfixturevalue("postgres_server")) as url:
        yield url


@contextlib.contextmanager
def fresh_postgres(server: str) -> Iterator[str]:
    """A database of its own on the session's PostgreSQL server, copied from the migrated
    template, dropped afterwards."""
    template_name = server.rsplit("/", 1)[1]
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield _admin_url(server, name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(PLAYBOOKS)


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    """The shipped note-reading lexicon (`playbooks/capture/lexicon.yaml`)."""
    loaded, problems = load_lexicon(PLAYBOOKS / "capture" / "lexicon.yaml")
    assert loaded is not None, problems
    return loaded


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def settings() -> EngineSettings:
    return EngineSettings()


@pytest.fixture
def engine(database: Database, library: Library, settings: EngineSettings,
           clock: Clock) -> Engine:
    return Engine(database, library, settings, clock=clock)


@pytest.fixture
def chat(engine: Engine) -> MemoryChat:
    return MemoryChat(engine)
