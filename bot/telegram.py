"""Telegram channel: python-telegram-bot as transport only.

One path for every update: update -> `Incoming` -> `engine.handle` -> replies rendered as
Telegram messages. No ConversationHandler and no persistence: where a rep is in a playbook
lives in the store. Button presses always get answerCallbackQuery; an accepted press edits
the question to show the choice and removes its keyboard, a refused one gets a short notice.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.config import TelegramConfig
from bot.server import WebhookServer
from bot.splitting import split_text
from coach.engine import Engine
from coach.messages import Incoming, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOAST_LIMIT = 200
MENU_LOCALES = (("zh", "zh"), ("en", "en"))


def escaped_len(text: str) -> int:
    """Length as Telegram counts it once HTML-escaped (entities count as their characters)."""
    return len(html.escape(text))


def to_incoming(update: Update) -> Incoming | None:
    """The neutral form of an update, or None for updates a rep cannot have meant for us."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": str(user.id),
        "message_id": f"u{update.update_id}",
        "display_name": user.full_name or str(user.id),
        "locale_hint": user.language_code,
    }
    if update.callback_query is not None:
        return Incoming(button=update.callback_query.data or "", **common)
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    return Incoming(text=message.text or message.caption or "", **common)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row: labels are sentences, and thumbs need wide targets."""
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(choice.label, callback_data=choice.key)] for choice in reply.choices]
    )


def pressed_label(message: Message | None, data: str) -> str | None:
    """The label of the pressed button, read from the message it belonged to."""
    markup = message.reply_markup if message is not None else None
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


class TelegramChannel:
    """Builds the PTB application and renders engine replies in Telegram's idiom."""

    name = CHANNEL

    def __init__(self, config: TelegramConfig, engine: Engine,
                 server: WebhookServer | None = None) -> None:
        if not config.token:
            raise ValueError("channels.telegram.token is empty: set TELEGRAM_BOT_TOKEN")
        if config.mode == "webhook" and not config.secret_token:
            raise ValueError("channels.telegram.secret_token is required in webhook mode")
        self.config = config
        self.engine = engine
        self._tasks: set[asyncio.Task[None]] = set()
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(config.token)
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
        if config.mode == "webhook":
            if server is None:
                raise ValueError("webhook mode needs the webhook server")
            server.app.router.add_post(config.path, self.on_webhook)

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await self.application.initialize()
        await self.set_command_menu()
        await self.application.start()
        if self.config.mode == "polling" and self.application.updater is not None:
            await self.application.updater.start_polling(
                poll_interval=0.0, timeout=self.config.poll_timeout, drop_pending_updates=False
            )
        elif self.config.public_url:
            await self.application.bot.set_webhook(
                url=self.config.public_url.rstrip("/") + self.config.path,
                secret_token=self.config.secret_token or None,
            )

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def set_command_menu(self) -> None:
        """The command menu in each language; Chinese is also the default for other clients."""
        for locale, language_code in MENU_LOCALES:
            commands = [BotCommand(name, description[:256])
                        for name, description in self.engine.command_menu(locale)]
            await self.application.bot.set_my_commands(commands, language_code=language_code)
        default = [BotCommand(name, description[:256])
                   for name, description in self.engine.command_menu("zh")]
        await self.application.bot.set_my_commands(default)

    async def on_webhook(self, request: web.Request) -> web.Response:
        """Telegram webhook: refuse without the secret header, ack at once, then process.

        Nothing from a refused request is stored or even parsed.
        """
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.config.secret_token.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            payload = await request.json()
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(payload, self.application.bot)
        except Exception:  # malformed JSON or not an Update: say so, keep serving
            return web.Response(status=400, text="malformed update")
        task = asyncio.create_task(self.application.process_update(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")

    # one path for every update ------------------------------------------------------------
    async def on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = to_incoming(update)
        if incoming is None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            return
        replies = await self.engine.handle(incoming)
        query = update.callback_query
        if query is not None:
            toasts = [r for r in replies if r.toast]
            if toasts:
                await query.answer(toasts[0].text[:TOAST_LIMIT], show_alert=False)
            else:
                await query.answer()
                await self.mark_pressed(query.message, query.data or "")
            replies = [r for r in replies if not r.toast]
        chat_id = update.effective_chat.id if update.effective_chat else int(incoming.user_id)
        await self.send(chat_id, replies)

    async def mark_pressed(self, message: Any, data: str) -> None:
        """Show the choice made under the question and take its keyboard away."""
        if not isinstance(message, Message):
            return
        label = pressed_label(message, data)
        text = message.text or message.caption or ""
        try:
            if label and message.text is not None and len(text) + len(label) + 3 <= TEXT_LIMIT:
                await message.edit_text(f"{html.escape(text)}\n\n→ <b>{html.escape(label)}</b>",
                                        parse_mode=ParseMode.HTML, reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:  # e.g. "message is not modified", or too old to edit
            log.info("could not mark pressed button: %s", exc.message)

    async def deliver(self, user_id: str, replies: list[Reply]) -> None:
        """Send replies the engine produced on its own (reminders) to a rep's private chat."""
        await self.send(int(user_id), replies)

    async def send(self, chat_id: int | str, replies: Sequence[Reply]) -> None:
        """Send replies in order: long text split on paragraphs, HTML escaped, files attached."""
        bot = self.application.bot
        for reply in replies:
            markup = keyboard(reply)
            if reply.attachment is not None:
                caption = reply.text if len(reply.text) <= CAPTION_LIMIT else ""
                data = InputFile(reply.attachment.data, filename=reply.attachment.filename)
                send = bot.send_photo if reply.attachment.kind == "photo" else bot.send_document
                await send(chat_id, data, caption=html.escape(caption) or None,
                           parse_mode=ParseMode.HTML,
                           reply_markup=markup if caption else None)
                if caption:
                    continue
            parts = split_text(reply.text, TEXT_LIMIT, escaped_len) or [""]
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                await bot.send_message(chat_id, html.escape(part) or "…",
                                       parse_mode=ParseMode.HTML,
                                       reply_markup=markup if last else None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, Forbidden):
            log.info("rep blocked the bot: %s", error)
        elif isinstance(error, TelegramError):
            log.warning("telegram error: %s", error)
        else:
            log.error("update failed", exc_info=error)
