"""Part 4: start-up and footprint.

* First reply: a rep's `/menu` is waiting at the fake Bot API; `repcoach run` (the console
  script, Telegram polling the fake, on the full SQLite store) is started; time from starting
  the process to the fake receiving the reply. Baseline: a bare python-telegram-bot echo bot
  (`bench.tgbot echo`) the same way.
* Playbooks: `coach.library.load_library` (parse with positions, models, validation) in this
  process as a fresh worker (compiled templates and regular expressions forgotten), with
  the validation verdict cached (any start after the first) and without (the first start
  after a deploy), taking turns. Baseline: plain `yaml.safe_load` of the same files (the parser the
  loader is built on, without positions, models or validation).
* Memory: one bot process (`bench.runbot run`: `repcoach run` with the Telegram rate limiter
  removed, or 10,000 turns would take five minutes) on the full store, where every rep's
  conversation row is in the middle of the quiz; every rep sends one message (answering the
  waiting question), 100 at a time. Resident memory (VmRSS, and the peak VmHWM) of that
  process, against its own RSS at its first reply.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, pool, text

from bench.procs import (
    PYTHON,
    ROOT,
    Child,
    children_rss_mb,
    repcoach_command,
    rss_mb,
    validation_cache,
    write_config,
)
from bench.report import Check, Part, Row
from bench.seed import telegram_user
from bench.stats import Summary, fmt, fmt_ratio, ratio
from bench.tgfake import TOKEN, BenchTelegram
from coach.library import load_library
from coach.templating import forget_compiled
from coach.validation_cache import ValidationCache

FIRST_REPLY_LIMIT_S = 2.0
PLAYBOOK_LIMIT_MS = 300.0
MEMORY_LIMIT_MB = 200.0
IN_FLIGHT = 100


def time_playbooks(runs: int, workdir: Path) -> tuple[list[float], list[float], list[float]]:
    """(load_library seconds with the validation verdict cached, the same without a cache,
    plain yaml.safe_load seconds) for `runs` runs each, taking turns."""
    directory = ROOT / "playbooks"
    files = sorted(directory.glob("*.yaml"))
    verdicts = ValidationCache(workdir / "validation-cache")
    load_library(directory, verdicts=verdicts)  # as the first start after a deploy leaves it
    warm: list[float] = []
    cold: list[float] = []
    plain: list[float] = []
    for _ in range(runs):
        for cache, times in ((verdicts, warm), (None, cold)):
            # each run as a fresh worker: no template parsed, no regular expression compiled
            forget_compiled()
            re.purge()
            started = time.perf_counter()
            load_library(directory, verdicts=cache)
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        for file in files:
            yaml.safe_load(file.read_text(encoding="utf-8"))
        plain.append(time.perf_counter() - started)
    return warm, cold, plain


async def first_reply(name: str, command: list[str], fake: BenchTelegram, chat: int,
                      workdir: Path) -> tuple[float, float, Child]:
    """Seconds from starting `command` to its reply to a waiting /menu; its RSS then.
    The process is left running."""
    reply = fake.next_reply(chat)
    fake.user_sends(chat, "/menu", first_name="代表")
    loop = asyncio.get_running_loop()
    started = loop.time()
    child = await Child.start(name, command, workdir / f"{name}.log")
    exited: asyncio.Future[Any] = asyncio.ensure_future(child.process.wait())
    either: list[asyncio.Future[Any]] = [reply, exited]
    await asyncio.wait(either, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if not reply.done():
        exited.cancel()
        await child.stop()
        raise RuntimeError(f"{name}: no reply ({'exited' if exited.done() else 'timeout'}); "
                           f"log: {child.tail()}")
    exited.cancel()
    return reply.result() - started, rss_mb(child.pid)[0], child


async def drive_everyone(fake: BenchTelegram, child: Child, reps: int, deadline: float,
                         progress: Callable[[str], None]
                         ) -> tuple[int, list[tuple[int, float]], float]:
    """One message from every rep (2..reps), IN_FLIGHT at a time, until `deadline`.
    Returns (reps answered, [(reps answered, RSS MB)] along the way, the peak RSS of its
    child processes seen, sampled every 100 answers: the font helper, when documents went
    out)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for rep in range(2, reps + 1):
        queue.put_nowait(rep)
    answered = 0
    curve: list[tuple[int, float]] = [(0, rss_mb(child.pid)[0])]
    step = max(1, reps // 10)
    helpers = children_rss_mb(child.pid)

    async def worker() -> None:
        nonlocal answered, helpers
        while time.monotonic() < deadline:
            try:
                rep = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            chat = telegram_user(rep)
            reply = fake.next_reply(chat)
            fake.user_sends(chat, "1", first_name="代表")
            try:
                await asyncio.wait_for(reply, 30)
            except TimeoutError:
                continue
            answered += 1
            if answered % 100 == 0:
                helpers = max(helpers, children_rss_mb(child.pid))
            if answered % step == 0:
                curve.append((answered, rss_mb(child.pid)[0]))
                if answered % (step * 5) == 0:
                    progress(f"startup: memory: {answered} reps answered")

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    curve.append((answered, rss_mb(child.pid)[0]))
    return answered, curve, max(helpers, children_rss_mb(child.pid))


def _mid_playbook(url: str) -> int:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(
                text("SELECT COUNT(*) FROM conversations WHERE playbook IS NOT NULL")
            ).scalar_one())
    finally:
        engine.dispose()


async def run_async(sizes_runs: int, playbook_runs: int, store_url: str, store_reps: int,
                    memory_seconds: float, workdir: Path,
                    progress: Callable[[str], None]) -> Part:
    part = Part("4. Start-up and footprint")
    started = time.monotonic()
    loads, cold, plain = time_playbooks(playbook_runs, workdir)
    firsts: list[float] = []
    echo_firsts: list[float] = []
    rss_first: list[float] = []
    echo_rss: list[float] = []
    async with BenchTelegram() as fake:
        telegram = {"enabled": True, "token": TOKEN, "base_url": fake.base_url,
                    "mode": "polling"}
        config = write_config(workdir / "telegram-config.yaml", store_url, telegram=telegram)
        # the first start after a deploy: no validation verdict kept yet; the runs after it
        # find the one it left, as every later start of a worker does
        shutil.rmtree(validation_cache(config), ignore_errors=True)
        cold_first, _, child = await first_reply(
            "repcoach-run-cold", [*repcoach_command(), "--config", str(config), "run"], fake,
            telegram_user(1), workdir)
        await child.stop()
        progress(f"startup: first reply without a validation cache {cold_first:.2f} s")
        for run_number in range(sizes_runs):
            seconds, rss, child = await first_reply(
                "repcoach-run", [*repcoach_command(), "--config", str(config), "run"], fake,
                telegram_user(1 + run_number % store_reps), workdir)
            await child.stop()
            firsts.append(seconds)
            rss_first.append(rss)
            seconds, rss, child = await first_reply(
                "echo-bot", [PYTHON, "-m", "bench.tgbot", "echo", "--token", TOKEN,
                             "--base-url", fake.base_url], fake, telegram_user(1), workdir)
            await child.stop()
            echo_firsts.append(seconds)
            echo_rss.append(rss)
            progress(f"startup: first reply {firsts[-1]:.2f} s (echo bot {seconds:.2f} s)")
        before = _mid_playbook(store_url)
        seconds, rss_start, child = await first_reply(
            "memory-bot", [PYTHON, "-m", "bench.runbot", "--config", str(config), "run"],
            fake, telegram_user(1), workdir)
        try:
            answered, curve, helper_mb = await drive_everyone(
                fake, child, store_reps, time.monotonic() + memory_seconds, progress)
            rss_end, peak = rss_mb(child.pid)
        finally:
            await child.stop()
        after = _mid_playbook(store_url)
    progress(f"startup: memory {rss_start:.0f} MB -> {rss_end:.0f} MB (peak {peak:.0f}) after "
             f"{answered + 1} reps")
    report(part, loads, cold, plain, cold_first, firsts, echo_firsts, rss_first, echo_rss,
           rss_start, rss_end, peak, answered + 1, store_reps, curve, before, after, helper_mb)
    part.seconds = time.monotonic() - started
    return part


def report(part: Part, loads: list[float], cold: list[float], plain: list[float],
           cold_first: float, firsts: list[float],
           echo_firsts: list[float], rss_first: list[float], echo_rss: list[float],
           rss_start: float, rss_end: float, peak: float, answered: int, reps: int,
           curve: list[tuple[int, float]], mid_before: int, mid_after: int,
           helper_mb: float) -> None:
    load = Summary.of(loads).scaled(1000)
    uncached = Summary.of(cold).scaled(1000)
    base = Summary.of(plain).scaled(1000)
    first = statistics.median(firsts) if firsts else math.nan
    echo = statistics.median(echo_firsts) if echo_firsts else math.nan
    part.add(
        "First reply: a `/menu` waits at the fake Bot API, then `repcoach run` is started "
        "(console script, Telegram polling, full SQLite store); time from process start to the "
        "reply reaching the fake; once without a playbook validation verdict kept (the first "
        "start after a deploy), then the timed runs, which find the verdict it left. "
        "Baseline: a bare python-telegram-bot echo bot, same way. "
        "Playbooks: `load_library` in process, as a fresh worker (no template parsed, no "
        "regular expression compiled before), with the validation verdict cached as any start "
        "after the first finds it (coach/validation_cache.py), and without a cache (the first "
        "start after a deploy; `repcoach check` always validates so). Memory: one bot "
        "process on the full "
        f"store, every rep's conversation mid-quiz; each of the {reps:,} reps sends one "
        f"message ({IN_FLIGHT} at a time; this process runs `repcoach run` with the rate "
        "limiter removed, see `bench/runbot.py`). RSS against the same process at its first "
        "reply.", "")
    body = [
        ["first reply after `repcoach run` (median of "
         f"{len(firsts)})", f"{fmt(first, 2)} s", f"bare PTB echo bot {fmt(echo, 2)} s",
         fmt_ratio(ratio(first, echo)), f"< {FIRST_REPLY_LIMIT_S:g} s"],
        ["first reply, first start after a deploy (no validation verdict kept; 1 run)",
         f"{fmt(cold_first, 2)} s", f"bare PTB echo bot {fmt(echo, 2)} s",
         fmt_ratio(ratio(cold_first, echo)), ""],
        [f"playbook load, validation verdict cached (p50 / max of {load.n})",
         f"{fmt(load.p50)} / {fmt(load.max)} ms",
         f"plain yaml.safe_load {fmt(base.p50)} ms", fmt_ratio(ratio(load.p50, base.p50)),
         f"< {PLAYBOOK_LIMIT_MS:g} ms"],
        [f"playbook load + full validation, no cache (p50 / max of {uncached.n})",
         f"{fmt(uncached.p50)} / {fmt(uncached.max)} ms",
         f"plain yaml.safe_load {fmt(base.p50)} ms",
         fmt_ratio(ratio(uncached.p50, base.p50)), ""],
        [f"RSS after {answered:,} of {reps:,} reps answered (peak)",
         f"{fmt(rss_end)} MB ({fmt(peak)} MB)", f"same process at first reply {fmt(rss_start)} MB",
         fmt_ratio(ratio(peak, rss_start)), f"< {MEMORY_LIMIT_MB:g} MB"],
        ["RSS at first reply, `repcoach run`", f"{fmt(statistics.median(rss_first))} MB"
         if rss_first else "–", f"bare PTB echo bot {fmt(statistics.median(echo_rss))} MB"
         if echo_rss else "–",
         fmt_ratio(ratio(statistics.median(rss_first), statistics.median(echo_rss)))
         if rss_first and echo_rss else "–", ""],
    ]
    part.table(["figure", "RepCoach", "baseline", "ratio", "target"], body)
    part.add("RSS while the reps were answered: " + ", ".join(
        f"{n:,} reps {fmt(mb)} MB" for n, mb in curve) + ".",
        f"Its child processes (the font helper that cuts documents' fonts, which ends when "
        f"idle: coach/documents/font_worker.py), not in the figures above: peak "
        f"{fmt(helper_mb)} MB seen.",
        f"Conversation rows mid-playbook in the store: {mid_before:,} before, {mid_after:,} "
        "after.", "")
    part.rows.append(Row("startup/first_reply", {
        "median_s": round(first, 3), "runs": len(firsts), "echo_bot_s": round(echo, 3),
        "no_cache_s": round(cold_first, 3),
        "ratio": round(ratio(first, echo), 3)}))
    part.rows.append(Row("startup/playbooks", {
        "p50_ms": round(load.p50, 1), "max_ms": round(load.max, 1),
        "uncached_p50_ms": round(uncached.p50, 1), "uncached_max_ms": round(uncached.max, 1),
        "yaml_safe_load_ms": round(base.p50, 1), "ratio": round(ratio(load.p50, base.p50), 3)}))
    part.rows.append(Row("startup/memory", {
        "reps": reps, "reps_answered": answered, "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1), "peak_mb": round(peak, 1),
        "ratio": round(ratio(peak, rss_start), 3), "mid_playbook_rows": mid_after,
        "children_peak_mb": round(helper_mb, 1)}))
    part.checks.append(Check(f"first reply after `repcoach run` < {FIRST_REPLY_LIMIT_S:g} s "
                             "(median)",
                             f"{fmt(first, 2)} s (max {fmt(max(firsts, default=math.nan), 2)} s)",
                             first < FIRST_REPLY_LIMIT_S))
    part.checks.append(Check(f"playbook load, validation verdict cached < "
                             f"{PLAYBOOK_LIMIT_MS:g} ms (p50)",
                             f"p50 {fmt(load.p50)} ms, max {fmt(load.max)} ms (no cache: p50 "
                             f"{fmt(uncached.p50)} ms)",
                             load.p50 < PLAYBOOK_LIMIT_MS))
    part.checks.append(Check(
        f"resident memory with {reps:,} reps mid-playbook < {MEMORY_LIMIT_MB:g} MB",
        f"peak {fmt(peak)} MB after {answered:,} reps", peak < MEMORY_LIMIT_MB))


def run(sizes_runs: int, playbook_runs: int, store_url: str, store_reps: int,
        memory_seconds: float, workdir: Path, progress: Callable[[str], None]) -> Part:
    return asyncio.run(run_async(sizes_runs, playbook_runs, store_url, store_reps,
                                 memory_seconds, workdir, progress))
