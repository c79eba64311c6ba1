"""The bot process of the Telegram benchmarks: `python -m bench.tgbot KIND ...`.

* `repcoach`: the real adapter, `bot.telegram.TelegramChannel`, on a real engine and store.
* `baseline`: a bare python-telegram-bot Application built like the adapter's (same builder
  options, same polling) that, for each update, makes exactly the Bot API calls RepCoach made
  for the same update in the same run (read from `--replay`), with no engine, template or
  store work.
* `echo`: a bare Application answering every message with one sendMessage (start-up baseline).

Both measured kinds take `--limiter none|aio`. `aio` is what the adapter ships:
`AIORateLimiter(max_retries=5)`. `none` removes the limiter from both bots (for the adapter by
replacing `bot.telegram.AIORateLimiter` in this process only), to measure the bots' own cost.

After each update the process prints `done UPDATE_ID` (a handler in group 1, which PTB runs
after the group-0 handler has finished the turn); `ready` once polling.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

ROOT = Path(__file__).resolve().parent.parent
POLL_TIMEOUT = 20  # the adapter's default (channels.telegram.poll_timeout)
AnyApp = Application[Any, Any, Any, Any, Any, Any]


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _done(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    _say(f"done {update.update_id}")


def replace_attribute(module: ModuleType, name: str, value: object) -> None:
    setattr(module, name, value)


def no_rate_limiter(**_kwargs: Any) -> None:
    """Stands in for `AIORateLimiter(...)`: `ApplicationBuilder.rate_limiter(None)` means none."""
    return None


class Replayer:
    """Makes, per chat and per turn, the calls RepCoach made for the same turn."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.turns: dict[int, list[list[dict[str, Any]]]] = {
            int(chat): turns for chat, turns in data["chats"].items()
        }
        self.position: dict[int, int] = {}
        self.errors = 0

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id if update.effective_chat else 0
        index = self.position.get(chat, 0)
        self.position[chat] = index + 1
        turns = self.turns.get(chat, [])
        if index >= len(turns):
            return
        for call in turns[index]:
            try:
                await self.perform(context, update, call)
            except TelegramError as exc:  # RepCoach's turn met the same answer
                self.errors += 1
                print(f"replay: {call['method']}: {exc}", file=sys.stderr)

    @staticmethod
    async def perform(context: ContextTypes.DEFAULT_TYPE, update: Update,
                      call: dict[str, Any]) -> None:
        bot = context.bot
        method, params = call["method"], call["params"]
        markup = (InlineKeyboardMarkup.de_json(params["reply_markup"], bot)
                  if params.get("reply_markup") else None)
        if method == "answerCallbackQuery":
            query = update.callback_query
            assert query is not None
            extra = {k: params[k] for k in ("text", "show_alert") if k in params}
            await bot.answer_callback_query(query.id, **extra)
        elif method == "sendMessage":
            await bot.send_message(params["chat_id"], params["text"],
                                   parse_mode=params.get("parse_mode"), reply_markup=markup)
        elif method == "editMessageText":
            await bot.edit_message_text(params["text"], chat_id=params["chat_id"],
                                        message_id=params["message_id"],
                                        parse_mode=params.get("parse_mode"))
        elif method == "editMessageReplyMarkup":
            await bot.edit_message_reply_markup(chat_id=params["chat_id"],
                                                message_id=params["message_id"])
        elif method in ("sendPhoto", "sendDocument"):
            field = "photo" if method == "sendPhoto" else "document"
            upload = call["files"][field]
            media = InputFile(base64.b64decode(upload["data"]), filename=upload["filename"])
            send = bot.send_photo if method == "sendPhoto" else bot.send_document
            await send(params["chat_id"], media, caption=params.get("caption"),
                       parse_mode=params.get("parse_mode"), reply_markup=markup)
        else:
            raise ValueError(f"replay of {method} is not implemented")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, "ok")


def _bare_app(args: argparse.Namespace) -> AnyApp:
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(args.token).concurrent_updates(True).base_url(args.base_url)
    )
    if args.limiter == "aio":
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    app: AnyApp = builder.build()
    return app


async def _serve(start: Any, stop: Any) -> None:
    """Start, print `ready`, wait for SIGTERM, stop."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    await start()
    _say("ready")
    await stopping.wait()
    await stop()


async def _run_repcoach(args: argparse.Namespace) -> None:
    import bot.telegram as adapter
    from bot.__main__ import build_engine
    from bot.config import AppConfig
    from bot.runner import keep_startup_out_of_collections

    if args.limiter == "none":
        replace_attribute(adapter, "AIORateLimiter", no_rate_limiter)
    config = AppConfig.model_validate({
        "database": {"url": args.db},
        "channels": {"telegram": {"enabled": True, "token": args.token,
                                  "base_url": args.base_url, "mode": "polling",
                                  "poll_timeout": POLL_TIMEOUT}},
        "base_dir": str(ROOT),
    })
    engine = build_engine(config)
    channel = adapter.TelegramChannel(config.channels.telegram, engine)
    limited = channel.application.bot.rate_limiter is not None
    if limited != (args.limiter == "aio"):  # the adapter changed how it builds its limiter
        raise SystemExit(f"rate limiter is {'on' if limited else 'off'}, wanted {args.limiter}")
    channel.application.add_handler(TypeHandler(Update, _done), group=1)

    async def start() -> None:
        await channel.start()
        keep_startup_out_of_collections()  # as `repcoach run` does once it is up

    await _serve(start, channel.stop)
    engine.database.dispose()


async def _run_bare(args: argparse.Namespace) -> None:
    app = _bare_app(args)
    replayer: Replayer | None = None
    if args.kind == "baseline":
        replayer = Replayer(Path(args.replay))
        app.add_handler(TypeHandler(Update, replayer.on_update))
    else:
        app.add_handler(TypeHandler(Update, _echo))
    app.add_handler(TypeHandler(Update, _done), group=1)

    async def start() -> None:
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=POLL_TIMEOUT,
                                        drop_pending_updates=False)

    async def stop() -> None:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    await _serve(start, stop)
    if replayer is not None and replayer.errors:
        print(f"replay: {replayer.errors} call(s) answered with an error", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tgbot")
    parser.add_argument("kind", choices=["repcoach", "baseline", "echo"])
    parser.add_argument("--token", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--db", help="database URL (repcoach)")
    parser.add_argument("--replay", help="calls to replay, JSON (baseline)")
    parser.add_argument("--limiter", choices=["none", "aio"], default="none")
    args = parser.parse_args(argv)
    if args.kind == "repcoach":
        asyncio.run(_run_repcoach(args))
    else:
        asyncio.run(_run_bare(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
