"""Opening the database: one place that knows SQLite's and PostgreSQL's quirks.

A turn is one transaction. On PostgreSQL a row lock on the rep's conversation serialises that
rep's messages across workers; on SQLite `BEGIN IMMEDIATE` takes the write lock up front, so two
turns never interleave and never deadlock on a lock upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from coach.store.checkpoint import WalCheckpointer
from coach.store.loop_turns import LoopTurns

log = logging.getLogger(__name__)

POOL_SIZE = 10  # PostgreSQL connections a pool keeps; config.yaml database.pool_size


def postgres_pool(pool_size: int = POOL_SIZE) -> dict[str, Any]:
    """One PostgreSQL pool's limits: `pool_size` kept open, twice as many more while busy.
    A worker has two such pools (turns; background passes), so it opens at most
    6 x pool_size connections: docs/deploy.md sizes `max_connections` from this."""
    return {"pool_size": pool_size, "max_overflow": 2 * pool_size}


P = ParamSpec("P")
R = TypeVar("R")


class StoreUnavailable(SQLAlchemyError):
    """The database stayed locked (by another program) for as long as a caller may wait;
    nothing was saved."""


class _OnLoop(threading.local):
    """Set while store work runs on the event loop: it must not sleep in SQLite's busy
    handler (every rep, the health check and every webhook answer would wait with it), so
    its transactions give up at once when the write lock is taken and are tried again
    after an asynchronous pause."""

    active = False


_ON_LOOP = _OnLoop()
_FIRST_PAUSE = 0.002  # seconds before the first retry of a locked transaction; doubles
_LONGEST_PAUSE = 0.1


def is_locked(exc: BaseException) -> bool:
    """Whether `exc` says SQLite's write lock was taken (SQLITE_BUSY / SQLITE_LOCKED)."""
    if isinstance(exc, StoreUnavailable):
        return True
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    return isinstance(exc, OperationalError) and (
        code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        or "database is locked" in str(orig))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _scalar(result: Any) -> Any:
    return result.scalar()


class SchemaOutdated(Exception):
    """The database schema is not one this code runs on: older (run `repcoach db upgrade`),
    or newer and not declared compatible (coach/store/compatibility.py)."""


def create_db_engine(url: str, pool_size: int = POOL_SIZE) -> Engine:
    """Create an engine for `url`, creating the SQLite file's folder when needed."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        timeout = sqlite_lock_wait(url)
        kwargs["connect_args"] = {"timeout": timeout, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, timeout)
        return engine
    # No pool_pre_ping: it costs a round trip per turn. A connection that died with a
    # server restart fails its turn's first statement, the pool drops every connection of
    # that age, and the engine runs the turn once more (Engine._run_again).
    return create_engine(url, **kwargs, **postgres_pool(pool_size))


def sqlite_lock_wait(url: str) -> float:
    """Seconds a SQLite caller waits for the write lock: the URL's `timeout`, 15 by default."""
    return float(make_url(url).query.get("timeout", 15))  # type: ignore[arg-type]


def _configure_sqlite(engine: Engine, timeout: float) -> None:
    """WAL for concurrent readers, foreign keys on, and immediate write transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # coach/store/checkpoint.py does it
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        busy_ms = 0 if _ON_LOOP.active else int(timeout * 1000)
        if connection.info.get("busy_ms") != busy_ms:  # a PRAGMA only when it changes
            connection.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
            connection.info["busy_ms"] = busy_ms
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out one session per turn."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.pool_size = pool_size
        self.engine = create_db_engine(url, pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._async: async_sessionmaker[AsyncSession] | None = None
        self._async_engine: AsyncEngine | None = None
        self._autocommit: AsyncEngine | None = None  # the same pool, statements alone
        # SQLite has one writer at a time. Threads of this process queue on a lock instead
        # of in SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and
        # retries: measured, that turned a 2 ms turn into hundreds of ms under 50 reps.
        self._writer = threading.RLock()
        self.lock_wait = sqlite_lock_wait(url) if self.is_sqlite else 0.0
        self._loop_turns = LoopTurns()
        self._checkpointer: WalCheckpointer | None = None
        file = make_url(url).database if self.is_sqlite else None
        if file and file != ":memory:" and not file.startswith("file:"):
            self._checkpointer = WalCheckpointer(file, self)
            self._checkpointer.start()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def blocks_briefly(self) -> bool:
        """True when store work is local CPU work that is cheaper to run on the caller's
        event loop than to hand to a thread: SQLite, a file on this machine."""
        return self.is_sqlite

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error.

        On SQLite, work running on the event loop does not wait for a lock held elsewhere
        (it raises, and `_on_loop` tries again later); work in a thread waits."""
        if not self.is_sqlite:
            with self._sessions() as session, session.begin():
                yield session
            return
        if not self._writer.acquire(blocking=not _ON_LOOP.active):
            raise StoreUnavailable("another thread of this process is writing")
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            self._writer.release()

    async def _on_loop(self, work: Callable[[], R], lock_wait: float | None) -> R:
        """`work()` on the event loop (SQLite), retried while another program holds the
        write lock, for at most `lock_wait` seconds (the URL's timeout by default); then
        StoreUnavailable. The loop runs everything else meanwhile."""
        def attempt() -> R:
            _ON_LOOP.active = True
            try:
                return work()
            finally:
                _ON_LOOP.active = False

        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.lock_wait if lock_wait is None else lock_wait)
        pause = _FIRST_PAUSE
        while True:
            try:
                return await self._loop_turns.run(attempt)
            except SQLAlchemyError as exc:
                if not is_locked(exc):
                    raise
                if loop.time() + pause > deadline:
                    raise StoreUnavailable("the database is locked by another program") from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)

    async def run_in_transaction(self, work: Callable[Concatenate[Session, P], R],
                                 *args: P.args, **kwargs: P.kwargs) -> R:
        """`work(session, ...)` in one transaction, from async code, without a thread.

        SQLite: on the event loop, one transaction per loop pass (`LoopTurns`); a turn is a
        couple of milliseconds of local work. PostgreSQL: through SQLAlchemy's asyncio
        layer, which runs the same synchronous code in a greenlet on the loop and awaits each
        round trip, so other reps go on while this one waits on the network.

        Measured with `make bench` (Telegram, 50 reps): handing every turn to a thread
        instead cost the bot more CPU than the turn itself (GIL hand-overs, extra event
        loop wake-ups): 0.48x the bare bot's throughput on SQLite and 0.47x on
        PostgreSQL, against 0.88x on the loop for SQLite."""
        def bound(session: Session) -> R:
            return work(session, *args, **kwargs)

        return await self.transaction_within(None, bound)

    async def transaction_within(self, lock_wait: float | None,
                                 work: Callable[[Session], R]) -> R:
        """`run_in_transaction(work)`, giving up after `lock_wait` seconds (SQLite; None:
        the URL's timeout) while another program holds the write lock: for callers that
        must answer a platform in time whatever the store does."""
        if self.is_sqlite:
            def in_transaction() -> R:
                with self.transaction() as session:
                    return work(session)

            return await self._on_loop(in_transaction, lock_wait)
        async with self._async_sessions()() as remote, remote.begin():
            result: R = await remote.run_sync(work)
            return result

    async def execute_alone(self, statement: Executable, lock_wait: float | None = None,
                            params: dict[str, Any] | None = None) -> int:
        """One write statement that is a transaction of its own (a statement is atomic by
        itself); returns the rows it touched. SQLite: `transaction_within(lock_wait, ...)`
        like any other. PostgreSQL: in autocommit on a plain connection, one round trip
        where a transaction costs three (BEGIN, the statement, COMMIT) and no ORM session:
        the outbox delete that goes with every reply (coach/mailbox.py). Errors are the
        same: an insert that breaks a unique key raises IntegrityError and leaves nothing
        behind either way. `params` fill the statement's bound parameters (a statement built
        once, its compiled form cached, is cheaper than one built per call)."""
        return await self._alone(statement, lock_wait, params, _rowcount)

    async def scalar_alone(self, statement: Executable, lock_wait: float | None = None,
                           params: dict[str, Any] | None = None) -> Any:
        """`execute_alone`, returning the first value the statement gives (a write's
        RETURNING, or a read): the inbox insert that also says whether another worker left
        rows of the same rep (coach/mailbox.py `receive`)."""
        return await self._alone(statement, lock_wait, params, _scalar)

    async def _alone(self, statement: Executable, lock_wait: float | None,
                     params: dict[str, Any] | None, take: Callable[[Any], R]) -> R:
        if self.is_sqlite:
            def alone(session: Session) -> R:
                return take(session.execute(statement, params))

            return await self.transaction_within(lock_wait, alone)
        self._async_sessions()
        assert self._autocommit is not None
        async with self._autocommit.connect() as connection:
            return take(await connection.execute(statement, params))

    async def run_blocking(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`work(...)`, store work that opens its own transactions, from async code: queued
        with the turns on the event loop where it is brief local work (SQLite), in a thread
        where it waits on the network (PostgreSQL)."""
        if self.blocks_briefly:
            return await self._on_loop(functools.partial(work, *args, **kwargs), None)
        return await asyncio.to_thread(work, *args, **kwargs)

    def _async_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Made on first use: only async callers on PostgreSQL need the second pool."""
        if self._async is None:
            self._async_engine = create_async_engine(self.url, **postgres_pool(self.pool_size))
            self._async = async_sessionmaker(self._async_engine, expire_on_commit=False)
            # the same pool; psycopg switches autocommit on the client, no round trip
            self._autocommit = self._async_engine.execution_options(
                isolation_level="AUTOCOMMIT")
        return self._async

    def require_current_schema(self, code_head: str | None = None) -> None:
        """Refuse to run on a database that `repcoach db upgrade` has not brought up to date,
        or that a newer release upgraded to a schema not declared compatible with this one;
        run, with a warning, on a newer schema declared compatible (an old worker restarted
        during a rolling release: coach/store/compatibility.py). `code_head`: this release's
        newest migration (its migrations' head by default)."""
        from coach.store.compatibility import judge
        from coach.store.migrate import scripts

        directory = scripts()
        code = code_head or directory.get_current_head()
        assert code is not None
        with self.engine.connect() as connection:
            verdict = judge(connection, directory, code)
        where = self.engine.url.render_as_string(hide_password=True)
        if verdict.state == "current":
            return
        if verdict.state == "compatible":
            log.warning("database schema %s is newer than this release's %s; it is declared "
                        "compatible; running", verdict.schema, code)
            return
        if verdict.state == "older":
            raise SchemaOutdated(
                f"the database at {where} is at schema {verdict.schema or 'none'}, older than "
                f"this release's {code}; run `repcoach db upgrade`")
        raise SchemaOutdated(
            f"the database at {where} is at schema {verdict.schema}, newer than this "
            f"release's {code}, and not declared compatible with it (a migration since "
            f"{code} changes what this release relies on); run the release that upgraded it "
            f"(schema {verdict.schema}) instead")

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()

    async def aclose(self) -> None:
        """Close both pools; from async code, where the asyncio pool's connections live."""
        if self._async_engine is not None:
            await self._async_engine.dispose()
            self._async_engine = self._async = self._autocommit = None
        self.dispose()
