"""Part 7: Scaling out: 1, 2 and 3 `repcoach run` workers against one PostgreSQL.

Every worker is `repcoach run` with WeCom only, the same config but its own port, all on one
PostgreSQL database; the WeCom API simulator (bench/wecom_api.py) takes every worker's
replies in a process of its own. WeCom, because its callbacks are plain HTTP posts that a load
balancer spreads over workers as they come (Telegram polling has one consumer per bot).

Each member is a closed loop, like a rep typing the next message once the bot has answered:
it sends a text-message callback, encrypted and signed as WeCom does it, to the next worker
in turn (round robin per member: nothing pins a member to a worker, so one rep's turns run
on every worker, ordered by the row lock on the rep's conversation), waits until its reply
reached the simulator, and sends the next. Each worker count is a run of its own with fresh
processes, after one uncounted message per member (the first run's enrolls the members);
the counts run in the order of `Sizes.scale_workers` (full: 1, 2, 3, 3, 2, 1, so drift on
the shared machine falls on every count alike), and each count is reported over its runs.

Besides turns per second: the CPU per turn in the workers, in the PostgreSQL server (its
postmaster and backends, read from /proc: other PostgreSQL servers on the machine are left
out), in the simulator and in this process (the members), and how busy the machine's cores
were, all jobs counted: when they are near 100 %, a worker more only shares the same cores,
and the machine, not the design, is the limit.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.procs import (
    PYTHON,
    Child,
    cpu_seconds,
    free_port,
    machine_busy_seconds,
    own_cpu_seconds,
    postgres_server_pid,
    repcoach_command,
    settle_heap,
    tree_cpu_seconds,
    write_config,
)
from bench.report import Check, Part, Row
from bench.seed import create_postgres_database
from bench.sizes import Sizes
from bench.stats import Summary, fmt, fmt_ratio, ratio
from bench.wecom_cb import PATH, TEXTS, Corp, build_burst
from coach.store.migrate import upgrade

TITLE = "7. Scaling out"
REPLY_WAIT_S = 20.0  # a member gives up on a reply after this long (counted as failed)
# turns a member sends in one run at most: with up to two messages a turn (and the warm-up's),
# under the WeCom client's 28 messages a minute per member and worker, which would otherwise
# hold replies back and measure the throttle, not the workers
MAX_TURNS = 12


@dataclass
class RunResult:
    """One run at one worker count."""

    workers: int
    turns: int = 0
    failed: int = 0
    seconds: float = math.nan
    latencies: list[float] = field(default_factory=list)
    worker_cpu: float = 0.0
    db_cpu: float = 0.0
    sim_cpu: float = 0.0
    driver_cpu: float = 0.0
    machine_busy: float = math.nan  # share of all cores busy, every job on the machine

    @property
    def throughput(self) -> float:
        return self.turns / self.seconds if self.seconds > 0 else math.nan


@dataclass
class Count:
    """Every run at one worker count, pooled."""

    workers: int
    runs: list[RunResult] = field(default_factory=list)

    def total(self, name: str) -> float:
        return float(sum(getattr(run, name) for run in self.runs))

    @property
    def turns(self) -> int:
        return int(self.total("turns"))

    @property
    def throughput(self) -> float:
        return ratio(self.total("turns"), self.total("seconds"))

    def per_turn_ms(self, name: str) -> float:
        return ratio(self.total(name) * 1000, self.total("turns"))

    @property
    def latency(self) -> Summary:
        return Summary.of([x for run in self.runs for x in run.latencies]).scaled(1000)

    @property
    def machine_busy(self) -> float:
        return ratio(sum(r.machine_busy * r.seconds for r in self.runs), self.total("seconds"))


class Members:
    """The members' closed loops against a set of workers."""

    def __init__(self, corp: Corp, control_url: str, members: list[str]) -> None:
        self.corp = corp
        self.control_url = control_url
        self.members = members
        self.replies = dict.fromkeys(members, 0)  # messages each member has had so far
        self.sent = itertools.count()

    async def turn(self, session: aiohttp.ClientSession, worker_url: str, member: str,
                   text_: str) -> float | None:
        """One message and its reply: seconds from sending to the reply (None: failed)."""
        [callback] = build_burst(self.corp, [member], text_)
        wanted = self.replies[member] + 1
        started = time.monotonic()
        try:
            async with session.post(worker_url, params=callback.params, data=callback.body,
                                    headers={"Content-Type": "text/xml; charset=utf-8"},
                                    timeout=aiohttp.ClientTimeout(total=REPLY_WAIT_S)
                                    ) as response:
                await response.read()
                if response.status != 200:
                    return None
            async with session.get(f"{self.control_url}/wait", params={
                    "user": member, "count": str(wanted), "timeout": str(REPLY_WAIT_S)},
                    timeout=aiohttp.ClientTimeout(total=REPLY_WAIT_S + 5)) as response:
                had = int((await response.json())["count"])
        except (TimeoutError, aiohttp.ClientError):
            return None
        self.replies[member] = had
        return time.monotonic() - started if had >= wanted else None

    async def loop(self, session: aiohttp.ClientSession, urls: list[str], member: int,
                   deadline: float, result: RunResult | None) -> None:
        """Turns until `deadline` (one turn when it is 0), each at the next worker."""
        name = self.members[member]
        for step in itertools.count():
            url = urls[(member + step) % len(urls)]
            took = await self.turn(session, url, name, TEXTS[(member + step) % len(TEXTS)])
            if result is not None:
                if took is None:
                    result.failed += 1
                else:
                    result.turns += 1
                    result.latencies.append(took)
            if time.monotonic() >= deadline or step + 1 >= MAX_TURNS:
                return

    async def drive(self, urls: list[str], seconds: float,
                    result: RunResult | None) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(self.loop(session, urls, n, deadline, result)
                                   for n in range(len(self.members))))


async def one_run(workers: int, members: Members, url: str, corp: Corp, api_base_url: str,
                  sim: Child, postmaster: int, seconds: float, workdir: Path,
                  progress: Callable[[str], None]) -> RunResult:
    """Start `workers` fresh workers, warm them up, drive the members for `seconds`."""
    children: list[Child] = []
    result = RunResult(workers)
    try:
        urls = []
        for number in range(workers):
            port = free_port()
            config = write_config(workdir / f"scale-{number}.yaml", url, wecom={
                "enabled": True, "corp_id": corp.corp_id, "agent_id": corp.agent_id,
                "secret": corp.secret, "token": corp.token,
                "encoding_aes_key": corp.encoding_aes_key, "api_base_url": api_base_url,
                "listen": "127.0.0.1", "port": port, "path": PATH, "auto_enroll": True})
            children.append(await Child.start(
                f"scale-worker-{number}", [*repcoach_command(), "--config", str(config), "run"],
                workdir / f"scale-{workers}-{number}.log"))
            urls.append(f"http://127.0.0.1:{port}{PATH}")
        for child in children:
            await child.wait_line("running", 120)
        await members.drive(urls, 0.0, None)  # one uncounted turn each, on every worker
        settle_heap()
        pids = [child.pid for child in children]
        worker_cpu = sum(cpu_seconds(pid) for pid in pids)
        db_cpu, sim_cpu = tree_cpu_seconds(postmaster), cpu_seconds(sim.pid)
        driver_cpu, (busy, total) = own_cpu_seconds(), machine_busy_seconds()
        started = time.monotonic()
        await members.drive(urls, seconds, result)
        result.seconds = time.monotonic() - started
        result.worker_cpu = sum(cpu_seconds(pid) for pid in pids) - worker_cpu
        result.db_cpu = tree_cpu_seconds(postmaster) - db_cpu
        result.sim_cpu = cpu_seconds(sim.pid) - sim_cpu
        result.driver_cpu = own_cpu_seconds() - driver_cpu
        busy_after, total_after = machine_busy_seconds()
        result.machine_busy = ratio(busy_after - busy, total_after - total)
    finally:
        for child in children:
            await child.stop()
    progress(f"scaling: {workers} worker(s): {result.turns} turns in {result.seconds:.1f} s = "
             f"{result.throughput:.1f} turns/s, {result.failed} failed, workers "
             f"{ratio(result.worker_cpu * 1000, result.turns):.1f} ms CPU/turn, PostgreSQL "
             f"{ratio(result.db_cpu * 1000, result.turns):.1f} ms, machine "
             f"{result.machine_busy:.0%} busy")
    return result


async def run_async(sizes: Sizes, workdir: Path, postgres_url: str | None,
                    postgres_missing: str | None, progress: Callable[[str], None]) -> Part:
    part = Part(TITLE)
    started = time.monotonic()
    if postgres_url is None:
        why = postgres_missing or "PostgreSQL not available"
        part.add(f"Skipped: {why}.", "")
        part.rows = [Row(f"scaling/workers-{n}", {"why": why}, status="skipped")
                     for n in sorted(set(sizes.scale_workers))]
        return part
    url = create_postgres_database(postgres_url, "bench_scale")
    upgrade(url)
    postmaster = postgres_server_pid(url)
    corp = Corp()
    sim = await Child.start("scale-wecom-api", [
        PYTHON, "-m", "bench.wecom_api", "--corp-id", corp.corp_id, "--secret", corp.secret,
        "--agent-id", str(corp.agent_id), "--token", corp.token,
        "--aes-key", corp.encoding_aes_key], workdir / "scale-wecom-api.log")
    counts = {n: Count(n) for n in sorted(set(sizes.scale_workers))}
    try:
        _, api_base_url, control_url = (await sim.wait_line("ready", 60)).split()
        members = Members(corp, control_url,
                          [f"scale{n:04d}" for n in range(sizes.scale_members)])
        for workers in sizes.scale_workers:
            counts[workers].runs.append(await one_run(
                workers, members, url, corp, api_base_url, sim, postmaster,
                sizes.scale_seconds, workdir, progress))
    finally:
        await sim.stop()
    report(list(counts.values()), sizes, part)
    part.seconds = time.monotonic() - started
    return part


def report(counts: list[Count], sizes: Sizes, part: Part) -> None:
    cores = os.cpu_count() or 1
    part.add(
        f"`repcoach run` workers with WeCom only, all on one PostgreSQL database on this "
        f"machine ({cores} cores), the WeCom API simulator in a process of its own. "
        f"{sizes.scale_members} members, each a closed loop (next message once the reply "
        "arrived), every message to the next worker in turn, so one member's turns run on "
        f"every worker; at most {MAX_TURNS} turns a member a run (the WeCom client sends a "
        "member at most 28 messages a minute). "
        f"{sizes.scale_seconds:g} s per run, fresh workers each run, worker "
        f"counts in the order {', '.join(map(str, sizes.scale_workers))} (reported over all "
        "runs of a count). Latency: from sending the callback to the reply reaching the "
        "simulator. CPU per turn: user + system time from /proc; PostgreSQL is the server's "
        "postmaster and backends; \"rest\" is the simulator and the members (this process). "
        "Machine busy: every core, every job on the machine (other jobs shared it). "
        "Reproduce: `.venv/bin/python -m bench --parts scaling` (a PostgreSQL server is "
        "started for the run; `--size medium` runs each count once, `--quick` is a smoke "
        "test).", "")
    one = counts[0]
    body = []
    for count in counts:
        s = count.latency
        rest = count.per_turn_ms("sim_cpu") + count.per_turn_ms("driver_cpu")
        body.append([str(count.workers), str(count.turns), fmt(count.throughput),
                     fmt_ratio(ratio(count.throughput, one.throughput)), fmt(s.p50),
                     fmt(s.p99), fmt(count.per_turn_ms("worker_cpu")),
                     fmt(count.per_turn_ms("db_cpu")), fmt(rest),
                     f"{count.machine_busy:.0%}", str(int(count.total("failed")))])
        part.rows.append(Row(f"scaling/workers-{count.workers}", {
            "runs": len(count.runs), "turns": count.turns,
            "turns_per_s": round(count.throughput, 2),
            "vs_one_worker": round(ratio(count.throughput, one.throughput), 3),
            "p50_ms": round(s.p50, 1), "p99_ms": round(s.p99, 1),
            "worker_cpu_ms_per_turn": round(count.per_turn_ms("worker_cpu"), 2),
            "db_cpu_ms_per_turn": round(count.per_turn_ms("db_cpu"), 2),
            "rest_cpu_ms_per_turn": round(rest, 2),
            "machine_busy": round(count.machine_busy, 3),
            "failed": int(count.total("failed"))}))
    part.table(["workers", "turns", "turns/s", "vs 1 worker", "p50 ms", "p99 ms",
                "workers' CPU ms/turn", "PostgreSQL CPU ms/turn", "rest CPU ms/turn",
                "machine busy", "failed"], body)
    last = counts[-1]
    all_cpu = (last.per_turn_ms("worker_cpu") + last.per_turn_ms("db_cpu")
               + last.per_turn_ms("sim_cpu") + last.per_turn_ms("driver_cpu"))
    part.add(
        f"Reading it: a turn costs about {fmt(last.per_turn_ms('worker_cpu'))} ms of worker "
        f"CPU and {fmt(last.per_turn_ms('db_cpu'))} ms of PostgreSQL CPU ({last.workers} "
        f"workers); with the simulator and the members, {fmt(all_cpu)} ms of this machine's "
        f"CPU, so its {cores} cores can do at most about "
        f"{fmt(ratio(cores * 1000, all_cpu))} turns/s whatever the number of workers. One "
        "worker is one Python process, so one core at most: more workers help until the "
        "cores are busy, and here the measured load generator shares them.", "")
    failed = sum(int(c.total("failed")) for c in counts)
    part.checks.append(Check("scaling out: every member's message answered with 1, 2 and 3 "
                             "workers on one PostgreSQL",
                             f"{sum(c.turns for c in counts)} answered, {failed} failed",
                             failed == 0))


def run(sizes: Sizes, workdir: Path, postgres_url: str | None, postgres_missing: str | None,
        progress: Callable[[str], None]) -> Part:
    return asyncio.run(run_async(sizes, workdir, postgres_url, postgres_missing, progress))
