"""The only currency between channels and the engine.

Channels turn platform events into an `Incoming`, await `Engine.handle`, and render the
returned `Reply` objects in their own idiom. Keeping these frozen and platform-blind is what
lets one engine serve the console, Telegram and WeCom alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

AttachmentKind = Literal["photo", "document"]


@dataclass(frozen=True)
class Incoming:
    """One thing a person did on a channel: typed text or pressed a button.

    `user_id` is the platform identity (Telegram user id, WeCom UserID, "console").
    `message_id` makes redeliveries idempotent: the same (channel, message_id) is handled once.
    `opened` means the rep opened the chat (console start, WeCom enter_agent): the engine
    re-asks a waiting question, or shows the menu.
    `sent_at` is when the rep sent it by the platform's clock (naive UTC, whole seconds:
    WeCom's CreateTime, Telegram's message date), None where unknown (the console). A
    message handled late (a worker stopped, a retry) can then be told from one answering
    the list now on screen.
    """

    channel: str
    user_id: str
    text: str | None = None
    button: str | None = None
    message_id: str | None = None
    display_name: str = ""
    locale_hint: str | None = None
    opened: bool = False
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Choice:
    """A button. `key` is short (well under Telegram's 64-byte callback limit)."""

    key: str
    label: str


_UNSAFE_IN_NAMES = frozenset('/\\:"*?<>|')


def safe_filename(name: str, default: str = "file") -> str:
    """A file or folder name from user data (a customer's name, a console user) that no
    channel, multipart header or file system misreads: path separators, quotes and control
    characters become "_"."""
    cleaned = "".join("_" if ch in _UNSAFE_IN_NAMES or ord(ch) < 32 else ch for ch in name)
    return cleaned.strip(" .") or default


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: a chart image (photo) or a plan document."""

    filename: str
    mime_type: str
    data: bytes
    kind: AttachmentKind = "document"


@dataclass(frozen=True)
class Reply:
    """One message to show the rep.

    `toast` marks a short notice about a pressed button (Telegram shows it as the callback
    answer, other channels as a plain message). `choices` are rendered as buttons where the
    channel has them, otherwise as a numbered list the rep answers by number or label.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    attachment: Attachment | None = None
    toast: bool = False
