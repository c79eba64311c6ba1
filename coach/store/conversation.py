"""A conversation's state while a turn runs, read and written with one plain statement each.

Two kinds of state live in the conversation row:

* `vars`: the playbook's own variables (what its steps save and set, what its actions
  provide), the only names templates can read;
* `engine`: what the engine itself keeps between messages, as typed fields
  (`EngineState`): the question waiting for an answer, the numbered list the rep last saw,
  the quiz's running scores, what the compliance guard found, a note typed at a button
  question and offered for logging, flows put aside while that note is logged.

The runner changes step, sequence number and state several times in a turn. Made on an ORM
row, each change marked the row dirty, and every query that followed flushed an UPDATE of it
first. The state is read as plain columns with the rep (one round trip, row locked) and
written back once at the end with one UPDATE.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import Session

from coach.store.models import Conversation

__all__ = [
    "COLUMNS",
    "ConversationState",
    "EngineState",
    "Frame",
    "LastVisit",
    "ParkedNote",
    "PickerState",
    "Prompt",
    "Save",
    "ShownChoice",
]


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShownChoice(_State):
    key: str
    label: str


class Prompt(_State):
    """A question exactly as the rep saw it, so it can be shown again with the same (still
    valid) buttons: when the rep reopens the chat, or after a note logged in between."""

    text: str
    choices: list[ShownChoice] = Field(default_factory=list)


class PickerState(_State):
    """What the customer picker offered for the waiting question: account ids by position,
    the token of each choice, and the customer typed (to create it on request)."""

    options: list[int] = Field(default_factory=list)
    tokens: list[str] = Field(default_factory=list)
    query: dict[str, str | None] | None = None
    page: int = 0  # the page of `options` shown (five at a time, "more" for the next)


class ParkedNote(_State):
    """Text typed at a question that wanted a button: kept, and offered for logging as a
    visit note while the question goes on waiting. `reports` are the adverse events the
    guard already recorded from it."""

    text: str
    reports: list[int] = Field(default_factory=list)
    redacted: list[str] = Field(default_factory=list)


class Frame(_State):
    """A flow put aside while the rep logs a note they typed in the middle of it."""

    playbook: str
    step: str
    vars: dict[str, Any] = Field(default_factory=dict)
    scores: dict[str, float] = Field(default_factory=dict)
    answers: list[tuple[str, int]] = Field(default_factory=list)
    picker: PickerState | None = None


class LastVisit(_State):
    """The visit this conversation saved last: a text right after it that adds to it
    ("不对，她已经想试用了") amends that note rather than becoming a second visit."""

    note_id: int
    account_id: int
    at: datetime  # naive UTC, when it was saved
    # the customer's name and hospital then: most texts are no addition to it, and are
    # told so without reading the note and the customer again ("" for a visit saved
    # before these were kept: those are read)
    name: str = ""
    hospital: str | None = None
    # a person correction right after ("记错人了 不是王主任 是刘医生") moves what the visit
    # did: the other follow-ups of the wrong customer it replaced are given back, and its
    # stage changes since `first` (its first save, before any addition) move along
    replaced: list[int] = Field(default_factory=list)
    first: datetime | None = None


class EngineState(_State):
    """The engine's own memory of a conversation; playbook authors never see it."""

    prompt: Prompt | None = None  # the waiting question
    shown: list[ShownChoice] = Field(default_factory=list)  # the newest numbered list seen
    # when that list was first shown (naive UTC): a number sent before it answered an
    # earlier list (coach/turn/router.py); None for a list shown before this was kept
    shown_at: datetime | None = None
    picker: PickerState | None = None
    scores: dict[str, float] = Field(default_factory=dict)  # a quiz's running totals
    answers: list[tuple[str, int]] = Field(default_factory=list)  # (step, choice index)
    redacted: list[str] = Field(default_factory=list)  # categories removed from texts
    reports: list[int] = Field(default_factory=list)  # adverse events from this flow's texts
    # notes typed where a button was expected, oldest first: kept until logged or dropped
    parked: list[ParkedNote] = Field(default_factory=list)
    suspended: list[Frame] = Field(default_factory=list)
    # what followed a mistyped command ("/hosptial 仁和医院"): the did-you-mean button runs
    # the command it offers with it, as typed
    typed_args: str | None = None
    # the report the rep was just asked why it is not an adverse event: the next text typed
    # (not a command, not a choice) is that reason (coach/turn/typed_reason.py)
    dismissing: int | None = None
    dismissing_at: datetime | None = None  # when it was asked (naive UTC)
    last_visit: LastVisit | None = None

    @field_validator("parked", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """Rows written before notes were kept as a list held one note, or none."""
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value

    def take_parked(self) -> ParkedNote | None:
        """The oldest kept note, taken off the list to be logged or dropped."""
        return self.parked.pop(0) if self.parked else None

    @classmethod
    def load(cls, raw: Any) -> EngineState:
        """From the stored JSON; a row written by an older version (or damaged) starts
        clean rather than failing the rep's turn."""
        if not isinstance(raw, dict) or not raw:
            return cls()
        try:
            return cls.model_validate(raw)
        except ValidationError:
            return cls()

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)

    def clear_flow(self) -> None:
        """Forget everything about the flow that just ended (not the suspended ones, the
        notes kept for logging, nor the list the rep last saw)."""
        self.prompt = None
        self.picker = None
        self.scores = {}
        self.answers = []
        self.redacted = []
        self.reports = []


COLUMNS = (Conversation.playbook, Conversation.step, Conversation.seq, Conversation.vars,
           Conversation.engine)
_TABLE = cast(Table, Conversation.__table__)
_SAVE = (
    update(_TABLE)
    .where(_TABLE.c.rep_id == bindparam("key"))
    .values(playbook=bindparam("playbook"), step=bindparam("step"), seq=bindparam("seq"),
            vars=bindparam("vars"), engine=bindparam("engine"),
            updated_at=bindparam("updated_at"))
)


@dataclass
class ConversationState:
    rep_id: int
    playbook: str | None = None
    step: str | None = None
    seq: int = 0
    vars: dict[str, Any] = field(default_factory=dict)  # as saved; the turn works on a copy
    engine: EngineState = field(default_factory=EngineState)

    @classmethod
    def of(cls, rep_id: int, playbook: str | None, step: str | None, seq: int | None,
           variables: dict[str, Any] | None, engine: Any) -> ConversationState:
        """From the columns of a row just read: their JSON was decoded for this read, so the
        state may keep it (no copy: a deep copy of the engine's state was a tenth of a
        quiz turn's cost)."""
        return cls(rep_id, playbook, step, seq or 0, variables or {}, EngineState.load(engine))

    @classmethod
    def of_row(cls, row: Conversation) -> ConversationState:
        """From a mapped row, whose JSON the session tracks: the state works on a copy."""
        return cls.of(row.rep_id, row.playbook, row.step, row.seq, row.vars,
                      copy.deepcopy(row.engine))

    def save(self, session: Session, variables: dict[str, Any], now: datetime) -> None:
        """Write the turn's state back: one UPDATE of the row locked at the start."""
        self.saving(variables, now).run(session)

    def saving(self, variables: dict[str, Any], now: datetime) -> Save:
        """The write `save` makes, not made yet: a caller that ends the transaction with a
        statement of its own may send both at once (coach/mailbox.py)."""
        return Save({"key": self.rep_id, "playbook": self.playbook, "step": self.step,
                     "seq": self.seq, "vars": variables if self.playbook else {},
                     "engine": self.engine.dump(), "updated_at": now})


@dataclass(frozen=True)
class Save:
    """A conversation's state to write back: `STATEMENT` (one UPDATE) with `params`."""

    params: dict[str, Any]

    STATEMENT: ClassVar[Update] = _SAVE

    def run(self, session: Session) -> None:
        session.execute(self.STATEMENT, self.params)
