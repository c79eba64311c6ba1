"""Log lines an admin acts on, worded once for every channel and background loop.

Three kinds: a message the platform or the network did not take (one line: Telegram
refusing, WeCom throttling, a timeout happen in normal operation; a traceback only for an
error that points at a bug), a worker finishing what a crash or another worker left
(WARNING: it means a worker died or was killed), and the database being unreachable
during a background pass (one WARNING a pass and one line when it is back, not a traceback
every pass: the cause is operational and the same each time). docs/deploy.md lists these lines.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from telegram.error import TelegramError

from bot.wecom.client import WecomError
from coach.mailbox import Pending
from coach.store.outage import unreachable

log = logging.getLogger("bot.runner")


def report_resumed(channel: str, pending: Pending, *, at_start: bool, messages: str) -> None:
    """Say that this worker takes up unfinished rows: its own (or expired ones) at start,
    another worker's whose lease ran out later on. `messages` names the incoming kind
    ("messages", "updates")."""
    if not pending:
        return
    counts = f"{len(pending.replies)} replies and {len(pending.messages)} {messages}"
    if at_start:
        log.warning("%s: resuming %s left unfinished by a crash or a stop of this worker (or "
                    "a worker whose lease ran out)", channel, counts)
    else:
        log.warning("%s: taking over %s from another worker whose lease ran out (it stopped "
                    "or died)", channel, counts)


class Outage:
    """Whether the database was unreachable at the last background pass: one warning a
    failed pass, one line when a pass gets through again."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, exc: BaseException, what: str, interval: float) -> bool:
        """Log `exc` from the pass `what`: one line without traceback when the database is
        unreachable (returns True); otherwise the traceback, which points at a bug."""
        reason = unreachable(exc)
        if reason is None:
            log.error("%s failed; next pass in %g s", what, interval, exc_info=exc)
            return False
        self.down = True
        log.warning("database unavailable: %s skipped; next in %g s (%s)", what, interval,
                    reason)
        return True

    def passed(self, what: str) -> None:
        """A pass got through: say so once after an outage."""
        if self.down:
            self.down = False
            log.warning("database available again: %s done", what)


#: failures of the platform or the network: expected now and then, said in one line
DELIVERY_FAILURES: tuple[type[BaseException], ...] = (
    TelegramError, WecomError, httpx.HTTPError, OSError, asyncio.TimeoutError)


def delivery_failed(what: str, exc: BaseException, *, then: str) -> None:
    """Log that `what` did not get through and what happens to it (`then`): one WARNING
    line with the platform's reason, or the traceback when `exc` is not a delivery
    failure (a bug)."""
    if isinstance(exc, DELIVERY_FAILURES):
        reason = (str(exc).strip().splitlines() or ["(no message)"])[0]
        log.warning("%s not delivered (%s: %s); %s", what, type(exc).__name__, reason, then)
    else:
        log.error("%s not delivered; %s", what, then, exc_info=exc)
