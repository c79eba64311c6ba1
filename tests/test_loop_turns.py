"""SQLite turns on the event loop leave room for everything else between two turns.

A burst of turns queued at once used to run back to back in one loop pass; a WeCom callback
arriving meanwhile waited for all of them before its HTTP 200 went out.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import ClientSession, web

from coach.store.loop_turns import LoopTurns


def busy(log: list[str], name: str, seconds: float = 0.002) -> str:
    time.sleep(seconds)  # a turn is blocking work on the loop's thread
    log.append(name)
    return name


async def test_jobs_run_in_the_order_they_were_queued_and_return_their_results() -> None:
    turns, log = LoopTurns(), []
    results = await asyncio.gather(*(turns.run(lambda n=n: busy(log, f"turn {n}"))
                                     for n in range(5)))
    assert results == [f"turn {n}" for n in range(5)]
    assert log == results


async def test_other_work_on_the_loop_runs_between_two_turns_of_a_burst() -> None:
    turns, log = LoopTurns(), []
    burst = [asyncio.create_task(turns.run(lambda n=n: busy(log, f"turn {n}")))
             for n in range(30)]

    async def ack() -> None:
        log.append("ack")

    await asyncio.sleep(0)  # the burst is queued and the first turn is about to run
    await asyncio.gather(ack(), *burst)
    assert log.index("ack") <= 2, log[:5]


async def test_an_http_answer_is_not_held_back_by_a_burst_of_turns() -> None:
    """The WeCom case: a server on the same loop answers while 100 turns of 5 ms wait."""
    async def empty(_request: web.Request) -> web.Response:
        return web.Response(text="")

    app = web.Application()
    app.router.add_get("/", empty)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    turns, log = LoopTurns(), []
    try:
        async with ClientSession() as session:
            burst = [asyncio.create_task(turns.run(lambda n=n: busy(log, f"turn {n}", 0.005)))
                     for n in range(100)]
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 200
                log.append("answered")
            await asyncio.gather(*burst)
    finally:
        await runner.cleanup()
    # a few loop passes (accept, read, answer, read the answer) each let one turn in
    assert log.index("answered") < 20, f"answered after {log.index('answered')} turns"


async def test_a_failing_job_raises_in_its_caller_and_the_next_ones_still_run() -> None:
    turns, log = LoopTurns(), []

    def fails() -> str:
        raise ValueError("database is locked")

    first = asyncio.create_task(turns.run(fails))
    second = asyncio.create_task(turns.run(lambda: busy(log, "after")))
    with pytest.raises(ValueError, match="database is locked"):
        await first
    assert await second == "after"


async def test_a_caller_that_gives_up_before_its_turn_does_not_have_it_run() -> None:
    turns, log = LoopTurns(), []
    first = asyncio.create_task(turns.run(lambda: busy(log, "first")))
    abandoned = asyncio.create_task(turns.run(lambda: busy(log, "abandoned")))
    last = asyncio.create_task(turns.run(lambda: busy(log, "last")))
    await asyncio.sleep(0)
    abandoned.cancel()
    await asyncio.gather(first, last)
    assert log == ["first", "last"]
    assert abandoned.cancelled()


def test_each_event_loop_gets_its_own_queue() -> None:
    """`asyncio.run` twice (the CLI, the tests): the second loop is not left waiting on a
    worker of the first, closed one."""
    turns, log = LoopTurns(), []
    assert asyncio.run(turns.run(lambda: busy(log, "first loop"))) == "first loop"
    assert asyncio.run(turns.run(lambda: busy(log, "second loop"))) == "second loop"
