"""WeCom (企业微信) channel: the callback endpoint and the rendering of replies.

WeCom drops a callback not answered within 5 s and retries it, so the endpoint verifies,
decrypts and parses, answers an empty 200 at once, and the coaching reply goes out through
the API afterwards. Retries of the same message (same MsgId, or same sender + time + key for
events) reach the engine with the same message id and are handled once.

Anything that fails verification — signature, decryption, receive id, XML — gets a non-200
answer, is logged, and stores nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict
from collections.abc import Sequence

from aiohttp import web

from bot.config import WecomConfig
from bot.server import WebhookServer
from bot.textrender import as_plain_text
from bot.wecom.client import MAX_BUTTONS, MediaKind, WecomClient, WecomError
from bot.wecom.crypto import WecomCryptoError, decode_aes_key, open_message
from bot.wecom.xmlmsg import WecomEvent, WecomXmlError, parse_envelope, parse_event
from coach.engine import Engine
from coach.messages import Incoming, Reply

log = logging.getLogger(__name__)

CHANNEL = "wecom"
TITLE_LIMIT = 26  # WeCom shows at most this many characters of a card's main title
DESCRIPTION_LIMIT = 112  # ... and of its sub-title text
BUTTON_LABEL_LIMIT = 10  # ... and of a button
PRESSED_MARK = "✓"
REMEMBERED_CARDS = 5000


def to_incoming(event: WecomEvent) -> Incoming | None:
    """The neutral form of a callback, or None for events a rep did not mean for us."""
    user, key = event.from_user, f"w{event.dedup_key}"[:128]
    if event.is_text:
        return Incoming(CHANNEL, user, text=event.content or "", message_id=key,
                        display_name=user)
    if event.is_card_click:
        return Incoming(CHANNEL, user, button=event.event_key or "", message_id=key,
                        display_name=user)
    if event.msg_type == "event" and event.event == "enter_agent":
        return Incoming(CHANNEL, user, opened=True, message_id=key, display_name=user)
    return None


class WecomChannel:
    """Receives WeCom callbacks and answers through the WeCom API."""

    name = CHANNEL

    def __init__(self, config: WecomConfig, engine: Engine, server: WebhookServer,
                 client: WecomClient | None = None) -> None:
        missing = [k for k in ("corp_id", "secret", "token", "encoding_aes_key")
                   if not getattr(config, k)]
        if missing or not config.agent_id:
            names = ", ".join(missing + ([] if config.agent_id else ["agent_id"]))
            raise ValueError(f"channels.wecom is missing: {names}")
        decode_aes_key(config.encoding_aes_key)  # a bad key is a config error: fail at start
        self.config = config
        self.engine = engine
        self.client = client or WecomClient(config.corp_id, config.secret, config.agent_id,
                                            api_base_url=config.api_base_url)
        self._tasks: set[asyncio.Task[None]] = set()
        self._cards: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._task_numbers = itertools.count(1)
        self._task_prefix = secrets.token_hex(4)
        server.app.router.add_get(config.path, self.on_verify)
        server.app.router.add_post(config.path, self.on_callback)

    async def start(self) -> None:
        log.info("wecom callback at %s", self.config.path)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    # receiving ------------------------------------------------------------------------------
    def _open(self, request: web.Request, encrypted: str) -> str:
        query = request.query
        return open_message(
            token=self.config.token, encoding_aes_key=self.config.encoding_aes_key,
            receive_id=self.config.corp_id, msg_signature=query.get("msg_signature", ""),
            timestamp=query.get("timestamp", ""), nonce=query.get("nonce", ""),
            encrypted=encrypted,
        )

    async def on_verify(self, request: web.Request) -> web.Response:
        """URL verification: answer the decrypted echostr alone."""
        try:
            plain = self._open(request, request.query.get("echostr", ""))
        except WecomCryptoError as exc:
            log.warning("wecom URL check refused: %s", exc.reason)
            return web.Response(status=403, text="verification failed")
        return web.Response(text=plain)

    async def on_callback(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
            envelope = parse_envelope(body)
            event = parse_event(self._open(request, envelope.encrypt))
        except WecomCryptoError as exc:
            log.warning("wecom callback refused: %s", exc.reason)
            return web.Response(status=403, text="verification failed")
        except WecomXmlError as exc:
            log.warning("wecom callback malformed: %s", exc.reason)
            return web.Response(status=400, text="malformed body")
        except web.HTTPRequestEntityTooLarge:
            log.warning("wecom callback too large")
            return web.Response(status=413, text="body too large")
        if event.to_user != self.config.corp_id:
            log.warning("wecom callback for another corp refused")
            return web.Response(status=403, text="wrong corp")
        task = asyncio.create_task(self._process(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="")

    async def _process(self, event: WecomEvent) -> None:
        try:
            if self.config.allow_users and event.from_user not in self.config.allow_users:
                locale = self.engine.settings.default_locale
                await self.client.send_text(
                    event.from_user, self.engine.library.message("not_enrolled", locale)
                )
                return
            incoming = to_incoming(event)
            if incoming is None:
                return
            replies = await self.engine.handle(incoming)
            if event.is_card_click and event.response_code:
                await self._mark_pressed(event, replies)
            await self.deliver(event.from_user, list(replies))
        except WecomError as exc:
            log.error("wecom reply to %s failed: %s", event.from_user, exc)
        except Exception:
            log.exception("wecom callback processing failed")

    async def _mark_pressed(self, event: WecomEvent, replies: Sequence[Reply]) -> None:
        """Grey out the pressed card, showing the choice (or ✓ if we no longer know it)."""
        if any(r.toast for r in replies):
            return
        labels = self._cards.get(event.task_id or "", {})
        label = labels.get(event.event_key or "", PRESSED_MARK)
        try:
            await self.client.update_card_pressed([event.from_user], event.response_code or "",
                                                  label[:BUTTON_LABEL_LIMIT])
        except WecomError as exc:
            log.info("could not update pressed card: %s", exc)

    # sending --------------------------------------------------------------------------------
    async def deliver(self, user_id: str, replies: list[Reply]) -> None:
        for reply in replies:
            await self._send(user_id, reply)

    async def _send(self, user: str, reply: Reply) -> None:
        if reply.attachment is not None:
            kind: MediaKind = "image" if reply.attachment.kind == "photo" else "file"
            media_id = await self.client.upload_media(
                kind, reply.attachment.filename, reply.attachment.data,
                reply.attachment.mime_type)
            if kind == "image":
                await self.client.send_image(user, media_id)
            else:
                await self.client.send_file(user, media_id)
        if reply.choices and len(reply.choices) <= MAX_BUTTONS:
            await self._send_card(user, reply)
        elif reply.text or reply.choices:
            await self.client.send_text(user, as_plain_text(reply))

    async def _send_card(self, user: str, reply: Reply) -> None:
        """Choices as a button card. Long labels become numbered buttons under a numbered
        list; a long question goes first as text, since a card shows only a short one."""
        short_labels = all(len(c.label) <= BUTTON_LABEL_LIMIT for c in reply.choices)
        body = reply.text if short_labels else as_plain_text(reply)
        buttons = [(c.key, c.label if short_labels else str(n))
                   for n, c in enumerate(reply.choices, start=1)]
        title, description = "", ""
        if len(body) <= TITLE_LIMIT and "\n" not in body:
            title = body
        elif len(body) <= DESCRIPTION_LIMIT:
            description = body
        else:
            await self.client.send_text(user, body)
            title = (reply.text.strip().splitlines() or [PRESSED_MARK])[0][:TITLE_LIMIT]
        task_id = f"rc{self._task_prefix}{next(self._task_numbers)}"
        self._remember(task_id, {key: reply.choices[i].label
                                 for i, (key, _) in enumerate(buttons)})
        await self.client.send_button_card(user, title, description, buttons, task_id)

    def _remember(self, task_id: str, labels: dict[str, str]) -> None:
        self._cards[task_id] = labels
        while len(self._cards) > REMEMBERED_CARDS:
            self._cards.popitem(last=False)
