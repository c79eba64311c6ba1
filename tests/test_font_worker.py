"""A document's font is cut in a helper process (coach/documents/font_worker.py); whatever
happens to that process, the document still goes out with its font."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from coach.documents.font_worker import FontWorker
from coach.documents.fonts import FAMILY

PAGE = "<html><head><title>计划</title></head><body>泰山医院 李主任 下周三带亚组数据</body></html>"


def has_font(html: str) -> bool:
    return f"font-family:'{FAMILY}'" in html and "base64," in html and "泰山医院" in html


def helper_pids(worker: FontWorker) -> list[int]:
    pool = worker._pool  # the one process the worker started
    return [] if pool is None else list(getattr(pool, "_processes", {}) or {})


async def test_the_font_is_cut_in_another_process_which_ends_when_idle() -> None:
    worker = FontWorker(idle_seconds=0.5)
    html = await worker.with_font(PAGE)
    assert has_font(html)
    [pid] = helper_pids(worker)
    assert pid != os.getpid()
    for _ in range(100):  # idle for 0.5 s: the helper is closed
        if worker._pool is None:
            break
        await asyncio.sleep(0.05)
    assert worker._pool is None


async def test_a_helper_killed_between_documents_costs_nothing_but_time(
        caplog: pytest.LogCaptureFixture) -> None:
    """SIGKILL (the OOM killer, an admin) takes the helper: the next document is cut in the
    worker itself, with a warning, and the one after starts a fresh helper."""
    worker = FontWorker(idle_seconds=30)
    try:
        assert has_font(await worker.with_font(PAGE))
        [pid] = helper_pids(worker)
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)  # the pool notices its process is gone
        with caplog.at_level(logging.WARNING, logger="coach.documents.font_worker"):
            assert has_font(await worker.with_font(PAGE))
        assert any("font helper process failed" in r.getMessage() for r in caplog.records)
        assert has_font(await worker.with_font(PAGE))
        [fresh] = helper_pids(worker)
        assert fresh != pid
    finally:
        worker.close()


async def test_a_helper_killed_in_the_middle_of_a_document_still_gives_the_document() -> None:
    worker = FontWorker(idle_seconds=30)
    try:
        assert has_font(await worker.with_font(PAGE))  # the helper is up
        [pid] = helper_pids(worker)
        cutting = asyncio.ensure_future(worker.with_font(PAGE + "<p>第二份</p>"))
        await asyncio.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        html = await cutting
        assert has_font(html) and "第二份" in html
    finally:
        worker.close()
