"""Opening the database: one place that knows SQLite's and PostgreSQL's quirks.

A turn is one transaction. On PostgreSQL a row lock on the rep's conversation serialises that
rep's messages across workers; on SQLite `BEGIN IMMEDIATE` takes the write lock up front, so two
turns never interleave and never deadlock on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


class StoreUnavailable(Exception):
    """The database cannot be reached or is locked; nothing was saved."""


class SchemaOutdated(Exception):
    """The database schema is older than the code: run `repcoach db upgrade`."""


def create_db_engine(url: str) -> Engine:
    """Create an engine for `url`, creating the SQLite file's folder when needed."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        timeout = float(parsed.query.get("timeout", 15))  # type: ignore[arg-type]
        kwargs["connect_args"] = {"timeout": timeout, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pool_pre_ping: it costs a round trip per turn. A connection that died with a
    # server restart fails its turn's first statement, the pool drops every connection of
    # that age, and the engine runs the turn once more (Engine.handle_sync).
    kwargs["pool_size"] = 10
    kwargs["max_overflow"] = 20
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, foreign keys on, and immediate write transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out one session per turn."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Threads of this process queue on a lock instead
        # of in SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and
        # retries: measured, that turned a 2 ms turn into hundreds of ms under 50 reps.
        self._writer: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else contextlib.nullcontext())

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def blocks_briefly(self) -> bool:
        """True when a turn is local CPU work that is cheaper to run on the caller's event
        loop than to hand to a thread: SQLite, a file on this machine. Over a network
        (PostgreSQL) a turn waits on round trips, and a thread lets other reps go on.

        Measured with `make bench` (Telegram, 50 reps): on SQLite, handing every turn to a
        thread cost the bot more CPU than the turn itself (GIL hand-overs and extra event
        loop wake-ups), 0.60x the bare bot's throughput against 0.92x on the loop."""
        return self.is_sqlite

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self._writer, self._sessions() as session, session.begin():
            yield session

    def require_current_schema(self) -> None:
        """Refuse to run on a database that `repcoach db upgrade` has not brought up to date."""
        from coach.store.migrate import current_revision, head_revision

        if current_revision(self.engine) != head_revision():
            raise SchemaOutdated(
                f"the database at {self.engine.url.render_as_string(hide_password=True)} "
                "is not at the current schema; run `repcoach db upgrade`"
            )

    def has_tables(self) -> bool:
        return bool(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        self.engine.dispose()
