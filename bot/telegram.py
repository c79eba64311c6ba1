"""Telegram channel: python-telegram-bot as transport only.

One path for every update: update -> `Incoming` -> `engine.handle` -> replies rendered as
Telegram messages. No ConversationHandler and no persistence: where a rep is in a playbook
lives in the store. Button presses always get answerCallbackQuery; an accepted press edits
the question to show the choice and removes its keyboard, a refused one gets a short notice
and changes nothing.

One rep's updates are handled one at a time, in arrival order, from the engine turn to the
last message sent, so their replies never interleave; different reps run concurrently.

Nothing confirmed to Telegram is lost with the process: every update is stored in the inbox
before it is queued (`InboxQueue`), and PTB confirms an update's offset only with its next
`getUpdates`, which comes after that; a webhook update is stored before the HTTP 200. Replies
go through the outbox (coach/mailbox.py), and a restart finishes what a crash left.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.admin_log import delivery_failed, report_resumed
from bot.config import ConfigError, TelegramConfig
from bot.server import WebhookServer, worker_name
from bot.splitting import split_text
from coach.engine import Engine
from coach.handover import hand_over, take_left_for
from coach.mailbox import Mailbox, Pending, Received, StoredReply
from coach.messages import Incoming, Reply
from coach.ordering import KeyedLocks

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOAST_LIMIT = 200
CALLBACK_DATA_LIMIT = 64
ALLOWED_UPDATES = ("message", "callback_query")
MENU_LANGUAGES = ("zh", "en")
PRESSED_MARK = "\n\n→ "
STOP_GRACE = 10.0  # seconds `stop` lets the turns in progress finish before cancelling them


def telegram_len(text: str) -> int:
    """Length as Telegram limits it: visible characters after the HTML is parsed, counted in
    UTF-16 code units (never less than the number of characters, so always safe)."""
    return len(text.encode("utf-16-le")) // 2


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _private_chat_id(update: Update) -> int | None:
    """The presser's or sender's private chat with the bot, or None when the update comes
    from anywhere else (a group, another person's chat, an inline message)."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    if update.callback_query is not None:
        message = update.callback_query.message
        chat = message.chat if message is not None else None
    else:
        chat = update.message.chat if update.message is not None else None
    if chat is None or chat.type != "private" or chat.id != user.id:
        return None
    return chat.id


def to_incoming(update: Update) -> Incoming | None:
    """The neutral form of an update, or None for updates a rep cannot have meant for us:
    edits, groups, channels, other bots, and buttons pressed outside the presser's own chat."""
    user = update.effective_user
    if user is None or _private_chat_id(update) is None:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": str(user.id),
        "message_id": f"u{update.update_id}",
        "display_name": user.full_name or str(user.id),
        "locale_hint": user.language_code,
    }
    if update.callback_query is not None:  # the press's time is not sent; its key says
        return Incoming(button=update.callback_query.data or "", **common)  # which question
    message = update.message
    if message is None:
        return None
    sent = message.date.astimezone(UTC).replace(tzinfo=None) if message.date else None
    return Incoming(text=message.text or message.caption or "", sent_at=sent, **common)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row: labels are sentences, and thumbs need wide targets.

    Keys are a few bytes ("12.3", "r5.l") whatever the label says; a key over Telegram's
    64-byte limit would make the whole message fail, so such a button is left out (and
    logged) rather than losing the question.
    """
    rows = []
    for choice in reply.choices:
        if not 1 <= len(choice.key.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            log.error("button %r left out: callback data must be 1-64 bytes", choice.label)
            continue
        rows.append([InlineKeyboardButton(choice.label.strip() or "…",
                                          callback_data=choice.key)])
    return InlineKeyboardMarkup(rows) if rows else None


def offered(message: Message, data: str) -> str | None:
    """The label of the button with `data` on the message as the rep saw it, or None."""
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


class InboxQueue(asyncio.Queue[object]):
    """PTB's update queue, storing each update a rep sent us before it is queued.

    PTB's Updater awaits `put` for every update of a batch before its next `getUpdates`,
    and only that call confirms the batch to Telegram: a confirmed update is a stored one.
    An update stored by an earlier delivery is not queued again (it is being handled, or
    will be after a restart)."""

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.unstored: set[str] = set()  # keys of updates queued though the store refused them

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            incoming = to_incoming(item)
            if incoming is not None:
                received = await self.mailbox.receive(incoming.user_id,
                                                      str(incoming.message_id), item.to_json())
                if received is Received.KNOWN:
                    return
                if received is Received.UNSTORED:
                    self.unstored.add(str(incoming.message_id))
        await super().put(item)


def _start_problem(exc: TelegramError, config: TelegramConfig) -> str:
    """Why Telegram could not be reached at start, and what to check."""
    if isinstance(exc, InvalidToken):
        return ("channels.telegram.token: Telegram refused this token; copy it again from "
                "@BotFather (TELEGRAM_BOT_TOKEN)")
    where = config.base_url or "api.telegram.org"
    return (f"cannot reach Telegram at {where}: {exc.message}; check the network, a proxy, "
            "or channels.telegram.base_url")


class TelegramChannel:
    """Builds the PTB application and renders engine replies in Telegram's idiom."""

    name = CHANNEL

    def __init__(self, config: TelegramConfig, engine: Engine,
                 server: WebhookServer | None = None, *, stop_grace: float = STOP_GRACE) -> None:
        if not config.token:
            raise ValueError("channels.telegram.token is empty: set TELEGRAM_BOT_TOKEN")
        if config.mode == "webhook" and not config.secret_token:
            raise ValueError("channels.telegram.secret_token is required in webhook mode"
                             + ("" if config.public_url else
                                "; and channels.telegram.public_url is not set, so no webhook "
                                "will be registered (set it, or register one by hand)"))
        if config.mode == "webhook" and not config.public_url:
            log.warning("telegram webhook mode without channels.telegram.public_url: no webhook "
                        "is registered at start; Telegram sends updates only to one set "
                        "elsewhere (another worker's, or by hand)")
        if config.mode == "webhook" and server is None:
            raise ValueError("webhook mode needs the webhook server")
        self.config = config
        self.engine = engine
        self._chats: KeyedLocks[int] = KeyedLocks()
        self._resuming: set[asyncio.Task[None]] = set()
        self._handling: set[asyncio.Task[Any]] = set()  # updates being handled now
        self._stop_grace = stop_grace
        self._stopping = False  # set by `stop`: no turn starts any more, rows are handed over
        where = config.port if config.mode == "webhook" else "polling"
        self.mailbox = Mailbox(engine, CHANNEL, worker_name(CHANNEL, where),
                              lease=timedelta(seconds=config.lease_seconds))
        self._queue = InboxQueue(self.mailbox)
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(config.token)
            .update_queue(self._queue)
            .rate_limiter(AIORateLimiter(max_retries=5))
            .concurrent_updates(True)
        )
        if config.base_url:
            builder = builder.base_url(config.base_url)
        if config.mode == "webhook":
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self.on_update))
        self.application.add_error_handler(self.on_error)
        if server is not None and config.mode == "webhook":
            server.app.router.add_post(config.path, self.on_webhook)

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self.application.initialize()
            await self.set_command_menu()
            self._resume(await self.mailbox.take_pending(at_start=True), at_start=True)
            self.mailbox.start_renewing()
            await self.application.start()
            if self.config.mode == "polling" and self.application.updater is not None:
                await self.application.updater.start_polling(
                    poll_interval=0.0, timeout=self.config.poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False,
                )
            elif self.config.mode == "webhook" and self.config.public_url:
                await self.application.bot.set_webhook(
                    url=self.config.public_url.rstrip("/") + self.config.path,
                    secret_token=self.config.secret_token,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
        except (InvalidToken, NetworkError) as exc:  # an admin's to fix: one line at start
            await self.stop()
            raise ConfigError(_start_problem(exc, self.config)) from exc
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop fetching and start no more turns; let the turns in progress finish for a
        short grace, then cancel them; hand every update and reply still held to the other
        workers (coach/handover.py), which take them at their next pass; close."""
        self._stopping = True
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        busy = self._resuming | self._handling
        if busy:
            _done, late = await asyncio.wait(busy, timeout=self._stop_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self.application.running:
            await self.application.stop()  # updates still queued: skipped, handed over
        await self.mailbox.stop_renewing()  # what is left is handed over, not kept
        await hand_over(self.mailbox, interval=self.config.reminder_interval)
        await self.application.shutdown()

    async def recover(self) -> None:
        """Take up what a dead worker left once its lease ran out (each reminder pass)."""
        self._resume(await self.mailbox.take_pending(at_start=False), at_start=False)

    def _resume(self, pending: Pending, *, at_start: bool) -> None:
        """Finish what a crash left, each chat's replies first, then its updates, ahead of
        anything new from that chat (the tasks queue on the chat locks before polling or
        the webhook starts)."""
        report_resumed(CHANNEL, pending, at_start=at_start, messages="updates")
        for user, replies, updates in pending.by_user():
            task = asyncio.create_task(self._resume_chat(int(user), replies, updates))
            self.mailbox.let_go_when_done(task, pending.of(user))
            self._resuming.add(task)
            task.add_done_callback(self._resuming.discard)

    async def _resume_chat(self, chat_id: int, replies: list[StoredReply],
                           updates: list[str]) -> None:
        try:
            async with self._chats.hold(chat_id):
                await self._finish_left(chat_id, replies, updates)
        except Exception as exc:
            delivery_failed(f"telegram chat {chat_id}: what was left", exc,
                            then="what is still left is tried again at a later pass")

    async def _finish_left(self, chat_id: int, replies: list[StoredReply],
                           updates: list[str]) -> None:
        """Send left replies, then handle left updates, in order (holding the chat's lock);
        once stopping, what is left stays in the inbox to be handed over."""
        if self._stopping:
            return
        await self.send(chat_id, replies)
        for payload in updates:
            if self._stopping:
                return
            await self._handle(Update.de_json(json.loads(payload), self.application.bot))

    async def set_command_menu(self) -> None:
        """The command menu in each language, and the configured language for every other."""
        default = self.engine.settings.default_locale
        for language in (*MENU_LANGUAGES, None):
            commands = [BotCommand(name, description[:256])
                        for name, description in self.engine.command_menu(language or default)]
            await self.application.bot.set_my_commands(commands, language_code=language)

    async def on_webhook(self, request: web.Request) -> web.Response:
        """Telegram webhook: refuse without the secret header, ack at once, then process.

        Nothing from a refused request is stored or even parsed.
        """
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(),
                                                    self.config.secret_token.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            payload = json.loads(await request.read())
            if (not isinstance(payload, dict) or type(payload.get("update_id")) is not int):
                raise ValueError("not an update")
            update = Update.de_json(payload, self.application.bot)
        except Exception:  # malformed JSON or not an Update: say so, keep serving
            return web.Response(status=400, text="malformed update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    # one path for every update ------------------------------------------------------------
    async def on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        incoming = to_incoming(update)
        if incoming is None:
            if query is not None:  # a press from outside the presser's own chat
                await self.answer(query, self.stale_notice(update))
            return
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            async with self._chats.hold(int(incoming.user_id)):
                # once stopping, a stored update is handed over to another worker; one the
                # store refused is still answered (the turn tells the rep nothing was saved)
                unstored = str(incoming.message_id) in self._queue.unstored
                self._queue.unstored.discard(str(incoming.message_id))
                if not self._stopping:
                    await self._take_left(int(incoming.user_id))
                if unstored or not self._stopping:
                    await self._handle(update)
        finally:
            if task is not None:
                self._handling.discard(task)

    async def _take_left(self, chat_id: int) -> None:
        """What another worker released or left for this chat (older, coach/handover.py)
        goes before the update just received."""
        left = await take_left_for(self.mailbox, str(chat_id))
        if left:
            log.info("telegram: taking over %d replies and %d updates of chat %s first",
                     len(left.replies), len(left.messages), chat_id)
            for _user, replies, updates in left.by_user():
                await self._finish_left(chat_id, replies, updates)

    async def _handle(self, update: Update) -> None:
        """One stored update (holding its chat's lock): the turn, then its replies."""
        query = update.callback_query
        incoming = to_incoming(update)
        if incoming is None:
            return
        chat_id, key = int(incoming.user_id), str(incoming.message_id)
        if query is None:
            await self.send(chat_id, (await self.mailbox.handle(key, incoming))[1])
            return
        message = query.message
        if isinstance(message, Message) and offered(message, query.data or "") is None:
            # not a button of that message (any more): forged, or a stale client
            await self.mailbox.settle(key)
            await self.answer(query, self.stale_notice(update))
            return
        result, replies = await self.mailbox.handle(key, incoming)
        toast = next((r for r in result.replies if r.toast), None)
        await self.answer(query, toast.text if toast is not None else None)
        if result.ok:  # stale or not saved: the keyboard stays, to press again
            await self.mark_pressed(query)
        await self.send(chat_id, [r for r in replies if not r.reply.toast])

    def stale_notice(self, update: Update) -> str:
        user = update.effective_user
        hint = (user.language_code or "") if user is not None else ""
        locale = "en" if hint.lower().startswith("en") else self.engine.settings.default_locale
        return self.engine.library.message("stale_button", locale)

    async def answer(self, query: CallbackQuery, text: str | None) -> None:
        """Stop the button's spinner, with a short notice if given. Never fatal: a query
        answered before (a redelivered update) or too old only loses the notice."""
        try:
            await query.answer(text[:TOAST_LIMIT] if text else None)
        except TelegramError as exc:
            log.info("callback query not answered: %s", exc)

    async def mark_pressed(self, query: CallbackQuery) -> None:
        """Show the choice made under the question and take its keyboard away."""
        message = query.message
        if message is None:
            return
        try:
            if not isinstance(message, Message):  # too old to read: just drop the keyboard
                await self.application.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=None)
                return
            label = offered(message, query.data or "") or ""
            mark = f"{PRESSED_MARK}{label.strip()}"
            if label.strip() and message.text is not None and (
                    telegram_len(message.text + mark) <= TEXT_LIMIT):
                await message.edit_text(_escape(message.text) + f"{PRESSED_MARK}<b>"
                                        f"{_escape(label.strip())}</b>",
                                        parse_mode=ParseMode.HTML, reply_markup=None)
            elif label.strip() and message.caption is not None and (
                    telegram_len(message.caption + mark) <= CAPTION_LIMIT):
                await message.edit_caption(_escape(message.caption) + f"{PRESSED_MARK}<b>"
                                           f"{_escape(label.strip())}</b>",
                                           parse_mode=ParseMode.HTML, reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:  # e.g. "message is not modified" on a redelivery
            log.info("could not mark pressed button: %s", exc)

    async def deliver(self, user_id: str, replies: list[Reply]) -> None:
        """Send replies kept nowhere to a rep's private chat, in turn with the chat."""
        await self.send_stored(user_id, [StoredReply(None, user_id, r) for r in replies])

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None:
        """Send outbox rows the engine produced on its own (reminders, coach/claims.py) to a
        rep's private chat, in turn with the chat (the weekly digest too, bot/digests.py); each
        leaves the outbox once sent."""
        chat_id = int(user_id)
        async with self._chats.hold(chat_id):
            await self.send(chat_id, replies)

    async def send(self, chat_id: int | str, replies: Sequence[StoredReply]) -> None:
        """Send replies in order: long text split on paragraphs, HTML escaped, files attached,
        the buttons under the last piece. Each leaves the outbox once Telegram took it; one
        Telegram refuses for good (the rep blocked the bot) leaves it too, unless it is a
        reminder, which waits for another try (`Mailbox.send_in_order`)."""
        async def send_one(stored: StoredReply) -> None:
            await self._send_one(chat_id, stored.reply)

        await self.mailbox.send_in_order(replies, send_one, Forbidden)

    async def _send_one(self, chat_id: int | str, reply: Reply) -> None:
        bot = self.application.bot
        markup = keyboard(reply)
        text = reply.text.strip()
        if reply.attachment is not None:
            fits = telegram_len(text) <= CAPTION_LIMIT
            data = InputFile(reply.attachment.data, filename=reply.attachment.filename)
            caption = _escape(text) if fits and text else None
            if reply.attachment.kind == "photo":
                await bot.send_photo(chat_id, data, caption=caption,
                                     parse_mode=ParseMode.HTML if caption else None,
                                     reply_markup=markup if fits else None)
            else:
                await bot.send_document(chat_id, data, caption=caption,
                                        parse_mode=ParseMode.HTML if caption else None,
                                        reply_markup=markup if fits else None)
            if fits:
                return
        parts = split_text(text, TEXT_LIMIT, telegram_len)
        if not parts:
            if markup is None:
                return  # nothing to show
            parts = ["…"]  # buttons need a message to hang on
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await bot.send_message(chat_id, _escape(part), parse_mode=ParseMode.HTML,
                                   reply_markup=markup if last else None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, Forbidden):
            log.info("rep blocked the bot: %s", error)
        elif isinstance(error, TelegramError):
            log.warning("telegram error: %s", error)
        else:
            log.error("update failed", exc_info=error)
