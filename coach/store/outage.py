"""Telling "the database cannot be reached" from every other failure, in a few words.

An unreachable server (stopped, wrong port, unknown host, a database that does not exist,
a rejected password) is an operations problem with one cause an admin can act on: start-up
prints it as one line and the background passes log one warning a pass. Anything else is a
bug whose traceback is worth keeping.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from coach.store.database import StoreUnavailable

#: what the driver said, as a few words for an admin (first match wins)
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason) for pattern, reason in (
        (r"connection refused", "connection refused"),
        (r'database "([^"]+)" does not exist', 'database "{0}" does not exist'),
        (r"could not translate host name|name or service not known|"
         r"nodename nor servname|failed to resolve host|temporary failure in name resolution",
         "host name not found"),
        (r'password authentication failed for user "([^"]+)"',
         'password authentication failed for user "{0}"'),
        (r'role "([^"]+)" does not exist', 'user "{0}" does not exist'),
        (r"no pg_hba\.conf entry", "the server does not accept this user from this host"),
        (r"timeout|timed out", "connection timed out"),
        (r"the database system is (starting up|shutting down|in recovery mode)",
         "the server is {0}"),
        (r"terminating connection|server closed the connection|connection is closed|"
         r"connection (was )?(lost|reset)|consuming input failed|broken pipe",
         "connection lost"),
        (r"too many clients|remaining connection slots",
         "too many connections (PostgreSQL max_connections)"),
        (r"database is locked", "locked by another program"),
        (r"unable to open database file", "the database file cannot be opened"),
    ))


def unreachable(exc: BaseException) -> str | None:
    """A few words on why the database could not be reached when `exc` (or what it was
    raised from) says so; None for any other error. Passwords never appear: drivers do not
    repeat them, and only the reason, not the message, is returned."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreUnavailable):
            return "locked by another program"
        if isinstance(current, (OperationalError, InterfaceError)) or (
                isinstance(current, DBAPIError) and current.connection_invalidated):
            return _reason(str(getattr(current, "orig", None) or current))
        if isinstance(current, ConnectionError):
            return _reason(str(current)) if str(current) else "connection refused"
        current = current.__cause__ or current.__context__
    return None


def _reason(message: str) -> str:
    for pattern, reason in _REASONS:
        found = pattern.search(message)
        if found:
            return reason.format(*found.groups())
    first = message.strip().splitlines()[0] if message.strip() else "no answer"
    return first[:120]
