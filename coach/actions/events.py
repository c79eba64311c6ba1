"""Dated hospital events the rep wrote in notes ("下个月15号药事会", "年底科室评优"), for the
hospital plan's dated actions: each with what to do before it.

A key-account plan is built around the hospital's calendar: the formulary committee, an
award or inspection, a tender, an academic meeting. The rep mentions them in passing in a
visit note. An event is a phrase from the hospital playbook's `content.events` in a clause
of a recent note of someone at the hospital, with a date in that clause (or the next one),
read as the note reader reads follow-up dates, relative to the day the note was written;
年底 / 年末 / year end is 31 December. Only events still ahead are kept, one per kind and
day, soonest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from coach.actions.signals import find_signals
from coach.capture.followup import find_followup

if TYPE_CHECKING:
    from coach.context import Turn

LOOKBACK_DAYS = 180  # notes read for events
CLAUSES = re.compile(r"[，。；！？,;!?\n]+")
YEAR_END = re.compile(r"年底|年末|年终|end of (?:the )?year|year[- ]end", re.IGNORECASE)


@dataclass(frozen=True)
class Event:
    """One dated event: its kind (a key of `content.events`), day, and who mentioned it in
    which words."""

    kind: str
    day: date
    phrase: str
    who: str


def _day_in(turn: Turn, clause: str, written: date) -> date | None:
    if YEAR_END.search(clause):
        return date(written.year, 12, 31)
    return find_followup(turn.library.lexicon, clause, written).due


class Person(Protocol):
    """What events need of a customer: an `Account`, or the lighter `AccountEntry`."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


def hospital_events(turn: Turn, people: Iterable[Person],
                    events: Mapping[str, Mapping[str, Any]]) -> list[Event]:
    """The dated events ahead in the recent notes of `people` (one hospital's customers)."""
    accounts = {a.id: a for a in people}
    if not accounts or not events:
        return []
    signals = [{"kind": "event", "value": kind, "phrases": spec["phrases"]}
               for kind, spec in events.items()]
    today = turn.local_now.date()
    found: dict[tuple[str, date], Event] = {}
    for note in reversed(turn.recent_notes(accounts, LOOKBACK_DAYS)):  # oldest first
        written = date.fromisoformat(turn.local_date(note.created_at))
        clauses = [c for c in CLAUSES.split(note.text) if c.strip()]
        for index, clause in enumerate(clauses):
            for hit in find_signals(clause, signals):
                day = _day_in(turn, clause, written)
                if day is None and index + 1 < len(clauses):
                    day = _day_in(turn, clauses[index + 1], written)
                if day is not None and day >= today:
                    found.setdefault((str(hit["value"]), day), Event(
                        str(hit["value"]), day, str(hit["phrase"]),
                        accounts[note.account_id].name))
    return sorted(found.values(), key=lambda e: (e.day, e.kind))
