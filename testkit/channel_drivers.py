"""One rep, four ways in: the same conversation script played through the engine directly,
the console channel, the real Telegram adapter (against the loopback Bot API fake) and the
real WeCom channel (against the WeCom simulator).

Each driver types and presses as a person on that channel would: the console answers by the
number of the numbered list it printed, Telegram presses inline buttons, WeCom presses card
buttons (or types the number when more than six choices came as a numbered list). What the
person sees comes back as `Seen`: the text and the choice labels, whatever the platform.
"""

from __future__ import annotations

import io
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.console import ConsoleChannel
from bot.wecom.channel import WecomChannel
from coach.engine import Engine
from coach.messages import Reply
from coach.testing import MemoryChat
from testkit.fakes.telegram_api import FakeTelegram, SentMessage
from testkit.fakes.wecom_sim import SentMessage as WecomMessage
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.telegram_support import TOKEN, Person, TrackedChannel, running_bot
from testkit.wecom_support import Rep, buttons, numbered, running_channel, shown

__all__ = ["CHANNELS", "Driver", "Seen", "driver_for"]

CHANNELS = ("memory", "console", "telegram", "wecom")
_NUMBERED = re.compile(r"^(\d+)\. (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Seen:
    text: str
    labels: list[str] = field(default_factory=list)


class Driver(Protocol):
    channel: str
    user_id: str

    async def start(self, engine: Engine) -> None: ...

    async def say(self, text: str) -> Seen: ...

    async def press(self, label_part: str) -> Seen: ...

    async def press_nth(self, index: int) -> Seen: ...

    async def push(self, replies: list[Reply]) -> Seen: ...

    async def restart(self, engine: Engine) -> None: ...

    async def close(self) -> None: ...


def _seen(replies: list[Reply]) -> Seen:
    return Seen(MemoryChat.text(replies), [c.label for r in replies for c in r.choices])


class MemoryDriver:
    channel = "memory"

    def __init__(self, user_id: str = "rep-1") -> None:
        self.user_id = user_id
        self.chat: MemoryChat | None = None

    async def start(self, engine: Engine) -> None:
        self.chat = MemoryChat(engine, user_id=self.user_id)

    def _chat(self) -> MemoryChat:
        assert self.chat is not None
        return self.chat

    async def say(self, text: str) -> Seen:
        return _seen(self._chat().say(text))

    async def press(self, label_part: str) -> Seen:
        return _seen(self._chat().press(label_part))

    async def press_nth(self, index: int) -> Seen:
        return _seen(self._chat().press_nth(index))

    async def push(self, replies: list[Reply]) -> Seen:
        self._chat().transcript.extend(replies)
        return _seen(replies)

    async def restart(self, engine: Engine) -> None:
        self.chat = MemoryChat(engine, user_id=self.user_id,
                               transcript=list(self._chat().transcript))

    async def close(self) -> None:
        return None


class ConsoleDriver:
    """The terminal channel: replies printed as text, choices as a numbered list; the
    person answers a choice by typing its number."""

    channel = "console"

    def __init__(self, files: Path, user_id: str = "rep-1") -> None:
        self.user_id = user_id
        self.files = files
        self.out = io.StringIO()
        self.console: ConsoleChannel | None = None
        self.listing: dict[int, str] = {}

    async def start(self, engine: Engine) -> None:
        self.console = ConsoleChannel(engine, user=self.user_id, files_dir=self.files,
                                      stdout=self.out)

    def _show(self, replies: list[Reply]) -> Seen:
        assert self.console is not None
        before = len(self.out.getvalue())
        self.console.show(replies)
        printed = self.out.getvalue()[before:]
        lists = [numbered_list for numbered_list in _lists(printed) if numbered_list]
        if lists:
            self.listing = lists[-1]
        elif any(not r.toast for r in replies):
            self.listing = {}
        return Seen(printed, [label for found in lists for label in found.values()])

    async def say(self, text: str) -> Seen:
        assert self.console is not None
        return self._show(self.console.send(text))

    async def press(self, label_part: str) -> Seen:
        found = [n for n, label in self.listing.items() if label_part in label]
        if not found:
            raise AssertionError(f"no numbered choice with {label_part!r}: {self.listing}")
        return await self.say(str(found[0]))  # the first match, as on every channel

    async def press_nth(self, index: int) -> Seen:
        return await self.say(str(index + 1))

    async def push(self, replies: list[Reply]) -> Seen:
        return self._show(replies)

    async def restart(self, engine: Engine) -> None:
        listing = self.listing
        await self.start(engine)
        self.listing = listing

    async def close(self) -> None:
        return None


def _lists(printed: str) -> list[dict[int, str]]:
    """The numbered lists in printed replies (each reply is followed by a blank line)."""
    return [{int(n): label for n, label in _NUMBERED.findall(block)}
            for block in printed.split("\n\n")]


class TelegramDriver:
    """The real Telegram adapter against the fake Bot API; the rep enrolls with a code."""

    channel = "telegram"
    numeric_id = 4242

    def __init__(self) -> None:
        self.user_id = str(self.numeric_id)
        self.fake: FakeTelegram | None = None
        self.running: AbstractAsyncContextManager[TrackedChannel] | None = None
        self.bot: TrackedChannel | None = None
        self.person: Person | None = None

    async def start(self, engine: Engine) -> None:
        self.fake = FakeTelegram(token=TOKEN)
        await self.fake.start()
        await self._run(engine)
        code = engine.enroll("测试代表")
        assert self.person is not None
        await self.person.say(f"/start {code}")

    async def _run(self, engine: Engine) -> None:
        assert self.fake is not None
        self.running = running_bot(self.fake, engine)
        self.bot = await self.running.__aenter__()
        self.person = Person(self.fake, self.bot, self.numeric_id, "测试代表", "zh-hans")

    @staticmethod
    def _seen(messages: list[SentMessage], notice: str | None = None) -> Seen:
        texts = [m.text for m in messages] + ([notice] if notice else [])
        return Seen("\n".join(texts), [label for m in messages for label, _ in m.buttons])

    async def say(self, text: str) -> Seen:
        assert self.person is not None
        return self._seen(await self.person.say(text, expect=0))

    async def press(self, label_part: str) -> Seen:
        assert self.person is not None
        pressed = await self.person.press(label_part, expect=0)
        return self._seen(pressed.new, pressed.notice)

    async def press_nth(self, index: int) -> Seen:
        assert self.person is not None
        pressed = await self.person.press_nth(index, expect=0)
        return self._seen(pressed.new, pressed.notice)

    async def push(self, replies: list[Reply]) -> Seen:
        assert self.bot is not None and self.person is not None
        before = len(self.person.messages())
        await self.bot.deliver(self.user_id, replies)
        return self._seen(self.person.messages()[before:])

    async def restart(self, engine: Engine) -> None:
        assert self.running is not None
        await self.running.__aexit__(None, None, None)
        await self._run(engine)

    async def close(self) -> None:
        if self.running is not None:
            await self.running.__aexit__(None, None, None)
        if self.fake is not None:
            await self.fake.close()


class WecomDriver:
    """The real WeCom channel against the simulator; the rep enrolls with a code. Up to six
    choices come as a button card; more as a numbered list answered by number."""

    channel = "wecom"

    def __init__(self) -> None:
        self.user_id = "test-rep"
        self.sim: WecomSimulator | None = None
        self.running: AbstractAsyncContextManager[WecomChannel] | None = None
        self.wecom: WecomChannel | None = None
        self.rep: Rep | None = None
        self.last: list[WecomMessage] = []

    async def start(self, engine: Engine) -> None:
        self.sim = WecomSimulator()
        await self.sim.start()
        await self._run(engine)
        code = engine.enroll("测试代表")
        assert self.rep is not None
        await self.rep.say(f"/start {code}")

    async def _run(self, engine: Engine) -> None:
        assert self.sim is not None
        # WeCom allows a member about 30 messages a minute; a script is faster than a rep
        self.running = running_channel(engine, self.sim,
                                       client_options={"per_user_window": 0.2})
        self.wecom = await self.running.__aenter__()
        read = self.rep.read if self.rep is not None else 0
        self.rep = Rep(self.sim, self.user_id, self.wecom)
        self.rep.read = read

    def _seen(self, messages: list[WecomMessage]) -> Seen:
        assert self.rep is not None
        if messages:
            self.last = messages
        labels: list[str] = []
        for message in messages:
            if message.msgtype == "template_card":
                labels += [self.rep.label_of(message, text) for _, text in buttons(message)]
            else:
                labels += list(numbered(shown(message)).values())
        return Seen("\n".join(shown(m) for m in messages), labels)

    async def say(self, text: str) -> Seen:
        assert self.rep is not None
        return self._seen(await self.rep.say(text))

    def _choices(self) -> tuple[WecomMessage, dict[int, str]]:
        """The newest message offering choices: a card, or a numbered text list."""
        assert self.rep is not None
        for message in reversed(self.rep.inbox):
            if message.msgtype == "template_card" and buttons(message):
                return message, {}
            listing = numbered(shown(message))
            if listing:
                return message, listing
        raise AssertionError("no choices offered on WeCom")

    async def press(self, label_part: str) -> Seen:
        assert self.rep is not None
        message, listing = self._choices()
        if listing:
            found = [n for n, label in listing.items() if label_part in label]
            assert found, f"no numbered choice with {label_part!r}: {listing}"
            return await self.say(str(found[0]))
        return self._seen(await self.rep.press(label_part, message))

    async def press_nth(self, index: int) -> Seen:
        assert self.rep is not None
        message, listing = self._choices()
        if listing:
            return await self.say(str(index + 1))
        return self._seen(await self.rep.press_nth(index, message))

    async def push(self, replies: list[Reply]) -> Seen:
        assert self.wecom is not None and self.rep is not None
        await self.wecom.deliver(self.user_id, replies)
        return self._seen(await self.rep.settle())

    async def restart(self, engine: Engine) -> None:
        assert self.running is not None
        await self.running.__aexit__(None, None, None)
        await self._run(engine)

    async def close(self) -> None:
        if self.running is not None:
            await self.running.__aexit__(None, None, None)
        if self.sim is not None:
            await self.sim.close()


def driver_for(channel: str, files: Path) -> Any:
    drivers = {"memory": MemoryDriver, "telegram": TelegramDriver, "wecom": WecomDriver}
    if channel == "console":
        return ConsoleDriver(files)
    return drivers[channel]()
