"""What a turn gives back to a channel: the replies and an outcome the channel acts on.

Channels never inspect reply texts to learn what happened: a pressed button is marked as
chosen only when the outcome is `ok`; on `stale` or `not_saved` its keyboard stays so the
rep can try again; on `duplicate` (a platform redelivery) nothing is sent at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from coach.messages import Reply

__all__ = ["Outcome", "TurnResult"]


class Outcome(StrEnum):
    OK = "ok"
    NOT_SAVED = "not_saved"  # the turn failed and nothing of it was stored; send it again
    STALE = "stale"  # a button that no longer applies; nothing changed
    DUPLICATE = "duplicate"  # this platform message was handled before; nothing to do


@dataclass(frozen=True)
class TurnResult:
    replies: tuple[Reply, ...] = ()
    outcome: Outcome = Outcome.OK

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK
