"""Driving the real Telegram adapter against the fake Bot API, as a person on a phone would.

`running_bot` starts a `TelegramChannel` (real python-telegram-bot, real HTTP on loopback)
on a given engine; `Person` types and presses buttons in their private chat and gets back
what they now see. Presses go by the buttons the bot actually sent (read from the fake),
never by keys the test makes up, unless a test forges one on purpose.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from telegram import Update
from telegram.ext import ContextTypes

from bot.config import TelegramConfig
from bot.server import WebhookServer
from bot.telegram import TelegramChannel
from coach.engine import Engine
from testkit.fakes.telegram_api import CallbackPress, FakeTelegram, SentMessage

TOKEN = "123456:TEST-token_for-RepCoach"
SETTLE = 10.0  # seconds an update may take, 429 back-offs included


class TrackedChannel(TelegramChannel):
    """The real channel; it only also notes which updates it has finished with, so a test
    waits exactly as long as the bot needs and no longer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled: list[int] = []

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await super().on_update(update, context)
        finally:
            self.handled.append(update.update_id)


def telegram_config(fake: FakeTelegram, **overrides: Any) -> TelegramConfig:
    values: dict[str, Any] = {"enabled": True, "token": fake.token, "base_url": fake.base_url,
                              "poll_timeout": 1, "reminder_interval": 0.2}
    values.update(overrides)
    return TelegramConfig(**values)


@contextlib.asynccontextmanager
async def running_bot(fake: FakeTelegram, engine: Engine, *,
                      server: WebhookServer | None = None,
                      **config: Any) -> AsyncIterator[TrackedChannel]:
    channel = TrackedChannel(telegram_config(fake, **config), engine, server)
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


@dataclass
class Pressed:
    """What a press did: the callback answer (the toast) and the messages it brought."""

    press: CallbackPress
    new: list[SentMessage]

    @property
    def notice(self) -> str | None:
        answer = self.press.answer or {}
        text_ = answer.get("text")
        return str(text_) if text_ else None

    @property
    def answered(self) -> bool:
        return self.press.answered


@dataclass
class Person:
    """Someone in a private chat with the bot."""

    fake: FakeTelegram
    channel: TrackedChannel | None  # None: a bot in another process; wait for its messages
    user_id: int
    first_name: str = "王芳"
    language_code: str | None = "zh-hans"
    updates: list[int] = field(default_factory=list)  # what they sent or pressed, in order

    # what they see --------------------------------------------------------------------------
    def messages(self) -> list[SentMessage]:
        return self.fake.messages_to(self.user_id)

    def texts(self) -> list[str]:
        return [m.text for m in self.messages()]

    def transcript(self) -> str:
        return "\n".join(self.fake.transcript(self.user_id))

    def _last_id(self) -> int:
        return max((m.message_id for m in self.messages()), default=0)

    def _since(self, last_id: int) -> list[SentMessage]:
        return [m for m in self.messages() if m.message_id > last_id]

    async def _settle(self, update_id: int, last_id: int, expect: int, times: int = 1) -> None:
        """Wait until the bot has handled the update (`times` deliveries of it); a bot in
        another process, until `expect` new messages are there (and a press is answered)."""
        self.updates.append(update_id)
        channel = self.channel
        if channel is not None:
            await self.fake.wait_for(lambda: channel.handled.count(update_id) >= times,
                                     SETTLE, what=f"the bot to handle update {update_id}")
            return
        presses = [p for p in self.fake.callback_presses() if p.update_id == update_id]

        def done() -> bool:
            return (len(self._since(last_id)) >= expect
                    and all(p.answered for p in presses))

        try:
            await self.fake.wait_for(done, SETTLE)
        except AssertionError:
            raise AssertionError(f"expected {expect} new message(s) after update {update_id}; "
                                 f"chat:\n{self.transcript()}") from None

    # what they do ---------------------------------------------------------------------------
    async def say(self, words: str, expect: int = 1) -> list[SentMessage]:
        """Type `words`; the bot's new messages."""
        last = self._last_id()
        update_id = self.fake.user_sends(self.user_id, words, self.first_name,
                                         language_code=self.language_code)
        await self._settle(update_id, last, expect)
        return self._since(last)

    async def again(self) -> list[SentMessage]:
        """Telegram delivers their last update once more (same update_id); what that shows."""
        last = self._last_id()
        update_id = self.updates.pop()
        times = (self.channel.handled.count(update_id) if self.channel is not None else 0) + 1
        self.fake.deliver_again(update_id)
        await self._settle(update_id, last, 0, times)
        return self._since(last)

    def keyboard_message(self) -> SentMessage:
        message = self.fake.last_keyboard_message(self.user_id)
        assert message is not None, f"no buttons in the chat:\n{self.transcript()}"
        return message

    def button(self, label_part: str, message: SentMessage | None = None) -> tuple[str, str]:
        """(label, callback_data) of the newest button whose label contains `label_part`."""
        message = message or self.keyboard_message()
        for label, data in message.buttons:
            if label_part in label:
                return label, data
        raise AssertionError(f"no button with {label_part!r} on message {message.message_id}; "
                             f"buttons: {message.buttons}")

    async def press(self, label_part: str, message: SentMessage | None = None,
                    expect: int = 1) -> Pressed:
        """Press the button (on the newest keyboard, or `message`) whose label has the text."""
        message = message or self.keyboard_message()
        _, data = self.button(label_part, message)
        return await self.press_data(message.message_id, data, expect=expect)

    async def press_nth(self, index: int, message: SentMessage | None = None,
                        expect: int = 1) -> Pressed:
        message = message or self.keyboard_message()
        return await self.press_data(message.message_id, message.buttons[index][1],
                                     expect=expect)

    async def press_data(self, message_id: int, data: str, *, chat_id: int | None = None,
                         strict: bool = True, expect: int = 1) -> Pressed:
        """Press `data` on message `message_id` (in `chat_id`, default their own chat);
        `strict=False` lets a stale or tampered client send data no button carries."""
        last = self._last_id()
        update_id = self.fake.user_presses(self.user_id, message_id, data, chat_id=chat_id,
                                           strict=strict)
        await self._settle(update_id, last, expect)
        [press] = [p for p in self.fake.callback_presses() if p.update_id == update_id]
        return Pressed(press, self._since(last))


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params).all()]


def count(engine: Engine, table: str) -> int:
    [(n,)] = rows(engine, f"SELECT COUNT(*) FROM {table}")
    return int(n)


def counts(engine: Engine, tables: Iterable[str]) -> dict[str, int]:
    return {table: count(engine, table) for table in tables}


def conversation(engine: Engine, rep_name: str) -> tuple[Any, ...]:
    """(playbook, step, seq, vars, engine) of a rep's conversation row: where they are, the
    playbook's variables and the engine's own state (waiting question, answers, scores)."""
    [(playbook, step, seq, variables, state)] = rows(
        engine, "SELECT c.playbook, c.step, c.seq, c.vars, c.engine FROM conversations c "
                "JOIN reps r ON r.id = c.rep_id WHERE r.name = :name", name=rep_name)
    if isinstance(variables, str):
        variables = json.loads(variables)
    if isinstance(state, str):
        state = json.loads(state)
    return playbook, step, seq, variables, state
