"""A conversation's state while a turn runs, read and written with one plain statement each.

The runner changes step, sequence number and pending choices several times in a turn. Made on
an ORM row, each change marked the row dirty, and every query that followed (accounts,
suggestions...) flushed an UPDATE of it first: two or three UPDATEs of the same row a turn,
each through the unit of work. The state is read as plain columns with the rep (one round
trip, row locked) and written back once at the end with one UPDATE.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from coach.store.models import Conversation

COLUMNS = (Conversation.playbook, Conversation.step, Conversation.seq, Conversation.vars,
           Conversation.pending)
_TABLE = cast(Table, Conversation.__table__)
_SAVE = (
    update(_TABLE)
    .where(_TABLE.c.rep_id == bindparam("key"))
    .values(playbook=bindparam("playbook"), step=bindparam("step"), seq=bindparam("seq"),
            vars=bindparam("vars"), pending=bindparam("pending"),
            updated_at=bindparam("updated_at"))
)


@dataclass
class ConversationState:
    rep_id: int
    playbook: str | None = None
    step: str | None = None
    seq: int = 0
    pending: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)  # as saved; the turn works on a copy

    @classmethod
    def of(cls, rep_id: int, playbook: str | None, step: str | None, seq: int | None,
           variables: dict[str, Any] | None, pending: dict[str, Any] | None
           ) -> ConversationState:
        return cls(rep_id, playbook, step, seq or 0, copy.deepcopy(pending or {}),
                   variables or {})

    @classmethod
    def of_row(cls, row: Conversation) -> ConversationState:
        return cls.of(row.rep_id, row.playbook, row.step, row.seq, row.vars, row.pending)

    def save(self, session: Session, variables: dict[str, Any], now: datetime) -> None:
        """Write the turn's state back: one UPDATE of the row locked at the start."""
        session.execute(_SAVE, {
            "key": self.rep_id, "playbook": self.playbook, "step": self.step,
            "seq": self.seq, "vars": variables if self.playbook else {},
            "pending": self.pending or {}, "updated_at": now})
