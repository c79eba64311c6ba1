"""SQLite WAL checkpoints off the turn path.

By default SQLite copies the write-ahead log back into the database file (a checkpoint) inside
whichever commit pushes the log past 1,000 pages. That commit is a rep's turn, and it pays for
everyone's writes: measured on a 2,000-rep store, 8 of the 10 slowest "note saved" and "next
step" turns were the ones that ran a checkpoint (12-18 ms against a 3-4 ms median), and a
bigger store touches more pages per commit, so they came more often as data grew.

Turns' connections therefore never checkpoint (`wal_autocheckpoint=0`), and this thread runs a
PASSIVE checkpoint every second on a connection of its own. PASSIVE takes no write lock: turns
go on while it copies, and it simply stops where a reader still needs old pages (the next run
continues). When the process ends, SQLite checkpoints as the last connection closes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    """A daemon thread checkpointing one SQLite file until `stop()` or its owner is gone."""

    def __init__(self, path: str, owner: object, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self._owner = weakref.ref(owner)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"wal-checkpoint:{path}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval) and self._owner() is not None:
                try:
                    if connection is None:
                        connection = sqlite3.connect(self.path, timeout=0.1,
                                                     check_same_thread=False)
                    self.checkpoint(connection)
                except sqlite3.Error as exc:  # busy, or the file went away: try next time
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            if connection is not None:
                connection.close()
