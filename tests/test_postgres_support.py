"""Tests for the throwaway PostgreSQL server in `tests.support.postgres`.

The store's PostgreSQL tests are only as trustworthy as this server, so it is checked
directly: it starts (as the `postgres` user when we are root), speaks UTF-8, takes real row
locks, is reachable on 127.0.0.1 only, and is stopped again even when the session fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from tests.support.postgres import DATABASE, find_postgres_bindir, running_postgres


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_postgres(tmp_path_factory.mktemp("pg-support")) as url:
        yield url


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def test_url_points_at_local_test_database(pg_url: str) -> None:
    url = make_url(pg_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "127.0.0.1"
    assert url.port is not None and url.port > 0
    assert url.database == DATABASE


def test_server_settings(engine: Engine) -> None:
    with engine.connect() as connection:
        def show(name: str) -> str:
            return str(connection.execute(text(f"SHOW {name}")).scalar_one())

        # the server is the one whose binaries we found: "postgres (PostgreSQL) 15.18 (...)"
        reported = subprocess.run([str(find_postgres_bindir() / "postgres"), "--version"],
                                  capture_output=True, text=True, check=True).stdout.split()
        assert show("server_version").split()[0] == reported[2]
        assert show("server_encoding") == "UTF8"
        assert show("listen_addresses") == "127.0.0.1"
        assert show("fsync") == "off"
        assert connection.execute(text("SELECT current_database()")).scalar_one() == DATABASE


def test_chinese_text_round_trip(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)"))
        connection.execute(text("INSERT INTO notes (body) VALUES (:body)"),
                           {"body": "李主任 泰山医院 心内科：下周三回访 🙂"})
    with engine.connect() as connection:
        body = connection.execute(text("SELECT body FROM notes")).scalar_one()
        length = connection.execute(text("SELECT char_length(body) FROM notes")).scalar_one()
    assert body == "李主任 泰山医院 心内科：下周三回访 🙂"
    assert length == len(body)


def test_select_for_update_locks_the_row(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE visits (id int PRIMARY KEY, n int NOT NULL)"))
        connection.execute(text("INSERT INTO visits VALUES (1, 0)"))
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        locked = first.execute(text("SELECT n FROM visits WHERE id = 1 FOR UPDATE")).scalar_one()
        assert locked == 0
        second.begin()
        with pytest.raises(OperationalError) as raised:
            second.execute(text("SELECT n FROM visits WHERE id = 1 FOR UPDATE NOWAIT"))
        assert getattr(raised.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
        second.rollback()
        first.execute(text("UPDATE visits SET n = n + 1 WHERE id = 1"))
        first.commit()
        second.begin()
        again = second.execute(text("SELECT n FROM visits WHERE id = 1 FOR UPDATE NOWAIT"))
        assert again.scalar_one() == 1
        second.commit()


def test_server_stops_when_the_block_fails(tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    seen: list[str] = []
    with pytest.raises(Boom), running_postgres(tmp_path) as url:
        seen.append(url)
        probe = create_engine(url)
        with probe.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
        probe.dispose()
        raise Boom
    after = create_engine(seen[0], connect_args={"connect_timeout": 3})
    with pytest.raises(OperationalError):
        after.connect()
    after.dispose()


def test_missing_binaries_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        find_postgres_bindir([tmp_path, tmp_path / "nowhere"])
