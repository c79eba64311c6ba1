"""`repcoach run`: start every enabled channel, the webhook server, and the reminder loop.

Reminders are read from the store on an interval, so they survive restarts and any worker
can send them; each goes to the rep's identity on the first running channel that knows them,
claimed by one worker and sent from the outbox (coach/claims.py). SIGHUP reloads the
playbooks without a restart, after validating them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from bot.admin_log import Outage, delivery_failed
from bot.config import AppConfig, ConfigError, DocumentsConfig, render_url
from bot.digests import send_due_digests
from bot.documents import DocumentPages
from bot.server import ListenError, WebhookServer, check_free
from coach.claims import Outgoing
from coach.documents.font_worker import FONTS
from coach.documents.shelf import DocumentShelf, load_secret
from coach.engine import Engine
from coach.library import PlaybookErrors, load_library
from coach.mailbox import RETRY_AFTER, Mailbox, StoredReply
from coach.messages import Reply
from coach.reminders import BATCH as REMINDER_BATCH

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str
    mailbox: Mailbox

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, user_id: str, replies: list[Reply]) -> None: ...

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None: ...

    async def recover(self) -> None: ...


MAX_REMINDER_BATCHES = 50  # per pass; the next pass picks up the rest


@dataclass(frozen=True)
class Posted:
    """A claimed background message, in the outbox of its channel."""

    channel: str
    stored: StoredReply


def outbox(channels: dict[str, Channel], *, keep_trying: bool = True
           ) -> Callable[[Session, Outgoing], Posted]:
    """Posts a claimed message to its channel's outbox, under that channel's worker name.
    With `keep_trying` one the platform refuses for good waits for another try
    (`Mailbox.refused`); without, it is dropped."""
    def post(session: Session, item: Outgoing) -> Posted:
        mailbox = channels[item.channel].mailbox
        return Posted(item.channel, mailbox.post(session, item.user_id, item.reply,
                                                 keep_trying=keep_trying))

    return post


async def send_due_reminders(engine: Engine, channels: dict[str, Channel]) -> int:
    """Deliver every reminder due now, then the weekly re-evaluation nudges and the weekly
    digests (bot/digests.py); returns how many messages went out.

    Each batch is claimed and put in the outbox in one transaction before anything is sent
    (coach/claims.py), so with any number of workers each goes out once. Reminders come in
    batches (100 follow-ups a query); a full batch is followed by the next at once, so a
    Monday-morning peak goes out in minutes, not a batch a pass."""
    post = outbox(channels)
    sent = 0
    for _ in range(MAX_REMINDER_BATCHES):
        posted = await engine.call(engine.claim_reminders, list(channels), post)
        sent += await send_posted(channels, posted)
        if len(posted) < REMINDER_BATCH:
            break
    once = outbox(channels, keep_trying=False)  # a nudge refused comes back next week
    for rep_id in await engine.call(engine.reps_due_for_nudge):
        sent += await send_posted(channels, await engine.call(engine.claim_nudge, rep_id,
                                                              list(channels), once))
    return sent + await send_due_digests(engine, channels)


async def send_posted(channels: dict[str, Channel], posted: list[Posted]) -> int:
    """Send claimed messages (`outbox` posted them in their claim's transaction). One that
    does not get through and is to be kept trying waits `RETRY_AFTER`, then whichever worker
    passes tries it again; any other stays in the outbox like a turn's reply, or is gone
    when the platform refused it for good. Returns how many went out. Any kind of
    background message is sent this way (coach/claims.py)."""
    sent = 0
    for item in posted:
        channel = channels[item.channel]
        try:
            await channel.send_stored(item.stored.user_id, [item.stored])
            sent += 1
        except Exception as exc:  # one failed delivery must not stop the others
            delivery_failed(f"{item.channel} message {item.stored.id}", exc,
                            then=f"tried again in {RETRY_AFTER.total_seconds() / 60:g} min"
                            if item.stored.keep_trying
                            else "it waits in the outbox")
            if item.stored.keep_trying:
                await channel.mailbox.retry_later(item.stored, RETRY_AFTER)
    return sent


PRUNE_EVERY = 3600.0  # seconds between prunings of old processed message ids


async def reminder_loop(engine: Engine, channels: dict[str, Channel], interval: float,
                        stop: asyncio.Event) -> None:
    """Every `interval` seconds: take over a dead worker's rows, send what is due (reminders,
    nudges, digests), now and then prune old message ids. With the database unreachable a
    pass logs one warning, not a traceback (bot/admin_log.py)."""
    pruned_at = -PRUNE_EVERY
    loop = asyncio.get_running_loop()
    outage = Outage()
    while not stop.is_set():
        try:
            for channel in channels.values():
                await channel.recover()
            await send_due_reminders(engine, channels)
            if loop.time() - pruned_at >= PRUNE_EVERY:
                pruned_at = loop.time()
                await engine.call(engine.prune_processed)
            outage.passed("reminder pass")
        except Exception as exc:
            outage.failed(exc, "reminder pass", interval)
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
    """The enabled channels; a section a channel refuses (an empty secret, a bad
    EncodingAESKey) is a ConfigError naming the key and any unset variable behind it."""
    channels: dict[str, Channel] = {}
    if config.channels.telegram.enabled:
        from bot.telegram import TelegramChannel

        try:
            channels["telegram"] = TelegramChannel(config.channels.telegram, engine, server)
        except ValueError as exc:
            raise config.channel_error("channels.telegram", exc) from exc
    if config.channels.wecom.enabled:
        from bot.wecom.channel import WecomChannel

        try:
            channels["wecom"] = WecomChannel(config.channels.wecom, engine, server)
        except ValueError as exc:
            raise config.channel_error("channels.wecom", exc) from exc
    return channels


@dataclass(frozen=True)
class Listen:
    """An address this worker listens on and the config key that sets its port."""

    key: str
    host: str
    port: int
    what: str


def listens(config: AppConfig, documents: bool) -> list[Listen]:
    """Where this worker serves HTTP: webhook channels, and document links when served."""
    found = [Listen(f"channels.{name}.port", section.listen, section.port, what)
             for name, section, what in (
                 ("telegram", config.channels.telegram, "webhook"),
                 ("wecom", config.channels.wecom, "callbacks"))
             if section.enabled and _serves_http(config, section)]
    if documents:
        found.append(Listen("documents.port", config.documents.listen, config.documents.port,
                            "document links"))
    return found


async def listen(server: WebhookServer | None, where: list[Listen]) -> None:
    """Start serving (without a server: only check every address is free, before the
    channels start); an address that cannot be had is a ConfigError naming its key."""
    try:
        if server is None:
            check_free([(w.host, w.port) for w in where])
        else:
            await server.start([(w.host, w.port) for w in where])
    except ListenError as exc:
        keys = " and ".join(dict.fromkeys(w.key for w in where if w.port == exc.port))
        if exc.in_use:
            raise ConfigError(
                f"cannot listen on {exc.host}:{exc.port} ({keys}): address already in use; "
                "another worker or program has this port: give each worker on this host its "
                "own port (its own config.yaml, or `repcoach run --port`)") from exc
        raise ConfigError(f"cannot listen on {exc.host}:{exc.port} ({keys}): "
                          f"{exc.strerror}") from exc


def startup_lines(config: AppConfig, channels: dict[str, Channel],
                  where: list[Listen]) -> list[str]:
    """What `repcoach run` prints once listening: the channels, then each one's worker
    name and address, the document links, and the database (password masked)."""
    lines = [f"running: {', '.join(channels)}"]
    for name, channel in channels.items():
        served = [f"{w.what} on {w.host}:{w.port}" for w in where
                  if w.key == f"channels.{name}.port"]
        lines.append(f"  {name}: worker {channel.mailbox.worker}, "
                     f"{served[0] if served else 'polling'}")
    lines += [f"  documents: {w.what} on {w.host}:{w.port}" for w in where
              if w.key == "documents.port"]
    lines.append(f"  database: {render_url(config.database.url)}")
    return lines


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
    where = listens(config, engine.documents is not None)
    if engine.documents is not None:
        DocumentPages(engine.documents, engine.library, engine.clock,
                      config.documents.path).install(server)
    if server.has_routes:
        await listen(None, where)
    started: list[Channel] = []
    try:
        for name, channel in channels.items():
            try:
                await channel.start()
            except ConfigError as exc:  # what the channel's platform refused at start
                raise config.channel_error(f"channels.{name}", exc) from exc
            started.append(channel)
        if server.has_routes:
            await listen(server, where)
        keep_startup_out_of_collections()
        print("\n".join(startup_lines(config, channels, where)), flush=True)
        interval = min(config.channels.telegram.reminder_interval,
                       config.channels.wecom.reminder_interval)
        await reminder_loop(engine, channels, interval, stop)
    finally:
        await server.stop()
        for channel in reversed(started):
            await channel.stop()
        FONTS.close()  # a font still being cut is for a reply left in the outbox
        await engine.database.aclose()
    return 0


def document_shelf(config: AppConfig) -> DocumentShelf | None:
    """Where documents wait for their links (`documents` in config.yaml), or None when they
    go out as files."""
    section: DocumentsConfig = config.documents
    if not section.enabled:
        return None
    folder = config.documents_dir
    return DocumentShelf(folder, load_secret(folder, section.secret),
                         section.public_url.rstrip("/") + section.path,
                         timedelta(hours=section.valid_hours))


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
