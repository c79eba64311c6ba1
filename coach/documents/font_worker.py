"""Cut a document's font in a helper process, not in the worker.

fontTools builds tens of megabytes of tables to cut the 16 MB face, and CPython and malloc
keep most of that memory once freed: a worker's resident memory rose by about 80 MB for good
after its first documents (the memory benchmark's step from 143 to 227 MB, when the weekly
digests' files went out). And it is pure Python: in a thread it holds the GIL most of a
second, slowing every other rep's turn. In a process of its own both stay out of the worker;
the process ends once idle for `IDLE_SECONDS`, and its memory goes back to the system.
Should the process fail to start or die, the font is cut in a thread as before: the document
still goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from coach.documents.fonts import HTML, with_font
from coach.messages import Reply

log = logging.getLogger(__name__)

#: seconds without a document before the helper process ends (a burst of digests or plans
#: reuses it, and its cache of cut fonts)
IDLE_SECONDS = 60.0
#: documents one helper process cuts before a fresh one replaces it: its own memory grows
#: with every font it cuts (about 235 MB after a few hundred digests), this bounds it
JOBS_PER_PROCESS = 16
_PR_SET_PDEATHSIG = 1


def _die_with_the_worker() -> None:
    """In the helper: end when the worker process ends, however it ends (SIGKILL too), so
    no orphan keeps cutting fonts nobody reads, or holds the worker's output open."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere it stays
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class FontWorker:
    """One helper process at most, started on the first document, ended when idle."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._idle: asyncio.TimerHandle | None = None

    async def with_font(self, html: str) -> str:
        """`fonts.with_font(html)`, computed in the helper process."""
        loop = asyncio.get_running_loop()
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._busy += 1
        try:
            try:
                if self._pool is None:
                    # spawn: a fork would copy the worker's memory and its open connections
                    self._pool = ProcessPoolExecutor(
                        max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                        initializer=_die_with_the_worker,
                        max_tasks_per_child=JOBS_PER_PROCESS)
                return await loop.run_in_executor(self._pool, with_font, html)
            except (BrokenProcessPool, OSError) as exc:
                log.warning("font helper process failed (%s); cutting the font here", exc)
                self.close()
                return await asyncio.to_thread(with_font, html)
        finally:
            self._busy -= 1
            if self._busy == 0 and self._pool is not None:
                self._idle = loop.call_later(self.idle_seconds, self.close)

    def close(self) -> None:
        """End the helper process (the next document starts another)."""
        pool, self._pool = self._pool, None
        self._idle = None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


#: the worker's helper for every channel and the document server
FONTS = FontWorker()


async def reply_with_font_off_loop(reply: Reply) -> Reply:
    """`fonts.reply_with_font` in the helper process when there is a document to finish, so
    the event loop goes on serving the worker's other reps meanwhile."""
    attachment = reply.attachment
    if attachment is None or attachment.mime_type != HTML:
        return reply
    html = await FONTS.with_font(attachment.data.decode("utf-8"))
    return replace(reply, attachment=replace(attachment, data=html.encode("utf-8")))
