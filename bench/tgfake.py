"""The loopback fake Bot API (testkit/fakes/telegram_api.py) with what the drivers need to
know cheaply: each chat's bot messages, and the calls made for the turn in flight per chat.

The fake's own inspection helpers scan every message ever sent, which is fine in a test and
too slow for thousands of turns; this subclass keeps per-chat indexes as calls arrive.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from testkit.fakes.telegram_api import Call, FakeTelegram, SentMessage, UploadedFile

TOKEN = "123456:BENCH"


class BenchTelegram(FakeTelegram):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(token=TOKEN, **kwargs)
        self.bot_messages: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self.turn_calls: defaultdict[int, list[Call]] = defaultdict(list)
        self.first_call_at: dict[tuple[int, str], float] = {}
        self.reply_waiters: dict[int, asyncio.Future[float]] = {}
        self.errors = 0
        for name, handler in list(self._handlers.items()):
            self._handlers[name] = self._recording(handler)

    async def __aenter__(self) -> BenchTelegram:
        await self.start()
        return self

    def _recording(self, handler: Callable[[Call], Any]) -> Callable[[Call], Any]:
        def handle(call: Call) -> Any:
            try:
                return handler(call)
            except Exception:
                self.errors += 1
                raise
            finally:
                chat = self._chat_of(call)
                if chat is not None:
                    self.turn_calls[chat].append(call)
                    self.first_call_at.setdefault((chat, call.method), call.at)
                    waiter = self.reply_waiters.pop(chat, None) if call.method.startswith(
                        "send") else None
                    if waiter is not None and not waiter.done():
                        waiter.set_result(call.at)
        return handle

    def next_reply(self, chat: int) -> asyncio.Future[float]:
        """Resolves with the arrival time of the bot's next send* call to `chat`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.reply_waiters[chat] = future
        return future

    def _chat_of(self, call: Call) -> int | None:
        if call.method == "answerCallbackQuery":
            press = self._presses.get(str(call.params.get("callback_query_id")))
            return press.chat_id if press is not None else None
        chat = call.params.get("chat_id")
        return chat if isinstance(chat, int) else None

    def _store(self, chat: dict[str, Any], kind: str, text: str, source: str,
               parse_mode: str | None, entities: list[dict[str, Any]],
               markup: dict[str, Any] | None, file: UploadedFile | None = None,
               media: Any = None) -> SentMessage:
        message = super()._store(chat, kind, text, source, parse_mode, entities, markup, file,
                                 media)
        self.bot_messages[message.chat_id].append(message)
        return message

    def keyboard_message(self, chat: int) -> SentMessage | None:
        """The newest bot message in `chat` that still has buttons."""
        for message in reversed(self.bot_messages[chat]):
            if message.buttons:
                return message
        return None


@dataclass
class TurnRecord:
    chat: int
    index: int  # the turn's number in its chat
    kind: str
    measured: bool
    enqueued: float
    last_call: float
    done: float
    calls: list[Call] = field(repr=False)

    @property
    def latency(self) -> float:
        """From the fake enqueuing the update to the bot's last call for it."""
        return self.last_call - self.enqueued


class NoSuchButton(AssertionError):
    pass


class Driver:
    """Plays reps against the fake and times each turn until the bot says `done`."""

    def __init__(self, fake: BenchTelegram, turn_timeout: float = 30.0) -> None:
        self.fake = fake
        self.turn_timeout = turn_timeout
        self.records: list[TurnRecord] = []
        self.turn_counts: defaultdict[int, int] = defaultdict(int)
        self._waiting: dict[int, asyncio.Future[float]] = {}

    def on_line(self, line: str) -> None:
        """stdout of the bot process: `done UPDATE_ID`."""
        if not line.startswith("done "):
            return
        future = self._waiting.pop(int(line.split()[1]), None)
        if future is not None and not future.done():
            future.set_result(asyncio.get_running_loop().time())

    async def _turn(self, chat: int, kind: str, measured: bool,
                    enqueue: Callable[[], int]) -> list[SentMessage]:
        loop = asyncio.get_running_loop()
        before = len(self.fake.bot_messages[chat])
        self.fake.turn_calls[chat] = []
        update_id = enqueue()
        enqueued = loop.time()
        future: asyncio.Future[float] = loop.create_future()
        self._waiting[update_id] = future
        try:
            done = await asyncio.wait_for(future, self.turn_timeout)
        finally:
            self._waiting.pop(update_id, None)
        calls = list(self.fake.turn_calls[chat])
        last = max((c.at for c in calls), default=math.nan)
        index = self.turn_counts[chat]
        self.turn_counts[chat] += 1
        self.records.append(TurnRecord(chat, index, kind, measured, enqueued, last, done, calls))
        return self.fake.bot_messages[chat][before:]

    async def say(self, chat: int, text: str, kind: str, measured: bool) -> list[SentMessage]:
        return await self._turn(chat, kind, measured,
                                lambda: self.fake.user_sends(chat, text, first_name="代表"))

    async def press(self, chat: int, label_part: str | int, kind: str,
                    measured: bool) -> list[SentMessage]:
        message = self.fake.keyboard_message(chat)
        buttons = message.buttons if message is not None else []
        if isinstance(label_part, int):
            data = buttons[label_part][1] if label_part < len(buttons) else None
        else:
            data = next((d for label, d in buttons if label_part in label), None)
        if message is None or data is None:
            raise NoSuchButton(f"chat {chat}: no button {label_part!r} in {buttons}")
        message_id = message.message_id
        return await self._turn(chat, kind, measured,
                                lambda: self.fake.user_presses(chat, message_id, data))

    def has_button(self, chat: int, label_part: str) -> bool:
        message = self.fake.keyboard_message(chat)
        return message is not None and any(label_part in label for label, _ in message.buttons)
