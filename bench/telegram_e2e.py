"""Part 1: end to end through Telegram.

The real adapter (`bot.telegram.TelegramChannel`, polling, `base_url` at the loopback fake Bot
API) in its own process, on a real engine and store; simulated reps in this process, each
running full coaching cycles as fast as the bot answers (closed loop, no think time): the
quiz (18 button presses, the last one answered with a chart photo); a visit note (one free
text naming the customer, hospital and follow-up, "✅ 保存" on the proposal, then the next
step it offers: accept, no more); /next for the latest customer (accept, no more). Each rep
starts the cycle at a different block, so all kinds of turns are in flight together.

Baseline: a bare python-telegram-bot Application (`bench.tgbot baseline`), same builder
options and polling, on the same fake, replaying for each update exactly the Bot API calls
RepCoach made for it (answerCallbackQuery, edit, send, photo), with no engine, template or
store work. The reps play the same script against it, see the same keyboards, and make the
same number of turns.

Turn latency: from the fake enqueuing the update to the arrival of the bot's last call for
that turn. Throughput: turns / (last turn done − first update enqueued).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import (
    PYTHON,
    Child,
    cpu_seconds,
    own_cpu_seconds,
    postgres_server_pid,
    rss_mb,
    settle_heap,
    tree_cpu_seconds,
)
from bench.profiling import Sampler, summarize
from bench.report import Check, Part, Row
from bench.seed import create_postgres_database, seed, telegram_user
from bench.sizes import Sizes
from bench.stats import Summary, fmt, fmt_ratio, ratio
from bench.tgfake import TOKEN, BenchTelegram, Driver

THROUGHPUT_TARGET = 0.8
NOTES = (  # as a rep writes one: who and where, what happened, what next and when
    "今天见了{h}{n}，他对新版指南很感兴趣，要了两篇文献，下周三送指南更新过去",
    "{h}{n}说科里有两个病人想试试，下周带用法说明过去",
    "{h}{n}关心安全性数据，答应下次带研究摘要",
)
CUSTOMERS = (("欧阳主任", "泰山医院"), ("司马医生", "济南市中心医院"), ("诸葛教授", "青岛人民医院"))


@dataclass
class Budget:
    """How far one rep may go: cycles, seconds from `start()`, and (when replaying) an
    exact turn count."""

    cycles: int
    seconds: float = math.inf
    turns: int | None = None
    deadline: float = math.inf

    def start(self) -> Budget:
        self.deadline = time.monotonic() + self.seconds
        return self

    def allows(self, driver: Driver, chat: int) -> bool:
        if self.turns is not None and driver.turn_counts[chat] >= self.turns:
            return False
        return time.monotonic() < self.deadline


async def _quiz(driver: Driver, chat: int, number: int, go: Callable[[], bool],
                measured: bool) -> None:
    """/quiz, start, 18 answers; the last answer brings the chart photo."""
    if not go():
        return
    await driver.say(chat, "/quiz", "quiz", measured)
    if not go():
        return
    await driver.press(chat, "开始", "quiz", measured)
    for question in range(18):
        if not go():
            return
        kind = "quiz result (chart)" if question == 17 else "quiz"
        await driver.press(chat, (question + number) % 4, kind, measured)


async def _note(driver: Driver, chat: int, number: int, cycle: int, go: Callable[[], bool],
                measured: bool) -> None:
    """A visit note: one free text naming the customer (new the first time) and hospital,
    most with a follow-up date and action; "✅ 保存" on the proposal saves it all; then the
    next step offered at the end of the log. Typed while a question waits (a seeded rep is
    in the middle of the quiz), the note is kept and offered: "📝 先记下这条" logs it. When
    the bot asks which customer is meant (a seeded customer with a similar name at the same
    hospital), one tap on ours, or on "新建：" the first time, saves it the same way."""
    name, hospital = CUSTOMERS[(number + cycle) % len(CUSTOMERS)]
    if not go():
        return
    await driver.say(chat, NOTES[cycle % len(NOTES)].format(n=name, h=hospital), "note",
                     measured)
    if driver.has_button(chat, "先记下这条"):
        if not go():
            return
        await driver.press(chat, "先记下这条", "note", measured)
    if not go():
        return
    if driver.has_button(chat, "✅ 保存"):
        await driver.press(chat, "✅ 保存", "note", measured)
    else:  # "which one is …?": tap our customer, listed, or "新建：" with the same label
        await driver.press(chat, f"{name} · {hospital}", "note", measured)
    if go() and driver.has_button(chat, "看下一步建议"):
        await driver.press(chat, "看下一步建议", "next", measured)
        await _feedback(driver, chat, go, measured)


async def _next(driver: Driver, chat: int, go: Callable[[], bool], measured: bool) -> None:
    """/next for the most recent customer."""
    if not go():
        return
    await driver.say(chat, "/next", "next", measured)
    if go() and driver.fake.keyboard_message(chat) is not None:
        await driver.press(chat, 0, "next", measured)
        await _feedback(driver, chat, go, measured)


async def _feedback(driver: Driver, chat: int, go: Callable[[], bool], measured: bool) -> None:
    for label in ("采纳", "不用了"):
        if not go() or not driver.has_button(chat, label):
            return
        await driver.press(chat, label, "next", measured)


async def coaching_rep(driver: Driver, chat: int, number: int, budget: Budget,
                       measured: bool) -> None:
    """One simulated rep: full coaching cycles (quiz, note, next) until the budget runs out.
    Reps start the cycle at different blocks, so every kind of turn is in flight at once."""
    def go() -> bool:
        return budget.allows(driver, chat)

    for cycle in range(budget.cycles):
        for block in range(3):
            if not go():
                return
            which = (block + number) % 3
            if which == 0:
                await _quiz(driver, chat, number, go, measured)
            elif which == 1:
                await _note(driver, chat, number, cycle, go, measured)
            else:
                await _next(driver, chat, go, measured)


@dataclass
class RunResult:
    name: str
    turns: int
    seconds: float
    latencies: list[float]
    by_kind: dict[str, list[float]]
    bot_cpu: float
    main_cpu: float
    rss: float
    calls: Counter[str]
    api_errors: int
    per_chat: dict[int, int]
    records: list[Any] = field(repr=False, default_factory=list)
    db_cpu: float = 0.0  # the PostgreSQL server's processes, during the measured turns
    runs: list[float] = field(default_factory=list)  # turns/s of each run when merged

    @property
    def throughput(self) -> float:
        return self.turns / self.seconds if self.seconds else math.nan

    @property
    def latency(self) -> Summary:
        return Summary.of(self.latencies).scaled(1000)

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.bot_cpu / self.turns * 1000 if self.turns else math.nan


def merge(first: RunResult, second: RunResult) -> RunResult:
    """Two runs of the same turns as one: throughput over both, latencies pooled."""
    by_kind = {kind: first.by_kind.get(kind, []) + second.by_kind.get(kind, [])
               for kind in set(first.by_kind) | set(second.by_kind)}
    merged = RunResult(
        f"{first.name}+{second.name}", first.turns + second.turns,
        first.seconds + second.seconds, first.latencies + second.latencies, by_kind,
        first.bot_cpu + second.bot_cpu, first.main_cpu + second.main_cpu,
        max(first.rss, second.rss),
        first.calls if first.calls == second.calls else Counter(),  # shows up as DIFFERENT
        first.api_errors + second.api_errors,
        first.per_chat, first.records, first.db_cpu + second.db_cpu)
    merged.runs = [*(first.runs or [first.throughput]), second.throughput]
    return merged


def replay_file(result: RunResult, path: Path) -> None:
    """Every call RepCoach made, per chat and turn, for the baseline to make again."""
    chats: dict[str, list[list[dict[str, Any]]]] = {}
    for record in sorted(result.records, key=lambda r: (r.chat, r.index)):
        calls = []
        for call in record.calls:
            files = {name: {"filename": f.filename,
                            "data": base64.b64encode(f.data).decode("ascii")}
                     for name, f in call.files.items()}
            calls.append({"method": call.method, "params": call.params, "files": files})
        chats.setdefault(str(record.chat), []).append(calls)
    path.write_text(json.dumps({"chats": chats}, ensure_ascii=False), encoding="utf-8")


async def run_bot(name: str, args: list[str], reps: int, budgets: dict[int, Budget],
                  workdir: Path, progress: Callable[[str], None],
                  profile: Path | None = None, postmaster: int = 0) -> RunResult:
    """Start a bot process on a fresh fake, warm it up with one extra rep's cycle, then let
    `reps` reps loose at once."""
    settle_heap()
    async with BenchTelegram() as fake:
        driver = Driver(fake)
        child = await Child.start(
            name, [PYTHON, "-m", "bench.tgbot", *args, "--token", TOKEN,
                   "--base-url", fake.base_url],
            workdir / f"{name}.log", on_line=driver.on_line)
        try:
            await child.wait_line("ready", 120)
            warm = telegram_user(reps + 1)
            await coaching_rep(driver, warm, reps, budgets.get(warm, Budget(1)).start(), False)
            errors_before = fake.errors
            sampler = Sampler(child.pid, profile) if profile is not None else None
            if sampler is not None and not await sampler.start():
                progress("telegram: py-spy not installed, no profile")
                sampler = None
            bot_cpu, main_cpu = cpu_seconds(child.pid), own_cpu_seconds()
            db_cpu = tree_cpu_seconds(postmaster) if postmaster else 0.0
            chats = [telegram_user(n + 1) for n in range(reps)]
            for chat in chats:
                budgets[chat].start()
            await asyncio.gather(*(
                coaching_rep(driver, chat, number, budgets[chat], True)
                for number, chat in enumerate(chats)))
            bot_cpu = cpu_seconds(child.pid) - bot_cpu
            main_cpu = own_cpu_seconds() - main_cpu
            db_cpu = (tree_cpu_seconds(postmaster) if postmaster else 0.0) - db_cpu
            rss = rss_mb(child.pid)[0]
            api_errors = fake.errors - errors_before
            if sampler is not None:
                await sampler.stop()
        finally:
            await child.stop()
    measured = [r for r in driver.records if r.measured]
    seconds = (max(r.done for r in measured) - min(r.enqueued for r in measured)
               if measured else math.nan)
    by_kind: dict[str, list[float]] = {}
    for record in measured:
        by_kind.setdefault(record.kind, []).append(record.latency)
    calls = Counter(c.method for r in measured for c in r.calls)
    result = RunResult(name, len(measured), seconds, [r.latency for r in measured], by_kind,
                       bot_cpu, main_cpu, rss, calls, api_errors,
                       dict(driver.turn_counts), driver.records, db_cpu)
    progress(f"telegram: {name}: {result.turns} turns in {seconds:.1f} s = "
             f"{result.throughput:.1f} turns/s, p50 {result.latency.p50:.1f} ms, "
             f"p99 {result.latency.p99:.1f} ms, bot CPU {result.cpu_ms_per_turn:.1f} ms/turn")
    return result


def _fresh_store(kind: str, sizes: Sizes, workdir: Path, postgres_url: str | None,
                 label: str) -> str:
    if kind == "sqlite":
        path = workdir / f"telegram-{label}.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        assert postgres_url is not None
        url = create_postgres_database(postgres_url, f"bench_tg_{label}")
    seed(url, sizes.tg_book)
    return url


def _budgets(sizes: Sizes, cycles: int, seconds: float,
             counts: dict[int, int] | None) -> dict[int, Budget]:
    """Per rep: `cycles` cycles for at most `seconds`, or (replaying) exactly the turns of
    `counts`, with `seconds` as a safety bound."""
    chats = [telegram_user(n + 1) for n in range(sizes.tg_reps + 1)]
    if counts is None:
        budgets = {chat: Budget(cycles, seconds) for chat in chats}
        budgets[chats[-1]] = Budget(1, turns=sizes.tg_warmup_turns)  # the warm-up rep
        return budgets
    return {chat: Budget(cycles + 1, seconds, counts.get(chat, 0)) for chat in chats}


async def run_async(sizes: Sizes, workdir: Path, postgres_url: str | None,
                    postgres_missing: str | None, progress: Callable[[str], None],
                    profile_dir: Path | None = None) -> Part:
    part = Part("1. End to end through Telegram")
    started = time.monotonic()
    reps = sizes.tg_reps
    runs: dict[str, RunResult] = {}
    replays: dict[str, Path] = {}
    # Without the limiter every rep does a fixed number of cycles, RepCoach first, and
    # the other runs replay its turns exactly: measured, a run cut off by a deadline instead
    # cost the bot 12-20 % more CPU per turn than the same turns run to their end (8.0 and
    # 8.6 against 7.1 ms; every rep busy to the last second), so a time-bound RepCoach run
    # against a replayed baseline was not like for like. With the limiter (30 calls/s) a
    # cycle takes too long, so those two runs are time-bound and the baseline replays.
    for limiter, cycles, seconds in (("none", sizes.tg_cycles, sizes.tg_seconds),
                                     ("aio", sizes.tg_cycles, sizes.tg_limited_seconds)):
        url = _fresh_store("sqlite", sizes, workdir, None, limiter)
        name = f"repcoach-sqlite-{limiter}"
        profiles = profile_dir if limiter == "none" else None
        runs[name] = await run_bot(
            name, ["repcoach", "--db", url, "--limiter", limiter], reps,
            _budgets(sizes, cycles, seconds, None), workdir, progress,
            profiles / f"{name}.txt" if profiles else None)
        replays[limiter] = workdir / f"replay-{limiter}.json"
        replay_file(runs[name], replays[limiter])
        counts = runs[name].per_chat
        name = f"baseline-{limiter}"
        runs[name] = await run_bot(
            name, ["baseline", "--replay", str(replays[limiter]), "--limiter", limiter], reps,
            _budgets(sizes, cycles, 4 * seconds + 60, counts), workdir, progress,
            profiles / f"{name}.txt" if profiles else None)
        if limiter != "none":
            continue
        # Other jobs on a shared machine swing a run by 10-20 %. So, without the limiter,
        # the runs alternate, R B P B R P B (B baseline, R RepCoach on SQLite, P on
        # PostgreSQL): every RepCoach run has a baseline on each side, and each bot is
        # reported over all its runs.
        if postgres_url is not None:
            url = _fresh_store("postgres", sizes, workdir, postgres_url, limiter)
            name = "repcoach-postgres-none"
            runs[name] = await run_bot(
                name, ["repcoach", "--db", url, "--limiter", limiter], reps,
                _budgets(sizes, cycles, 3 * seconds + 60, counts), workdir, progress,
                profiles / f"{name}.txt" if profiles else None, postgres_server_pid(url))
        for round_number in (2, 3):
            if round_number == 3:
                url = _fresh_store("sqlite", sizes, workdir, None, limiter)
                again = await run_bot(
                    "repcoach-sqlite-none-2", ["repcoach", "--db", url, "--limiter", limiter],
                    reps, _budgets(sizes, cycles, 3 * seconds + 60, counts), workdir,
                    progress)
                runs["repcoach-sqlite-none"] = merge(runs["repcoach-sqlite-none"], again)
            if round_number == 3 and postgres_url is not None:
                url = _fresh_store("postgres", sizes, workdir, postgres_url, f"{limiter}_2")
                again = await run_bot(
                    "repcoach-postgres-none-2", ["repcoach", "--db", url, "--limiter", limiter],
                    reps, _budgets(sizes, cycles, 3 * seconds + 60, counts), workdir,
                    progress, postmaster=postgres_server_pid(url))
                runs["repcoach-postgres-none"] = merge(runs["repcoach-postgres-none"], again)
            again = await run_bot(
                f"baseline-none-{round_number}",
                ["baseline", "--replay", str(replays[limiter]), "--limiter", limiter], reps,
                _budgets(sizes, cycles, 4 * seconds + 60, counts), workdir, progress)
            runs["baseline-none"] = merge(runs["baseline-none"], again)
    report(runs, sizes, part, postgres_missing if postgres_url is None else None)
    if profile_dir is not None:
        for name in ("repcoach-sqlite-none", "repcoach-postgres-none", "baseline-none"):
            lines = summarize(profile_dir / f"{name}.txt")
            if lines:
                part.add(f"Profile of the `{name}` bot process (py-spy, measured turns):", "",
                         *lines)
    part.seconds = time.monotonic() - started
    return part


def _same_calls(repcoach: RunResult, baseline: RunResult) -> bool:
    """Every run of either bot made the same calls (a merged result keeps one run's calls,
    or none when its runs differed) and the same number of turns."""
    per_run = repcoach.turns // max(1, len(repcoach.runs))
    return (repcoach.calls == baseline.calls and bool(repcoach.calls)
            and per_run * max(1, len(baseline.runs)) == baseline.turns)


def report(runs: dict[str, RunResult], sizes: Sizes, part: Part,
           postgres_missing: str | None) -> None:
    part.add(
        f"{sizes.tg_reps} simulated reps at once, closed loop (each sends its next update as "
        "soon as the bot has finished the last one), full coaching cycles of three blocks, "
        "each rep starting at a different one: /quiz and 18 button presses (the last answered "
        "with the chart photo); a visit note (one free text naming the customer, hospital and "
        "follow-up, ✅ save on the proposal, then the next step offered: accept, no more); "
        "/next for the latest customer (accept, no more). Each rep does "
        f"{sizes.tg_cycles} cycles, in RepCoach's "
        "first run, and the other runs replay exactly those turns, so every run ends the same "
        "way (reps finishing one by one). One extra rep warms each bot up with one cycle "
        "first (not counted). The "
        "RepCoach bot is `bot.telegram.TelegramChannel` polling the fake, on SQLite (and on "
        "PostgreSQL, same turns); the baseline is a bare python-telegram-bot Application "
        "replaying, per update, the exact Bot API calls RepCoach made for it. Each bot runs "
        "in its own process; the fake and the reps share the benchmark process. Without "
        "the limiter the runs go RepCoach (SQLite), baseline, RepCoach (PostgreSQL), baseline, "
        "RepCoach (SQLite), RepCoach (PostgreSQL), baseline, so each RepCoach bot's runs lie "
        "between baseline runs; each bot is reported over all its runs (a shared machine "
        "swings single runs by 10-20 %).",
        "",
        "**Rate limiter.** The adapter ships with `AIORateLimiter(max_retries=5)`. In PTB 22 "
        "it throttles every call that carries a `chat_id` to 30 per second overall (burst 30); "
        "it has no per-private-chat limit (its per-chat limit, 20 per minute, applies to "
        "groups only) and does not throttle answerCallbackQuery. With it, both bots run into "
        "the same 30 calls/s ceiling, so the comparison measures the limiter, not the bots. "
        "Decision: the main comparison runs **both bots without a rate limiter** (for the "
        "adapter, `bot.telegram.AIORateLimiter` is replaced by `None` inside the bot process "
        "only; nothing else differs), to expose each bot's own cost; a second, shorter pair "
        "of runs uses the shipped limiter on **both** bots to show what production behaves "
        "like.",
        "",
    )
    header = ["bot", "limiter", "turns", "turns/s", "vs baseline", "p50 ms", "vs baseline",
              "p99 ms", "vs baseline", "bot CPU ms/turn", "RSS MB", "API errors"]
    body: list[list[str]] = []
    for limiter in ("none", "aio"):
        baseline = runs.get(f"baseline-{limiter}")
        names = [f"repcoach-sqlite-{limiter}", f"repcoach-postgres-{limiter}",
                 f"baseline-{limiter}"]
        for name in names:
            run = runs.get(name)
            if run is None:
                continue
            base = baseline or run
            throughput_ratio = ratio(run.throughput, base.throughput)
            p50_ratio = ratio(run.latency.p50, base.latency.p50)
            p99_ratio = ratio(run.latency.p99, base.latency.p99)
            label = {"repcoach-sqlite": "RepCoach (SQLite)",
                     "repcoach-postgres": "RepCoach (PostgreSQL)",
                     "baseline": "bare PTB baseline"}[name.rsplit("-", 1)[0]]
            if len(run.runs) > 1:
                label += (f" ({len(run.runs)} runs: " + ", ".join(f"{fmt(r)}" for r in run.runs)
                          + " turns/s)")
            body.append([label, "none" if limiter == "none" else "AIORateLimiter",
                         str(run.turns), fmt(run.throughput), fmt_ratio(throughput_ratio),
                         fmt(run.latency.p50), fmt_ratio(p50_ratio), fmt(run.latency.p99),
                         fmt_ratio(p99_ratio), fmt(run.cpu_ms_per_turn), fmt(run.rss),
                         str(run.api_errors)])
            part.rows.append(Row(f"telegram/{name}", {
                "runs": max(1, len(run.runs)), "turns": run.turns, "seconds": round(run.seconds, 3),
                "turns_per_s": round(run.throughput, 2),
                "throughput_ratio": round(throughput_ratio, 3),
                "p50_ms": round(run.latency.p50, 2), "p99_ms": round(run.latency.p99, 2),
                "bot_cpu_ms_per_turn": round(run.cpu_ms_per_turn, 2),
                "db_server_cpu_ms_per_turn": round(run.db_cpu / run.turns * 1000, 2)
                if run.turns else None,
                "rss_mb": round(run.rss, 1), "api_errors": run.api_errors}))
            if name.startswith("repcoach") and baseline is not None:
                part.checks.append(Check(
                    f"Telegram, {label}, limiter {limiter}: throughput ≥ "
                    f"{THROUGHPUT_TARGET}× baseline",
                    f"{fmt(run.throughput)} vs {fmt(baseline.throughput)} turns/s "
                    f"({fmt_ratio(throughput_ratio)})", throughput_ratio >= THROUGHPUT_TARGET))
    if postgres_missing:
        part.rows.append(Row("telegram/repcoach-postgres-none", {"why": postgres_missing},
                             status="skipped"))
        body.append(["RepCoach (PostgreSQL)", "none", f"skipped: {postgres_missing}", *[""] * 9])
    part.table(header, body)
    plain = runs.get("baseline-none")
    ours = runs.get("repcoach-sqlite-none")
    if plain is not None and ours is not None:
        same = _same_calls(ours, plain)
        calls = ", ".join(f"{k} {v}" for k, v in sorted(ours.calls.items()))
        part.add(f"Bot API calls in the measured turns (no limiter): {calls}; the baseline "
                 f"made {'the same' if same else 'DIFFERENT'} calls "
                 f"({sum(plain.calls.values())} vs {sum(ours.calls.values())}).", "")
        part.add("Latency by turn kind, no limiter (ms, p50 / p99):", "")
        kinds = sorted(ours.by_kind)
        rows = []
        for kind in kinds:
            a = Summary.of(ours.by_kind[kind]).scaled(1000)
            b = Summary.of(plain.by_kind.get(kind, [])).scaled(1000)
            rows.append([kind, str(a.n), f"{fmt(a.p50)} / {fmt(a.p99)}",
                         f"{fmt(b.p50)} / {fmt(b.p99)}", fmt_ratio(ratio(a.p99, b.p99))])
        part.table(["turn kind", "turns", "RepCoach (SQLite)", "baseline", "p99 ratio"], rows)
        runs_note = (f" ({len(plain.runs)} runs, {plain.turns:,} turns)"
                     if len(plain.runs) > 1 else "")
        part.add(f"CPU of the benchmark process (fake Bot API + reps) during the measured "
                 f"turns: {fmt(ours.main_cpu)} s for RepCoach ({ours.turns:,} turns), "
                 f"{fmt(plain.main_cpu)} s for the baseline{runs_note}, against "
                 f"{fmt(ours.bot_cpu)} s and {fmt(plain.bot_cpu)} s in the bot processes.", "")
        on_postgres = runs.get("repcoach-postgres-none")
        if on_postgres is not None and on_postgres.turns:
            per_turn = 1000 / on_postgres.turns
            total = on_postgres.db_cpu + on_postgres.bot_cpu + on_postgres.main_cpu
            part.add(
                "CPU per turn on PostgreSQL, on this machine's "
                f"{os.cpu_count()} cores: {fmt(on_postgres.db_cpu * per_turn)} ms in the "
                f"server's processes, {fmt(on_postgres.bot_cpu * per_turn)} ms in the bot and "
                f"{fmt(on_postgres.main_cpu * per_turn)} ms in the benchmark process, "
                f"{fmt(total * per_turn)} ms of CPU per turn in all against "
                f"{fmt((plain.bot_cpu + plain.main_cpu) / plain.turns * 1000)} ms for the "
                "baseline, which has no database.", "")


def run(sizes: Sizes, workdir: Path, postgres_url: str | None, postgres_missing: str | None,
        progress: Callable[[str], None], profile_dir: Path | None = None) -> Part:
    return asyncio.run(run_async(sizes, workdir, postgres_url, postgres_missing, progress,
                                 profile_dir))
