"""A clock the script moves by hand, so a conversation about "in two days" runs in no time."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """A clock the test moves by hand; starts on a Sunday morning, Beijing time."""

    def __init__(self, start: datetime = datetime(2026, 11, 22, 2, 0, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
