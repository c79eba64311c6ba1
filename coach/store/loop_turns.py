"""Brief blocking work (a SQLite transaction) run on the event loop, one job per loop pass.

Running a SQLite turn directly on the event loop is cheaper than handing it to a thread (see
`Database.run_in_transaction`), but a burst of turns started in the same loop pass would then
run back to back, and nothing else on the loop would get a look in until the last finished:
measured with `make bench`, 200 concurrent WeCom callbacks waited up to 0.76 s for their
empty HTTP 200 because the turns of the callbacks answered first ran before the rest were read.

`LoopTurns` queues the jobs and runs them from one worker task that yields to the loop after
each job, so between two turns the loop polls its sockets and runs whatever is ready: an ack,
a reply going out, a timer. Jobs still run one at a time and in the order they were queued,
which is what they did before (SQLite has one writer; the loop one thread).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass
class _LoopQueue:
    """The jobs waiting on one event loop, and the task running them."""

    jobs: deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None


class LoopTurns:
    """Runs `work()` on the running event loop, after the jobs queued before it, and yields
    to the loop after each job."""

    def __init__(self) -> None:
        # one queue per event loop: tests and `asyncio.run` callers start fresh loops
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, work: Callable[[], R]) -> R:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _LoopQueue()
        done: asyncio.Future[R] = loop.create_future()
        queue.jobs.append((work, done))
        if queue.worker is None or queue.worker.done():
            queue.worker = loop.create_task(self._drain(queue))
        return await done

    @staticmethod
    async def _drain(queue: _LoopQueue) -> None:
        try:
            while queue.jobs:
                work, done = queue.jobs.popleft()
                if done.cancelled():  # its caller gave up before its turn came
                    continue
                try:
                    result = work()
                except BaseException as exc:  # the caller gets the error, as if it ran the work
                    done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    done.set_result(result)
                await asyncio.sleep(0)  # one loop pass: sockets polled, ready callbacks run
        except asyncio.CancelledError:  # the loop is shutting down: nobody runs the rest
            while queue.jobs:
                queue.jobs.popleft()[1].cancel()
            raise
