"""The in-memory channel: drive the engine like a rep would, without any platform.

Shipped with the engine so channel authors and playbook authors can write conversation tests
that read as scripts: say this, press that, expect this reply.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from coach.documents.fonts import reply_with_font
from coach.engine import Engine
from coach.messages import Choice, Incoming, Reply
from coach.turn.result import TurnResult

_message_ids = itertools.count(1)
_RUN = uuid.uuid4().hex[:8]  # ids stay unique across runs against the same database


class NoSuchButton(AssertionError):
    """The script pressed a button the bot did not offer."""


@dataclass
class MemoryChat:
    """One rep's chat with the engine. Keeps every reply, like a phone screen would."""

    engine: Engine
    user_id: str = "rep-1"
    channel: str = "memory"
    display_name: str = "测试代表"
    transcript: list[Reply] = field(default_factory=list)
    results: list[TurnResult] = field(default_factory=list)
    #: documents get their font, as a channel hands them over; False: the engine's replies
    #: as they are (a benchmark timing the turn alone; the font is cut at delivery)
    fonts: bool = True

    def _send(self, incoming: Incoming) -> list[Reply]:
        result = self.engine.handle_sync(incoming)
        self.results.append(result)
        # what a channel hands over: a document with its font (coach/documents/fonts.py)
        replies = [reply_with_font(reply) if self.fonts else reply
                   for reply in result.replies]
        self.transcript.extend(replies)
        return replies

    def say(self, text: str, *, message_id: str | None = None) -> list[Reply]:
        return self._send(Incoming(self.channel, self.user_id, text=text,
                                   message_id=message_id or f"m{_RUN}-{next(_message_ids)}",
                                   display_name=self.display_name))

    def open(self) -> list[Reply]:
        return self._send(Incoming(self.channel, self.user_id, opened=True,
                                   display_name=self.display_name))

    def press_key(self, key: str) -> list[Reply]:
        return self._send(Incoming(self.channel, self.user_id, button=key,
                                   message_id=f"m{_RUN}-{next(_message_ids)}",
                                   display_name=self.display_name))

    def choices(self) -> tuple[Choice, ...]:
        """The buttons of the newest reply that has any."""
        for reply in reversed(self.transcript):
            if reply.choices:
                return reply.choices
        return ()

    def press(self, label_part: str) -> list[Reply]:
        """Press the newest button whose label contains `label_part`."""
        for choice in self.choices():
            if label_part in choice.label:
                return self.press_key(choice.key)
        offered = [c.label for c in self.choices()]
        raise NoSuchButton(f"no button with {label_part!r}; offered: {offered}")

    def press_nth(self, index: int) -> list[Reply]:
        return self.press_key(self.choices()[index].key)

    @staticmethod
    def text(replies: list[Reply]) -> str:
        return "\n".join(r.text for r in replies)
