"""The SQL statements the store runs while a block runs, as tests count them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from coach.engine import Engine


@contextmanager
def statements(engine: Engine, containing: str = "") -> Iterator[list[str]]:
    """Every statement (whitespace collapsed) run on `engine`'s store while the block runs,
    or only those `containing` a text; SQLite's BEGIN is not a query and is left out."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        flat = " ".join(statement.split())
        if not flat.upper().startswith("BEGIN") and containing in flat:
            seen.append(flat)

    db = engine.database.engine
    event.listen(db, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", count)
