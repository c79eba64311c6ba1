"""One codec for button keys: every button the engine offers carries one of these.

A key is a short ASCII string (Telegram allows 64 bytes of callback data). Each kind of
button has its own tag, and `decode` turns whatever a channel sends back into exactly one
typed key, or None for anything else (a forged or garbled key is refused, never guessed):

    SEQ.TOKEN      ChoiceKey        an answer to the waiting question; SEQ is the prompt
                                    counter, so a button of an older question is stale
    rID.l|s|d      ReminderKey      log / reschedule / drop a reminded follow-up
    aID.f|c|k|u    AdverseEventKey  an adverse event was forwarded to pharmacovigilance: asked
    aID.y|n                         (f), confirmed (c) or not yet (k), and undone (u), see
                                    coach/forwarding.py; or, for one the guard was unsure
                                    of, the rep says it is (y) or is not (n) an adverse event
    aID.d|ne|nc|nr|np               the rep says a report is not one (d) and why
                                    (coach/dismissal.py REASONS)
    nID            NudgeKey         re-evaluate this customer (weekly nudge)
    n.s            SnoozeKey        snooze the weekly nudge for a week
    c.NAME         CommandKey       run the command /NAME (offered for a mistyped one)

Ids in keys are checked against the pressing rep before anything happens (`RepStore` only
finds the rep's own rows), so a forged id does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "MAX_KEY_BYTES",
    "AdverseEventAction",
    "AdverseEventKey",
    "ButtonKey",
    "ChoiceKey",
    "CommandKey",
    "NudgeKey",
    "ReminderAction",
    "ReminderKey",
    "SnoozeKey",
    "decode",
    "encode",
]

MAX_KEY_BYTES = 64
ReminderAction = Literal["l", "s", "d"]
AdverseEventAction = Literal["f", "c", "k", "u", "y", "n", "d", "ne", "nc", "nr", "np"]
_AE_ACTIONS: tuple[str, ...] = get_args(AdverseEventAction)
_TOKEN = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class ChoiceKey:
    """An answer to the question with prompt number `seq`: a choice position, or a letter
    for the skip / create / retype / log-this-note options."""

    seq: int
    token: str


@dataclass(frozen=True)
class ReminderKey:
    followup_id: int
    action: ReminderAction


@dataclass(frozen=True)
class AdverseEventKey:
    event_id: int
    action: AdverseEventAction = "f"


@dataclass(frozen=True)
class NudgeKey:
    account_id: int


@dataclass(frozen=True)
class SnoozeKey:
    pass


@dataclass(frozen=True)
class CommandKey:
    """A command to run, as if typed: "/nxt" is answered with /next to tap."""

    name: str


ButtonKey = ChoiceKey | ReminderKey | AdverseEventKey | NudgeKey | SnoozeKey | CommandKey
_COMMAND_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,31}$")


def encode(key: ButtonKey) -> str:
    """The key as a channel carries it; always within MAX_KEY_BYTES."""
    if isinstance(key, ChoiceKey):
        raw = f"{key.seq}.{key.token}"
    elif isinstance(key, ReminderKey):
        raw = f"r{key.followup_id}.{key.action}"
    elif isinstance(key, AdverseEventKey):
        raw = f"a{key.event_id}.{key.action}"
    elif isinstance(key, NudgeKey):
        raw = f"n{key.account_id}"
    elif isinstance(key, CommandKey):
        raw = f"c.{key.name}"
    else:
        raw = "n.s"
    if len(raw.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"button key {raw!r} is longer than {MAX_KEY_BYTES} bytes")
    return raw


#: The largest id a row can have (PostgreSQL INTEGER): a bigger number is no id of ours.
MAX_ID = 2**31 - 1


def _id(text: str) -> int | None:
    """A positive id written in ASCII digits ("٣" or "+3" are not ids), within MAX_ID."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def decode(raw: str) -> ButtonKey | None:
    """The typed key `raw` stands for, or None when it is none of ours."""
    if not raw or len(raw.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        return None
    if raw == "n.s":
        return SnoozeKey()
    head, dot, tail = raw.partition(".")
    tag, number = head[:1], head[1:]
    if not dot and tag == "n" and (account := _id(number)) is not None:
        return NudgeKey(account)
    if not dot:
        return None
    if head == "c":
        return CommandKey(tail) if _COMMAND_NAME.match(tail) else None
    if (seq := _id(head)) is not None:
        return ChoiceKey(seq, tail) if _TOKEN.match(tail) else None
    ident = _id(number)
    if ident is None:
        return None
    if tag == "r" and tail in ("l", "s", "d"):
        return ReminderKey(ident, tail)  # type: ignore[arg-type]
    if tag == "a" and tail in _AE_ACTIONS:
        return AdverseEventKey(ident, tail)  # type: ignore[arg-type]
    return None
