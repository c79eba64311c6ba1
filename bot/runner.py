"""`repcoach run`: start every enabled channel, the webhook server, and the reminder loop.

Reminders are read from the store on an interval, so they survive restarts and any worker
can send them; each goes to the rep's identity on the first running channel that knows them.
SIGHUP reloads the playbooks without a restart, after validating them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from pathlib import Path
from typing import Literal, Protocol

from bot.config import AppConfig
from bot.server import WebhookServer
from coach.engine import Engine
from coach.library import PlaybookErrors, load_library
from coach.messages import Reply
from coach.reminders import BATCH as REMINDER_BATCH
from coach.reminders import DueReminder, ReminderKind

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, user_id: str, replies: list[Reply]) -> None: ...

    async def recover(self) -> None: ...


#: What a pass delivered: a reminder of its kind (by the follow-up's or event's id), or a
#: weekly nudge (by the rep's id). Typed, so ids of different things never share one number
#: line (they were once told apart by sign).
DeliveredKind = ReminderKind | Literal["nudge"]

MAX_REMINDER_BATCHES = 50  # per pass; the next pass picks up the rest


async def send_due_reminders(engine: Engine, channels: dict[str, Channel]) -> int:
    """Deliver every reminder due now, then the weekly re-evaluation nudges; returns how
    many messages went out.

    Reminders come in batches (100 follow-ups a query); a full batch delivered is followed by
    the next at once, so a Monday-morning peak goes out in minutes, not a batch a pass."""
    sent: list[tuple[DeliveredKind, int]] = []  # (what, its id): a follow-up 7, rep 3's nudge
    for _ in range(MAX_REMINDER_BATCHES):
        due = await engine.call(engine.due_reminders, list(channels))
        delivered: list[DueReminder] = []
        failed: list[DueReminder] = []
        for reminder in due:
            try:
                await channels[reminder.channel].deliver(reminder.user_id, [reminder.reply])
                delivered.append(reminder)
            except Exception:  # one failed delivery must not stop the others
                log.exception("%s reminder %s not delivered; will retry", reminder.kind,
                              reminder.ref)
                failed.append(reminder)
        await engine.call(engine.mark_reminded, delivered)
        await engine.call(engine.postpone_reminders, failed)
        sent += [(r.kind, r.ref) for r in delivered]
        if len(due) < REMINDER_BATCH or not delivered:
            break
    for rep_id in await engine.call(engine.reps_due_for_nudge):
        nudge = await engine.call(engine.nudge_for, rep_id, list(channels))
        if nudge is None:
            continue
        try:
            await channels[nudge.channel].deliver(nudge.user_id, [nudge.reply])
            sent.append(("nudge", nudge.rep_id))
        except Exception:  # the nudge comes back next week; reminders matter more
            log.exception("weekly nudge for rep %s not delivered", nudge.rep_id)
    return len(sent)


PRUNE_EVERY = 3600.0  # seconds between prunings of old processed message ids


async def reminder_loop(engine: Engine, channels: dict[str, Channel], interval: float,
                        stop: asyncio.Event) -> None:
    pruned_at = -PRUNE_EVERY
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            for channel in channels.values():
                await channel.recover()
            await send_due_reminders(engine, channels)
            if loop.time() - pruned_at >= PRUNE_EVERY:
                pruned_at = loop.time()
                await engine.call(engine.prune_processed)
        except Exception:
            log.exception("reminder pass failed; next pass in %.0f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def reload_playbooks(engine: Engine, directory: Path) -> bool:
    """SIGHUP: validate the playbooks in `directory` and run them from the next turn. A set
    with any problem is refused with the same `file:line: code: message` list as
    `repcoach check`, and the running set stays. Loading runs in a thread: reps' turns go on
    meanwhile."""
    try:
        library = await asyncio.to_thread(load_library, directory)
    except PlaybookErrors as exc:
        for issue in exc.issues:
            log.error("%s", issue)
        log.error("playbooks not reloaded: %d problem(s) in %s; still running the previous set",
                  len(exc.issues), directory)
        print(f"playbooks not reloaded: {len(exc.issues)} problem(s)", flush=True)
        return False
    engine.reload(library)
    log.warning("playbooks reloaded from %s", directory)
    print(f"playbooks reloaded: {len(library.playbooks)} from {directory}", flush=True)
    return True


def _on_hangup(engine: Engine, directory: Path, tasks: set[asyncio.Task[bool]],
               lock: asyncio.Lock) -> None:
    """Start a reload; reloads run one at a time, in the order the signals came."""

    async def reload() -> bool:
        async with lock:
            return await reload_playbooks(engine, directory)

    task = asyncio.get_running_loop().create_task(reload())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def build_channels(config: AppConfig, engine: Engine, server: WebhookServer) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if config.channels.telegram.enabled:
        from bot.telegram import TelegramChannel

        channels["telegram"] = TelegramChannel(config.channels.telegram, engine, server)
    if config.channels.wecom.enabled:
        from bot.wecom.channel import WecomChannel

        channels["wecom"] = WecomChannel(config.channels.wecom, engine, server)
    return channels


async def run_channels(config: AppConfig, engine: Engine,
                       stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set); SIGHUP reloads the playbooks. Returns the
    process exit status."""
    server = WebhookServer()
    channels = build_channels(config, engine, server)
    if not channels:
        log.error("no channel is enabled in the config (channels.telegram / channels.wecom)")
        print("error: no network channel is enabled; set channels.telegram.enabled or "
              "channels.wecom.enabled, or use `repcoach chat` for the console")
        return 1
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    reloads: set[asyncio.Task[bool]] = set()
    with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, _on_hangup, engine, config.playbook_dir, reloads,
                                asyncio.Lock())
    listens = [(c.listen, c.port) for c in (config.channels.telegram, config.channels.wecom)
               if c.enabled and _serves_http(config, c)]
    started: list[Channel] = []
    try:
        for channel in channels.values():
            await channel.start()
            started.append(channel)
        if server.has_routes:
            await server.start(listens)
        keep_startup_out_of_collections()
        print(f"running: {', '.join(channels)}", flush=True)
        interval = min(config.channels.telegram.reminder_interval,
                       config.channels.wecom.reminder_interval)
        await reminder_loop(engine, channels, interval, stop)
    finally:
        await server.stop()
        for channel in reversed(started):
            await channel.stop()
        await engine.database.aclose()
    return 0


def keep_startup_out_of_collections() -> None:
    """Move what start-up built (playbooks, templates, ORM mappers, the libraries' modules:
    about 160,000 objects, alive until the process ends) out of the garbage collector's
    reach. Otherwise every full collection walks all of it while every rep waits: measured
    on the benchmark machine, 76-79 ms a full collection, against none after the freeze."""
    gc.collect()
    gc.freeze()


def _serves_http(config: AppConfig, section: object) -> bool:
    if section is config.channels.telegram:
        return config.channels.telegram.mode == "webhook"
    return True
