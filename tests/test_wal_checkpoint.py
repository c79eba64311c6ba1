"""SQLite WAL checkpoints run beside the turns, not inside them (coach/store/checkpoint.py):
turns never checkpoint, and what they wrote still reaches the database file by itself."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from coach.engine import Engine
from coach.library import Library
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.testing import MemoryChat


def test_turns_never_checkpoint_but_the_file_catches_up(library: Library,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    upgrade(f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 0
    chat = MemoryChat(Engine(database, library))
    chat.say("/log")
    chat.say("泰山医院李主任想看老年亚组数据")
    chat.press("✅ 保存")

    copy = tmp_path / "main-file-only.sqlite3"  # what a backup of just the file would hold
    deadline = time.monotonic() + 10
    notes: list[tuple[str]] = []
    while time.monotonic() < deadline and not notes:
        time.sleep(0.2)
        shutil.copyfile(path, copy)
        with sqlite3.connect(copy) as reader:
            notes = reader.execute("SELECT text FROM notes").fetchall()
    assert notes == [("泰山医院李主任想看老年亚组数据",)]
    database.dispose()
