"""Helpers for the WeCom end-to-end tests: the channel served on loopback against the WeCom
simulator, a rep who presses the buttons the bot really sent, and the rows the store holds."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from sqlalchemy import text

from bot.config import AppConfig, WecomConfig
from bot.server import WebhookServer
from bot.wecom.channel import WecomChannel
from bot.wecom.client import WecomClient
from coach.engine import Engine
from coach.settings import EngineSettings
from coach.store.database import Database
from testkit.fakes.wecom_sim import SentMessage, WecomSimulator

STORED_TABLES = ("reps", "identities", "conversations", "accounts", "notes", "followups",
                 "quiz_results", "processed_messages")
_NUMBERED = re.compile(r"^(\d+)\. (.*)$", re.MULTILINE)

Check = Callable[[list[SentMessage]], bool]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wecom_settings(*, auto_enroll: bool = True) -> EngineSettings:
    """What `repcoach run` gives the engine when the WeCom channel is enabled: most tests
    enroll members on first contact for brevity (`auto_enroll: true`); the default is off."""
    return AppConfig.model_validate({"channels": {"wecom": {
        "enabled": True, "auto_enroll": auto_enroll}},
        # these tests count what each reminder pass sends; tests/test_digest.py has digests
        "digest": {"enabled": False}}).engine_settings()


def wecom_config(sim: WecomSimulator, port: int, **overrides: Any) -> WecomConfig:
    values: dict[str, Any] = {
        "enabled": True, "corp_id": sim.corp_id, "agent_id": sim.agent_id,
        "secret": sim.secret, "token": sim.token, "encoding_aes_key": sim.encoding_aes_key,
        "api_base_url": sim.api_base_url, "listen": "127.0.0.1", "port": port,
        "path": "/wecom/callback",
    }
    values.update(overrides)
    return WecomConfig.model_validate(values)


class SlowDown:
    """Server middleware: the next callbacks are received in full, then wait `delays` seconds
    before the channel sees them, as on an overloaded host. Counts the callbacks that reached
    the channel's handler, also those WeCom had stopped waiting for."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.handled = 0
        self._in_flight = 0

    def middleware(self) -> Middleware:
        @web.middleware
        async def slow_down(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.method != "POST":
                return await handler(request)
            self._in_flight += 1
            try:
                if self.delays:
                    await request.read()
                    await asyncio.sleep(self.delays.pop(0))
                response = await handler(request)
                self.handled += 1
                return response
            finally:
                self._in_flight -= 1

        return slow_down

    async def drained(self) -> None:
        """Wait until no callback is still on its way to the channel."""
        while self._in_flight:
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running_channel(engine: Engine, sim: WecomSimulator, *, slow: SlowDown | None = None,
                          client_options: dict[str, Any] | None = None,
                          stop_grace: float = 10.0,
                          **overrides: Any) -> AsyncIterator[WecomChannel]:
    """The real channel and webhook server on a free loopback port, the simulator pointed at
    it. The client retries fast so injected WeCom errors cost milliseconds; `overrides` are
    `channels.wecom` settings."""
    port = free_port()
    config = wecom_config(sim, port, **overrides)
    server = WebhookServer()
    if slow is not None:
        server.app.middlewares.append(slow.middleware())
    options: dict[str, Any] = {"retry_base_delay": 0.01, "retry_max_delay": 0.05,
                               "request_timeout": 5.0, **(client_options or {})}
    client = WecomClient(config.corp_id, config.secret, config.agent_id,
                         api_base_url=config.api_base_url, **options)
    channel = WecomChannel(config, engine, server, client=client, stop_grace=stop_grace)
    await channel.start()
    await server.start([(config.listen, port)])
    sim.callback_url = f"http://127.0.0.1:{port}{config.path}"
    try:
        yield channel
    finally:
        await server.stop()
        await channel.stop()


def count(database: Database, table: str, where: str = "", **params: Any) -> int:
    assert table in STORED_TABLES or table in ("stage_history", "suggestions")
    sql = f"SELECT COUNT(*) FROM {table}" + (f" WHERE {where}" if where else "")
    with database.transaction() as session:
        return int(session.execute(text(sql), params).scalar_one())


def rows(database: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with database.transaction() as session:
        return [tuple(r) for r in session.execute(text(sql), params).all()]


# what the rep sees ------------------------------------------------------------------------
def buttons(message: SentMessage) -> list[tuple[str, str]]:
    """(key, text) of a card's buttons, in order."""
    card = message.template_card or {}
    return [(str(b["key"]), str(b["text"])) for b in card.get("button_list", [])]


def card_text(message: SentMessage) -> str:
    card = message.template_card or {}
    title = (card.get("main_title") or {}).get("title") or ""
    return f"{title}\n{card.get('sub_title_text') or ''}".strip()


def shown(message: SentMessage) -> str:
    """What the member reads in one message: its text, or a card's title and sub-title."""
    if message.msgtype == "template_card":
        return card_text(message)
    return message.content or f"[{message.msgtype}]"


def numbered(text_: str) -> dict[int, str]:
    """The numbered list in a text: {1: label, ...}."""
    return {int(n): label for n, label in _NUMBERED.findall(text_)}


def number_of(listing: dict[int, str], label: str) -> str:
    """The number to type for the entry of a numbered list whose label contains `label`."""
    found = [n for n, text_ in listing.items() if label in text_]
    assert found, f"no {label!r} in {listing}"
    return str(found[0])


def has_card(messages: list[SentMessage]) -> bool:
    return any(m.msgtype == "template_card" for m in messages)


class Rep:
    """One member using the app through the simulator.

    With `channel` (in-process) each action waits until the channel answered everything;
    without (a separate process) it waits until `until` holds for the messages that arrived
    since the action, by default until one arrived.
    """

    def __init__(self, sim: WecomSimulator, user: str, channel: WecomChannel | None = None,
                 timeout: float = 10.0) -> None:
        self.sim = sim
        self.user = user
        self.channel = channel
        self.timeout = timeout
        self.read = 0
        self._event_time = 0

    @property
    def inbox(self) -> list[SentMessage]:
        return self.sim.messages_to(self.user)

    async def settle(self, until: Check | None = None) -> list[SentMessage]:
        """The messages that arrived since the last call, once the bot is done answering."""
        if self.channel is not None:
            await self.channel.idle()
        else:
            check = until or bool
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            while not check(self.inbox[self.read:]):
                if loop.time() > deadline:
                    got = [shown(m) for m in self.inbox[self.read:]]
                    raise AssertionError(f"{self.user}: no expected reply; got {got}")
                await asyncio.sleep(0.02)
        new = self.inbox[self.read:]
        self.read = len(self.inbox)
        return new

    def event_time(self) -> int:
        """A CreateTime for the next event. WeCom identifies a retried event by sender,
        second and key, so a rep opening the app twice in one second opened it once; a
        script is faster than a rep, and gives each of its events a second of its own."""
        self._event_time = max(int(time.time()), self._event_time + 1)
        return self._event_time

    async def open(self, until: Check | None = None) -> list[SentMessage]:
        assert await self.sim.enter_agent(self.user, create_time=self.event_time()) == 200
        return await self.settle(until)

    async def say(self, content: str, until: Check | None = None,
                  **kwargs: Any) -> list[SentMessage]:
        assert await self.sim.send_text(self.user, content, **kwargs) == 200
        return await self.settle(until)

    def last_card(self) -> SentMessage:
        for message in reversed(self.inbox):
            if message.msgtype == "template_card":
                return message
        raise AssertionError(f"{self.user} has no card; got {[shown(m) for m in self.inbox]}")

    def label_of(self, card: SentMessage, button_text: str) -> str:
        """The choice a button stands for: its text, or for a numbered button the label the
        numbered list (in the card, or the text sent just before it) gives that number."""
        if not button_text.isdigit():
            return button_text
        index = self.inbox.index(card)
        for message in (card, *reversed(self.inbox[:index])):
            listing = numbered(shown(message))
            if listing:
                return listing[int(button_text)]
        raise AssertionError(f"no numbered list for button {button_text}")

    def find_button(self, label: str, card: SentMessage | None = None) -> tuple[str, str]:
        """(key, task_id) of the button whose choice contains `label` on the newest card."""
        card = card or self.last_card()
        task_id = str((card.template_card or {})["task_id"])
        for key, button_text in buttons(card):
            if label in self.label_of(card, button_text):
                return key, task_id
        offered = [self.label_of(card, t) for _, t in buttons(card)]
        raise AssertionError(f"no button {label!r} on the card; offered {offered}")

    async def press(self, label: str, card: SentMessage | None = None,
                    until: Check | None = None, **kwargs: Any) -> list[SentMessage]:
        key, task_id = self.find_button(label, card)
        kwargs.setdefault("create_time", self.event_time())
        assert await self.sim.press_button(self.user, key, task_id, **kwargs) == 200
        return await self.settle(until)

    async def press_nth(self, index: int, card: SentMessage | None = None,
                        until: Check | None = None) -> list[SentMessage]:
        card = card or self.last_card()
        key, _ = buttons(card)[index]
        task_id = str((card.template_card or {})["task_id"])
        assert await self.sim.press_button(self.user, key, task_id,
                                           create_time=self.event_time()) == 200
        return await self.settle(until)


def joined(messages: list[SentMessage]) -> str:
    return "\n".join(shown(m) for m in messages)
