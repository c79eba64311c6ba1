"""A database failure at start-up (or in an admin command) as one line saying what is
wrong and what to do, instead of SQLAlchemy's traceback; the URL's password shown as ***."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from bot.config import render_url
from coach.store.outage import unreachable

#: what to do, by what went wrong (the reason from coach/store/outage.py)
_ADVICE = (
    ('database "', "create it (e.g. `createdb NAME` as the PostgreSQL admin) or correct "
                   "database.url, then run `repcoach db upgrade`"),
    ('user "', "correct the user or password in database.url (or REPCOACH_DATABASE_URL)"),
    ("too many connections", "raise PostgreSQL's max_connections or lower database.pool_size "
                             "(docs/deploy.md)"),
    ("locked", "another program holds the SQLite file's lock; try again when it is done"),
)
_DEFAULT_ADVICE = ("check that the database server is running and that database.url (or "
                   "REPCOACH_DATABASE_URL) names the right host and port")


def describe(exc: SQLAlchemyError, url: str | None) -> str:
    """One line for `exc`: where, why, and what to do when the database is unreachable;
    otherwise the driver's first line (a schema or data problem, not a connection one)."""
    where = f" at {render_url(url)}" if url else ""
    reason = unreachable(exc)
    if reason is None:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return (f"database error{where}: {exc.__class__.__name__}: "
                f"{detail[0] if detail else '(no message)'}")
    advice = next((text for key, text in _ADVICE if key in reason), _DEFAULT_ADVICE)
    return f"cannot use the database{where}: {reason}; {advice}"
