"""The fake Bot API server against the REAL python-telegram-bot: polling, buttons, files,
rate limits, offsets, webhooks and the errors Telegram gives. Real HTTP on loopback."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from testkit.fakes.telegram_api import SECRET_HEADER, FakeTelegram, image_size, parse_html

TOKEN = "123:ABC"
REP = 42

AnyApp = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def png(width: int, height: int) -> bytes:
    """A real (tiny, red) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


def build_app(fake: FakeTelegram, *, max_retries: int | None = None,
              token: str = TOKEN) -> AnyApp:
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(token).base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )
    if max_retries is not None:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=max_retries))
    app: AnyApp = builder.build()
    return app


@asynccontextmanager
async def polling(app: AnyApp) -> AsyncIterator[AnyApp]:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def bot_for(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)


YES_NO = InlineKeyboardMarkup([
    [InlineKeyboardButton("Yes", callback_data="yes")],
    [InlineKeyboardButton("No", callback_data="no")],
])


# --- polling, echo, buttons --------------------------------------------------------------------


async def test_echo_and_button_press_through_real_ptb(fake: FakeTelegram) -> None:
    seen_queries: list[str] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"echo: {update.message.text}", reply_markup=YES_NO)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        seen_queries.append(f"{query.data}@{query.message.text}")
        await query.answer("Noted")
        label = "Yes" if query.data == "yes" else "No"
        # no reply_markup: Telegram takes the keyboard away with the edit
        await query.edit_message_text(f"{query.message.text}\n\n→ <b>{label}</b>",
                                      parse_mode=ParseMode.HTML)

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    async with polling(app):
        fake.user_sends(REP, "hello", first_name="Li")
        [message] = await fake.wait_for_messages(REP, 1)
        assert message.text == "echo: hello"
        assert fake.last_keyboard(REP) == [("Yes", "yes"), ("No", "no")]

        [send] = fake.calls("sendMessage")
        assert send.content_type == "application/x-www-form-urlencoded"
        assert send.params["chat_id"] == REP  # decoded from the form's "42"
        assert send.params["reply_markup"]["inline_keyboard"][0][0] == {
            "text": "Yes", "callback_data": "yes"}

        fake.user_presses(REP, message.message_id, "yes")
        await fake.wait_for(lambda: fake.messages_to(REP)[0].edit_date is not None)

    order = [c.method for c in fake.calls()]
    assert order[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert seen_queries == ["yes@echo: hello"]  # PTB parsed the embedded message
    [answer] = fake.calls("answerCallbackQuery")
    assert answer.params["text"] == "Noted"
    assert fake.unanswered_callbacks() == []
    [edited] = fake.messages_to(REP)
    assert edited.text == "echo: hello\n\n→ Yes"  # what the rep reads: tags parsed away
    assert edited.source.endswith("<b>Yes</b>")
    assert edited.entities == [{"type": "bold", "offset": 15, "length": 3}]
    assert edited.history == ["echo: hello"]
    assert edited.keyboard == [] and fake.last_keyboard(REP) == []
    assert fake.transcript(REP) == ["> hello", "< echo: hello\n\n→ Yes"]
    with pytest.raises(ValueError, match="no button"):
        fake.user_presses(REP, edited.message_id, "no")  # the button is gone


async def test_command_photo_and_document_uploads(fake: FakeTelegram) -> None:
    image = png(1000, 500)
    photos: list[Message] = []

    async def chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        sent = await context.bot.send_photo(update.effective_chat.id,
                                            InputFile(image, filename="chart.png"),
                                            caption="Your <i>week</i>", parse_mode=ParseMode.HTML,
                                            reply_markup=YES_NO)
        photos.append(sent)
        await context.bot.send_document(update.effective_chat.id,
                                        InputFile(b"a,b\n1,2\n", filename="visits.csv"))

    app = build_app(fake)
    app.add_handler(CommandHandler("chart", chart))
    async with polling(app):
        fake.user_sends(REP, "/chart")
        photo, document = await fake.wait_for_messages(REP, 2)

    [call] = fake.calls("sendPhoto")
    assert call.content_type == "multipart/form-data"
    upload = call.files["photo"]
    assert (upload.filename, upload.content_type, upload.data) == ("chart.png", "image/png", image)
    assert call.params["caption"] == "Your <i>week</i>" and call.params["chat_id"] == REP
    assert photo.kind == "photo" and photo.file is not None and photo.file.data == image
    assert photo.text == "Your week" and photo.caption == "Your week"
    assert photo.buttons == [("Yes", "yes"), ("No", "no")]
    sizes = photos[0].photo  # PTB deserialized the photo ladder
    assert [(s.width, s.height) for s in sizes] == [(90, 45), (320, 160), (800, 400),
                                                    (1000, 500)]
    assert document.kind == "document" and document.file is not None
    assert document.file.filename == "visits.csv" and document.file.data == b"a,b\n1,2\n"

    async with bot_for(fake) as bot:  # the files can be fetched back through base_file_url
        file = await bot.get_file(sizes[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == image
        with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
            await bot.send_photo(REP, InputFile(b"not an image", filename="x.png"))


# --- rate limits and server errors -------------------------------------------------------------


async def test_429_is_retried_by_aioratelimiter_and_delivered_once(fake: FakeTelegram) -> None:
    done = asyncio.Event()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("got it")
        done.set()

    fake.fail_next("sendMessage", status=429, retry_after=1)
    app = build_app(fake, max_retries=3)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with polling(app):
        fake.user_sends(REP, "hi")
        await asyncio.wait_for(done.wait(), 6)

    assert [m.text for m in fake.messages_to(REP)] == ["got it"]
    first, second = fake.calls("sendMessage")
    assert first.status == 429 and first.response == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1}}
    assert second.status == 200
    assert second.at - first.at >= 0.95  # the limiter waited retry_after


async def test_502_is_a_network_error_and_nothing_is_shown(fake: FakeTelegram) -> None:
    fake.add_user(REP)
    fake.fail_next("sendMessage", status=502)
    async with bot_for(fake) as bot:
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.send_message(REP, "first")
        assert fake.messages_to(REP) == []
        await bot.send_message(REP, "second")
    assert [m.text for m in fake.messages_to(REP)] == ["second"]
    assert fake.calls("sendMessage")[0].response == {
        "ok": False, "error_code": 502, "description": "Bad Gateway"}


# --- getUpdates --------------------------------------------------------------------------------


async def test_get_updates_offset_confirmation_and_redelivery(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        u1 = fake.user_sends(REP, "one")
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [u1]
        assert [u.update_id for u in await bot.get_updates(offset=0, timeout=0)] == [u1]

        u2, u3 = fake.user_sends(REP, "two"), fake.user_sends(REP, "three")
        got = await bot.get_updates(offset=u1 + 1, timeout=0)  # confirms u1
        assert [u.message.text for u in got if u.message] == ["two", "three"]
        assert await bot.get_updates(offset=u3 + 1, timeout=0) == ()
        assert fake.pending_updates() == []

        fake.deliver_again(u2)  # an identical copy, handed out despite the offset
        [again] = await bot.get_updates(offset=u3 + 1, timeout=0)
        assert again.update_id == u2 and again.to_dict() == got[0].to_dict()
        assert await bot.get_updates(offset=u3 + 1, timeout=0) == ()

        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await bot.get_updates(offset=u3 + 1, timeout=1) == ()  # long poll, empty
        assert 0.9 <= loop.time() - start < 2.5

        poll = asyncio.create_task(bot.get_updates(offset=u3 + 1, timeout=10))
        await asyncio.sleep(0.2)
        u4 = fake.user_sends(REP, "four")
        [update] = await asyncio.wait_for(poll, 2)  # answered as soon as it arrived
        assert update.update_id == u4


async def test_restarted_bot_does_not_see_confirmed_updates(fake: FakeTelegram) -> None:
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    first = build_app(fake)
    first.add_handler(MessageHandler(filters.ALL, record))
    async with polling(first):
        u1, u2 = fake.user_sends(REP, "a"), fake.user_sends(REP, "b")
        await fake.wait_for(lambda: len(seen) == 2)
    # PTB's shutdown getUpdates(offset=u2+1, timeout=0) confirmed both
    assert fake.pending_updates() == []

    second = build_app(fake)
    second.add_handler(MessageHandler(filters.ALL, record))
    async with polling(second):
        u3 = fake.user_sends(REP, "c")
        await fake.wait_for(lambda: len(seen) == 3)
        fake.deliver_again(u3)  # Telegram redelivers: the bot must cope with duplicates
        await fake.wait_for(lambda: len(seen) == 4)
    assert seen == [u1, u2, u3, u3]


# --- commands, callbacks, validation -----------------------------------------------------------


async def test_set_my_commands_per_language(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")],
                                  language_code="zh")
        await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
        await bot.set_my_commands([BotCommand("start", "开始")])
        assert fake.commands("zh") == [("start", "开始"), ("help", "帮助")]
        assert fake.commands("en") == [("start", "Start")]
        assert fake.commands() == [("start", "开始")]
        zh = await bot.get_my_commands(language_code="zh")
        assert [(c.command, c.description) for c in zh] == fake.commands("zh")
        assert await bot.get_my_commands(language_code="de") == ()
        with pytest.raises(BadRequest, match=r"(?i)LANG_CODE_INVALID"):
            await bot.set_my_commands([BotCommand("start", "x")], language_code="zh-hans")
    calls = fake.calls("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == ["zh", "en", None, "zh-hans"]


async def test_callback_answers_are_tracked(fake: FakeTelegram) -> None:
    fake.add_user(REP)
    async with bot_for(fake) as bot:
        sent = await bot.send_message(REP, "Pick", reply_markup=YES_NO)
        update_id = fake.user_presses(REP, sent.message_id, "no")
        [press] = fake.unanswered_callbacks()
        assert (press.update_id, press.data, press.message_id) == (update_id, "no", 1)
        [update] = await bot.get_updates(timeout=0)
        assert update.callback_query is not None
        assert update.callback_query.id == press.query_id
        await update.callback_query.answer("ok")
        assert fake.unanswered_callbacks() == []
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await update.callback_query.answer("twice")
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await bot.edit_message_reply_markup(REP, sent.message_id, reply_markup=YES_NO)
        await bot.edit_message_reply_markup(REP, sent.message_id)
        assert fake.last_keyboard(REP) == []


async def test_telegram_errors_for_bad_requests(fake: FakeTelegram) -> None:
    fake.add_user(REP)
    async with bot_for(fake) as bot:
        with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
            await bot.send_message(REP, "a<br>b", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(REP, "1 < 2 & 3", parse_mode=ParseMode.HTML)
        ok = await bot.send_message(REP, "1 &lt; 2 & 3", parse_mode=ParseMode.HTML)
        assert ok.text == "1 < 2 & 3"
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(REP, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(REP, " \n ")
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(REP, "x", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("long", callback_data="é" * 33)]]))
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(7, "nobody opened this chat")
        fake.block(REP)
        with pytest.raises(Forbidden, match=r"(?i)blocked"):
            await bot.send_message(REP, "blocked")
    assert [m.text for m in fake.messages_to(REP)] == ["1 < 2 & 3"]


async def test_token_and_unknown_method_answers(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with bot_for(fake, token="123:WRONG"):
            pass
    fake.add_user(REP)
    async with aiohttp.ClientSession() as http:
        async with http.post(fake.method_url("getMe", token="123:WRONG")) as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(fake.method_url("sendTelepathy")) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False, "error_code": 404, "description": "Not Found"}
        # JSON bodies and GET query strings work too, method names in any case
        async with http.post(fake.method_url("SENDMESSAGE"), json={
                "chat_id": REP, "text": "json", "reply_markup": YES_NO.to_dict()}) as response:
            assert response.status == 200
            assert (await response.json())["result"]["text"] == "json"
        async with http.get(fake.method_url("sendMessage"),
                            params={"chat_id": str(REP), "text": "123"}) as response:
            assert (await response.json())["result"]["text"] == "123"
    assert [m.text for m in fake.messages_to(REP)] == ["json", "123"]
    assert fake.last_keyboard(REP) == [("Yes", "yes"), ("No", "no")]


# --- webhook -----------------------------------------------------------------------------------


async def test_webhook_push_with_secret_header(fake: FakeTelegram) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != "s3cret_token-1":
            return web.Response(status=403)
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/telegram", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
    try:
        async with bot_for(fake) as bot:
            assert await bot.set_webhook(url, secret_token="s3cret_token-1")
            assert (fake.webhook_url, fake.webhook_secret_token) == (url, "s3cret_token-1")
            update_id = fake.user_sends(REP, "via webhook")
            info = await bot.get_webhook_info()
            assert (info.url, info.pending_update_count) == (url, 1)
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await bot.get_updates(timeout=0)

            assert await fake.push_webhook_update(update_id, secret_token="wrong") == 403
            assert await fake.push_webhook_update(update_id, omit_secret=True) == 403
            assert received == []
            assert await fake.push_webhook_update(update_id) == 200
            assert received == [fake.update(update_id)]
            assert (await bot.get_webhook_info()).pending_update_count == 0
            assert [d.status for d in fake.webhook_deliveries] == [403, 403, 200]

            with pytest.raises(BadRequest, match=r"(?i)secret token"):
                await bot.set_webhook(url, secret_token="has spaces")
            assert await bot.delete_webhook()
            assert fake.webhook_url == "" and await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


# --- pure helpers ------------------------------------------------------------------------------


def test_html_parser_matches_telegram_rules() -> None:
    text, entities = parse_html('<b>Hi</b> <a href="https://x.y">link</a> &amp; 😀 <i>end</i>')
    assert text == "Hi link & 😀 end"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 3, "length": 4, "url": "https://x.y"},
        {"type": "italic", "offset": 13, "length": 3},  # the emoji counts two UTF-16 units
    ]
    assert image_size(png(3, 2)) == ("png", 3, 2)
