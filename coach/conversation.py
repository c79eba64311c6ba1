"""A conversation's state while a turn runs, apart from its database row.

The runner changes step, sequence number and pending choices several times in a turn. Made on
the ORM row, each change marked the row dirty, and every query that followed (accounts,
suggestions...) flushed an UPDATE of it first: two or three UPDATEs of the same row a turn.
Working on this copy and writing it back once at the end leaves one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from coach.store.models import Conversation


@dataclass
class ConversationState:
    playbook: str | None = None
    step: str | None = None
    seq: int = 0
    pending: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Conversation) -> ConversationState:
        return cls(row.playbook, row.step, row.seq or 0, copy.deepcopy(row.pending or {}))

    def save(self, row: Conversation, variables: dict[str, Any], now: datetime) -> None:
        """Write the turn's state back in one UPDATE. JSON columns do not see nested
        changes, so they are replaced and flagged: a lost `_scores` update would lose quiz
        answers."""
        row.playbook, row.step, row.seq = self.playbook, self.step, self.seq
        row.vars = copy.deepcopy(variables) if self.playbook else {}
        row.pending = copy.deepcopy(self.pending or {})
        row.updated_at = now
        flag_modified(row, "vars")
        flag_modified(row, "pending")
