"""WeCom (企业微信) channel: the callback endpoint and the rendering of replies.

WeCom drops a callback not answered within 5 s and retries it, so the endpoint verifies,
decrypts and parses, stores the message in the inbox (one insert), answers an empty 200, and
the coaching reply goes out through the API afterwards, from the outbox (coach/mailbox.py):
a process killed after the 200 handles the message and sends its replies when it starts
again. Retries of the same message (same MsgId, or same sender + time + key for events) are
stored once and handled once.

Anything that fails verification — signature, decryption, receive id, XML — gets a non-200
answer, is logged, and stores nothing.

One rep's callbacks are handled and answered one at a time, in arrival order: the replies to
a quick second tap never overtake the replies to the first.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.admin_log import delivery_failed, report_resumed
from bot.config import WecomConfig
from bot.server import WebhookServer, worker_name
from bot.textrender import as_plain_text, numbered_choices
from bot.wecom.client import MAX_BUTTONS, MediaKind, WecomClient, WecomError, WecomRejected
from bot.wecom.crypto import ADMIN_HINTS, WecomCryptoError, decode_aes_key, open_message
from bot.wecom.xmlmsg import WecomEvent, WecomXmlError, parse_envelope, parse_event
from coach.engine import Engine
from coach.handover import hand_over, take_left_for
from coach.mailbox import Mailbox, Pending, Received, StoredReply
from coach.messages import Incoming, Reply
from coach.ordering import KeyedLocks
from coach.turn.result import TurnResult

log = logging.getLogger(__name__)

#: A signed callback is accepted only this close to now: an old one captured and replayed
#: is refused even though its signature is right (WeCom retries within seconds).
MAX_CLOCK_SKEW = 15 * 60


def fresh(timestamp: str, now: float) -> bool:
    """Whether a callback's `timestamp` (seconds since the epoch) is within MAX_CLOCK_SKEW."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now) <= MAX_CLOCK_SKEW

CHANNEL = "wecom"
TITLE_LIMIT = 26  # WeCom shows at most this many characters of a card's main title
DESCRIPTION_LIMIT = 112  # ... and of its sub-title text
BUTTON_LABEL_LIMIT = 10  # ... and of a button
PRESSED_MARK = "✓"
ELLIPSIS = "…"
REMEMBERED_CARDS = 5000
REMEMBERED_REFUSALS = 1000
STOP_GRACE = 10.0  # seconds `stop` lets the turns in progress finish (throttled sends wait)
# What a member sends that is not text: the engine answers it like an empty message (a hint
# to type), rather than leaving the rep without any answer.
UNREADABLE_MESSAGES = frozenset({"image", "voice", "video", "file", "location", "link"})


def to_incoming(event: WecomEvent) -> Incoming | None:
    """The neutral form of a callback, or None for events a rep did not mean for us."""
    user, key = event.from_user, f"w{event.dedup_key}"[:128]
    sent = sent_at(event.create_time)
    if event.is_text:
        return Incoming(CHANNEL, user, text=event.content or "", message_id=key,
                        display_name=user, sent_at=sent)
    if event.is_card_click:
        return Incoming(CHANNEL, user, button=event.event_key or "", message_id=key,
                        display_name=user, sent_at=sent)
    if event.msg_type == "event" and event.event == "enter_agent":
        return Incoming(CHANNEL, user, opened=True, message_id=key, display_name=user,
                        sent_at=sent)
    if event.msg_type in UNREADABLE_MESSAGES:
        return Incoming(CHANNEL, user, text="", message_id=key, display_name=user,
                        sent_at=sent)
    return None


def sent_at(create_time: int) -> datetime | None:
    """A callback's CreateTime (seconds since the epoch) as naive UTC, the store's form;
    None when it cannot be a time."""
    try:
        return datetime.fromtimestamp(create_time, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when something was cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


class WecomChannel:
    """Receives WeCom callbacks and answers through the WeCom API."""

    name = CHANNEL

    def __init__(self, config: WecomConfig, engine: Engine, server: WebhookServer,
                 client: WecomClient | None = None, *, stop_grace: float = STOP_GRACE) -> None:
        missing = config.missing()
        if missing:
            raise ValueError(f"channels.wecom is missing: {', '.join(missing)}")
        decode_aes_key(config.encoding_aes_key)  # a bad key is a config error: fail at start
        self.config = config
        self.engine = engine
        self.client = client or WecomClient(config.corp_id, config.secret, config.agent_id,
                                            api_base_url=config.api_base_url)
        self._allowed = set(config.allow_users)  # UserIDs are case-sensitive: ALICE is not alice
        self._stop_grace = stop_grace
        self._stopping = False  # set by `stop`: no turn starts any more, rows are handed over
        self._tasks: set[asyncio.Task[None]] = set()
        self._members: KeyedLocks[str] = KeyedLocks()
        self._cards: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._refused: OrderedDict[str, None] = OrderedDict()
        self._task_numbers = itertools.count(1)
        self._task_prefix = secrets.token_hex(4)
        self.mailbox = Mailbox(engine, CHANNEL, worker_name(CHANNEL, config.port),
                              lease=timedelta(seconds=config.lease_seconds))
        server.app.router.add_get(config.path, self.on_verify)
        server.app.router.add_post(config.path, self.on_callback)

    async def start(self) -> None:
        """Before the first callback: finish what a crash left (its replies, then its
        messages), each rep's ahead of anything new from them."""
        log.info("wecom callback at %s", self.config.path)
        self._resume(await self.mailbox.take_pending(at_start=True), at_start=True)
        self.mailbox.start_renewing()

    async def recover(self) -> None:
        """Take up what a dead worker left once its lease ran out (the reminder loop calls
        this on each pass)."""
        self._resume(await self.mailbox.take_pending(at_start=False), at_start=False)

    def _resume(self, pending: Pending, *, at_start: bool) -> None:
        report_resumed(CHANNEL, pending, at_start=at_start, messages="messages")
        for user, replies, payloads in pending.by_user():
            self.mailbox.let_go_when_done(self._spawn(self._resume_user(user, replies, payloads)),
                                          pending.of(user))

    async def _resume_user(self, user: str, replies: list[StoredReply],
                           payloads: list[str]) -> None:
        try:
            async with self._members.hold(user):
                await self._finish_left(user, replies, payloads)
        except Exception as exc:
            delivery_failed(f"wecom member {user}: what was left", exc,
                            then="what is still left is tried again at a later pass")

    async def _finish_left(self, user: str, replies: list[StoredReply],
                           payloads: list[str]) -> None:
        """Send left replies, then run left messages, in order (holding the member's lock);
        once stopping, what is left stays in the inbox to be handed over."""
        if self._stopping:
            return
        await self._deliver(user, replies)
        for payload in payloads:
            if self._stopping:
                return
            event = parse_event(payload)
            incoming = to_incoming(event)
            if incoming is not None:
                await self._turn(event, incoming)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        """Start no more turns; let the turns in progress finish for a short grace, then
        cancel them; hand every message and reply still held to the other workers
        (coach/handover.py), which take them at their next pass. (A reply can wait up to a
        minute in the client's per-member throttle.)"""
        self._stopping = True
        try:
            await asyncio.wait_for(self.idle(), self._stop_grace)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.mailbox.stop_renewing()  # what is left is handed over, not kept
        await hand_over(self.mailbox, interval=self.config.reminder_interval)
        await self.client.close()

    async def idle(self) -> None:
        """Wait until every callback received so far has been handled and answered."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _is_allowed(self, user: str) -> bool:
        return not self._allowed or user in self._allowed

    # receiving ------------------------------------------------------------------------------
    def _open(self, request: web.Request, encrypted: str) -> str:
        query = request.query
        if not fresh(query.get("timestamp", ""), time.time()):
            raise WecomCryptoError("stale-timestamp")
        return open_message(
            token=self.config.token, encoding_aes_key=self.config.encoding_aes_key,
            receive_id=self.config.corp_id, msg_signature=query.get("msg_signature", ""),
            timestamp=query.get("timestamp", ""), nonce=query.get("nonce", ""),
            encrypted=encrypted,
        )

    async def on_verify(self, request: web.Request) -> web.Response:
        """URL verification: answer the decrypted echostr alone."""
        # base64 has no spaces: a '+' that reached us unescaped was decoded as one
        echostr = request.query.get("echostr", "").replace(" ", "+")
        try:
            plain = self._open(request, echostr)
        except WecomCryptoError as exc:
            log.warning("wecom URL check refused: %s: %s", exc.reason,
                        ADMIN_HINTS.get(exc.reason, "the request is not from WeCom"))
            return web.Response(status=403, text="verification failed")
        return web.Response(text=plain)

    async def on_callback(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
            envelope = parse_envelope(body)
            plain = self._open(request, envelope.encrypt)
            event = parse_event(plain)
        except WecomCryptoError as exc:
            log.warning("wecom callback refused: %s: %s", exc.reason,
                        ADMIN_HINTS.get(exc.reason, "the request is not from WeCom"))
            return web.Response(status=403, text="verification failed")
        except WecomXmlError as exc:
            log.warning("wecom callback malformed: %s", exc.reason)
            return web.Response(status=400, text="malformed body")
        except web.HTTPRequestEntityTooLarge:
            log.warning("wecom callback too large")
            return web.Response(status=413, text="body too large")
        except ConnectionError:  # WeCom gave up before the body arrived; it sends it again
            log.info("wecom callback: connection lost while reading the body")
            return web.Response(status=400, text="incomplete body")
        if event.to_user != self.config.corp_id:
            log.warning("wecom callback for another corp refused")
            return web.Response(status=403, text="wrong corp")
        if not self._is_allowed(event.from_user):
            self._spawn(self._guarded(event.from_user, lambda: self._refuse(event)))
            return web.Response(text="")
        incoming = to_incoming(event)
        if incoming is None:  # an event no rep meant for us: nothing to store
            return web.Response(text="")
        received = await self.mailbox.receive(event.from_user, str(incoming.message_id), plain)
        if received is Received.NEW:
            self._spawn(self._guarded(event.from_user, lambda: self._turn_new(event, incoming)))
        elif received is Received.UNSTORED:  # the turn says what became of it, even stopping
            self._spawn(self._guarded(event.from_user, lambda: self._turn(event, incoming),
                                      stopping_too=True))
        return web.Response(text="")

    async def _guarded(self, user: str, work: Callable[[], Coroutine[Any, Any, None]], *,
                       stopping_too: bool = False) -> None:
        """`work` in turn with everything else for `user`; a failure is logged, never
        raised into the event loop. The coroutine is made only once the member's turn has
        come, and not at all once stopping (its message stays in the inbox, handed over):
        one made and then cancelled while waiting would never be awaited."""
        try:
            async with self._members.hold(user):
                if stopping_too or not self._stopping:
                    await work()
        except WecomError as exc:
            log.error("wecom reply to %s failed: %s", user, exc)
        except Exception:
            log.exception("wecom callback processing failed")

    async def _turn_new(self, event: WecomEvent, incoming: Incoming) -> None:
        """A message just received: what another worker released or left for this member
        (older, coach/handover.py) goes first, then this one."""
        left = await take_left_for(self.mailbox, event.from_user)
        if left:
            log.info("wecom: taking over %d replies and %d messages of %s first",
                     len(left.replies), len(left.messages), event.from_user)
            for user, replies, payloads in left.by_user():
                await self._finish_left(user, replies, payloads)
        if not self._stopping:
            await self._turn(event, incoming)

    async def _turn(self, event: WecomEvent, incoming: Incoming) -> None:
        """Run a stored message's turn and send its replies (holding the member's lock)."""
        result, replies = await self.mailbox.handle(str(incoming.message_id), incoming)
        if event.is_card_click and event.response_code and result.replies:
            await self._mark_pressed(event, result)
        await self._deliver(event.from_user, replies)

    async def _refuse(self, event: WecomEvent) -> None:
        """A member outside `allow_users`: nothing is stored; one notice per message they
        send or per opening of the app (WeCom's retries of it get none)."""
        log.info("wecom user %s is not in allow_users", event.from_user)
        if not (event.is_text or event.event == "enter_agent"):
            return
        if event.dedup_key in self._refused:
            return
        self._refused[event.dedup_key] = None
        while len(self._refused) > REMEMBERED_REFUSALS:
            self._refused.popitem(last=False)
        locale = self.engine.settings.default_locale
        await self.client.send_text(event.from_user,
                                    self.engine.library.message("not_enrolled", locale))

    async def _mark_pressed(self, event: WecomEvent, result: TurnResult) -> None:
        """Grey out the pressed card, showing the choice (or ✓ if we no longer know it).
        A stale button's card, or one whose press could not be saved, is left as it was,
        to press again."""
        if not result.ok:
            return
        labels = self._cards.get(event.task_id or "", {})
        label = labels.get(event.event_key or "", PRESSED_MARK)
        try:
            await self.client.update_card_pressed([event.from_user], event.response_code or "",
                                                  shorten(label, BUTTON_LABEL_LIMIT))
        except WecomError as exc:
            log.info("could not update pressed card: %s", exc)

    # sending --------------------------------------------------------------------------------
    async def deliver(self, user_id: str, replies: list[Reply]) -> None:
        """Send replies kept nowhere, in turn with the rep's conversation."""
        await self.send_stored(user_id, [StoredReply(None, user_id, r) for r in replies])

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None:
        """Send outbox rows the engine produced on its own (reminders, coach/claims.py), in
        turn with the rep's conversation; each leaves the outbox once sent."""
        async with self._members.hold(user_id):
            await self._deliver(user_id, replies)

    async def _deliver(self, user_id: str, replies: Sequence[StoredReply]) -> None:
        """Send in order; each reply leaves the outbox once WeCom took it. A reply WeCom
        refuses outright (an unknown member, content it will not take) leaves it too:
        sending it again cannot help (a reminder waits for another try, `Mailbox.refused`).
        One that could not get through stays for later (`Mailbox.send_in_order`)."""
        async def send(stored: StoredReply) -> None:
            await self._send(user_id, stored)

        await self.mailbox.send_in_order(replies, send, WecomRejected)

    async def _send(self, user: str, stored: StoredReply) -> None:
        reply, again = stored.reply, stored.recovered
        text = reply.text
        if reply.attachment is not None:
            kind: MediaKind = "image" if reply.attachment.kind == "photo" else "file"
            if text == reply.attachment.filename:  # a bare attachment: no caption to show
                text = ""
            try:
                media_id = await self.client.upload_media(
                    kind, reply.attachment.filename, reply.attachment.data,
                    reply.attachment.mime_type)
                await self.client.send_media(user, "image" if kind == "image" else "file",
                                             media_id, drop_repeat=again)
            except WecomError as exc:  # the words still go; the rep is told what is missing
                log.warning("could not send %s to %s: %s", kind, user, exc)
                missing = self.engine.library.message(
                    "media_not_sent", self.engine.settings.default_locale)
                text = f"{text}\n{missing}".strip()
                reply = replace(reply, text=text)
        if reply.choices and len(reply.choices) <= MAX_BUTTONS:
            await self._send_card(user, reply, stored.tag, again)
        elif reply.choices:
            await self.client.send_text(user, as_plain_text(reply), drop_repeat=again)
        elif text.strip():
            await self.client.send_text(user, text, drop_repeat=again)

    async def _send_card(self, user: str, reply: Reply, tag: str, again: bool) -> None:
        """Choices as a button card. Long labels become numbered buttons under a numbered
        list; a question too long for the card goes first as text, the card then shows its
        first line."""
        short_labels = all(len(c.label) <= BUTTON_LABEL_LIMIT for c in reply.choices)
        question = reply.text.strip()
        listing = "" if short_labels else numbered_choices(reply)
        whole = f"{question}\n{listing}".strip()
        buttons = [(c.key, c.label if short_labels else str(n))
                   for n, c in enumerate(reply.choices, start=1)]
        if question and "\n" not in question and len(question) <= TITLE_LIMIT \
                and len(listing) <= DESCRIPTION_LIMIT:
            title, description = question, listing
        elif len(whole) <= DESCRIPTION_LIMIT:
            title, description = "", whole
        else:
            await self.client.send_text(user, whole, drop_repeat=again)
            title, description = shorten((question.splitlines() or [""])[0], TITLE_LIMIT), ""
        if not title and not description:
            title = ELLIPSIS
        # a stored reply's card keeps its task id when resent, so WeCom can drop the repeat
        task_id = f"rc{tag}" if tag else f"rc{self._task_prefix}{next(self._task_numbers)}"
        self._remember(task_id, {c.key: c.label for c in reply.choices})
        await self.client.send_button_card(user, title, description, buttons, task_id,
                                           drop_repeat=again)

    def _remember(self, task_id: str, labels: dict[str, str]) -> None:
        self._cards[task_id] = labels
        while len(self._cards) > REMEMBERED_CARDS:
            self._cards.popitem(last=False)
