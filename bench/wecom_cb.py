"""Part 3: WeCom callbacks.

`repcoach run` with only WeCom enabled (its reply API pointed at the loopback WeCom simulator
of testkit/fakes/wecom_sim.py, in a process of its own: `bench.wecom_api`) receives bursts of
concurrent encrypted callbacks, built beforehand with `testkit.wecom_messages` exactly as
WeCom builds them: each a text message from a different member.
Measured: the time from sending a callback to its HTTP 200, as WeCom would see it (it retries
after 5 s). RepCoach answers at once and coaches in the background, so the background turns
of a burst compete with the answers of the same burst, as they would in production.

Baseline: RepCoach's own `WebhookServer` in its own process with one route answering an
empty 200 and doing nothing else (`bench.wecom_bare`), hit by the same bursts.

Both servers run at once and take turns: a burst at one, then a burst at the other, so noise
from other jobs on the machine falls on both alike. A first burst at each enrolls the members
(WeCom members are enrolled on first contact) and warms the server up; it is not counted.
After a burst at RepCoach the benchmark waits until every member has had their reply through
the API, so every burst starts on quiet servers.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import secrets
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
    repcoach_command,
    rss_mb,
    settle_heap,
    write_config,
)
from bench.profiling import Sampler, summarize
from bench.report import Check, Part, Row
from bench.stats import Summary, fmt, fmt_ratio, ratio
from bot.wecom import crypto
from coach.store.migrate import upgrade
from testkit.fakes.wecom_sim import random_aes_key
from testkit.wecom_messages import build_envelope, encrypt, text_message_xml

PATH = "/wecom/callback"
RATIO_TARGET = 2.0
ABSOLUTE_LIMIT_S = 5.0
TEXTS = ("今天见了李主任，他对新版指南很感兴趣", "李主任 泰山医院", "下周三", "送指南更新",
         "王医生说想先看看安全性数据", "/menu")
_msg_ids = itertools.count(8_000_000_000_000_000_001)


@dataclass(frozen=True)
class Corp:
    """The WeCom app's credentials, shared by the API simulator, RepCoach and the bursts."""

    corp_id: str = "wwbenchcorp000001"
    agent_id: int = 1000002
    secret: str = "bench-app-secret"
    token: str = "benchCallbackToken"
    encoding_aes_key: str = field(default_factory=random_aes_key)


@dataclass
class Callback:
    user: str
    params: dict[str, str]
    body: bytes


def build_burst(corp: Corp, users: list[str], text: str) -> list[Callback]:
    """One encrypted, signed text-message callback per user, as WeCom POSTs them."""
    burst = []
    now = int(time.time())
    for user in users:
        xml = text_message_xml(to_user=corp.corp_id, from_user=user, create_time=now,
                               content=text, msg_id=str(next(_msg_ids)), agent_id=corp.agent_id)
        encrypted = encrypt(xml, corp.encoding_aes_key, corp.corp_id)
        timestamp, nonce = str(now), str(secrets.randbelow(10**10))
        signature = crypto.signature(corp.token, timestamp, nonce, encrypted)
        body = build_envelope(encrypted, corp.corp_id, corp.agent_id).encode("utf-8")
        burst.append(Callback(user, {"msg_signature": signature, "timestamp": timestamp,
                                     "nonce": nonce}, body))
    return burst


async def fire(url: str, burst: list[Callback], timeout: float) -> list[tuple[int, float]]:
    """Send every callback at once on its own connection; (status, seconds) of each."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    go = asyncio.Event()
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(callback: Callback) -> tuple[int, float]:
            await go.wait()
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                async with session.post(
                        url, params=callback.params, data=callback.body,
                        headers={"Content-Type": "text/xml; charset=utf-8"},
                        timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                    await response.read()
                    return response.status, loop.time() - started
            except (TimeoutError, aiohttp.ClientError):
                return 0, loop.time() - started

        tasks = [asyncio.create_task(one(c)) for c in burst]
        await asyncio.sleep(0)
        go.set()
        return list(await asyncio.gather(*tasks))


@dataclass
class ServerResult:
    name: str
    times: list[float] = field(default_factory=list)
    failures: int = 0
    drain: list[float] = field(default_factory=list)  # burst start -> every reply sent
    cpu: float = 0.0
    rss: float = 0.0

    @property
    def summary(self) -> Summary:
        return Summary.of(self.times).scaled(1000)


@dataclass
class WecomApi:
    """The simulator process: its address for RepCoach, its control address for us."""

    corp: Corp
    child: Child
    base_url: str
    control_url: str

    async def recipients(self, since: int) -> tuple[int, set[str]]:
        """(messages so far, members that messages `since`, ... went to)."""
        async with aiohttp.ClientSession() as session, session.get(
                f"{self.control_url}/recipients", params={"since": str(since)}) as response:
            data = await response.json()
        return int(data["total"]), set(data["users"])

    async def wait_replies(self, users: list[str], since: int, timeout: float) -> float:
        """Seconds until every user has a new message through the API (nan on timeout)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        wanted = set(users)
        while loop.time() - started < timeout:
            if wanted <= (await self.recipients(since))[1]:
                return loop.time() - started
            await asyncio.sleep(0.02)
        return math.nan


@dataclass
class Server:
    result: ServerResult
    child: Child
    url: str
    waits_for_replies: bool
    cpu_start: float = 0.0


async def burst_at(server: Server, api: WecomApi, users: list[str], text: str,
                   counted: bool) -> None:
    """One burst; with `waits_for_replies`, returns once every member has had a reply."""
    burst = build_burst(api.corp, users, text)
    since = (await api.recipients(0))[0] if server.waits_for_replies else 0
    fired = time.monotonic()
    answers = await fire(server.url, burst, timeout=3 * ABSOLUTE_LIMIT_S)
    if counted:
        server.result.times.extend(seconds for status, seconds in answers if status == 200)
        server.result.failures += sum(1 for status, _ in answers if status != 200)
    if server.waits_for_replies:
        left = await api.wait_replies(users, since, timeout=120)
        if counted:
            server.result.drain.append(time.monotonic() - fired if not math.isnan(left)
                                       else left)


async def alternate(servers: list[Server], api: WecomApi, users: list[str],
                    rounds: int) -> None:
    """A warm-up burst each, then `rounds` counted bursts each, alternating servers so that
    noise from elsewhere on the machine falls on both alike."""
    for round_number in range(rounds + 1):
        if round_number == 1:
            for server in servers:
                server.cpu_start = cpu_seconds(server.child.pid)
        order = servers if round_number % 2 else list(reversed(servers))
        for server in order:
            await burst_at(server, api, users, TEXTS[round_number % len(TEXTS)],
                           counted=round_number > 0)
    for server in servers:
        server.result.cpu = cpu_seconds(server.child.pid) - server.cpu_start
        server.result.rss = rss_mb(server.child.pid)[0]


async def run_async(workdir: Path, callbacks: int, rounds: int,
                    progress: Callable[[str], None], profile_dir: Path | None = None) -> Part:
    part = Part("3. WeCom callbacks")
    started = time.monotonic()
    users = [f"member{n:04d}" for n in range(callbacks)]
    database = workdir / "wecom.sqlite3"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    upgrade(url)
    children: list[Child] = []
    sampler: Sampler | None = None
    corp = Corp()
    try:
        api_child = await Child.start("wecom-api", [
            PYTHON, "-m", "bench.wecom_api", "--corp-id", corp.corp_id, "--secret", corp.secret,
            "--agent-id", str(corp.agent_id), "--token", corp.token,
            "--aes-key", corp.encoding_aes_key], workdir / "wecom-api.log")
        children.append(api_child)
        bare_port, repcoach_port = free_port(), free_port()
        bare = await Child.start("wecom-bare", [PYTHON, "-m", "bench.wecom_bare", "--port",
                                                str(bare_port), "--path", PATH],
                                 workdir / "wecom-bare.log")
        children.append(bare)
        _, base_url, control_url = (await api_child.wait_line("ready", 60)).split()
        api = WecomApi(corp, api_child, base_url, control_url)
        config = write_config(workdir / "wecom-config.yaml", url, wecom={
            "enabled": True, "corp_id": corp.corp_id, "agent_id": corp.agent_id,
            "secret": corp.secret, "token": corp.token,
            "encoding_aes_key": corp.encoding_aes_key, "api_base_url": api.base_url,
            "listen": "127.0.0.1", "port": repcoach_port, "path": PATH, "auto_enroll": True})
        repcoach = await Child.start("wecom-repcoach",
                                     [*repcoach_command(), "--config", str(config), "run"],
                                     workdir / "wecom-repcoach.log")
        children.append(repcoach)
        await bare.wait_line("ready", 60)
        await repcoach.wait_line("running", 120)
        if profile_dir is not None:
            sampler = Sampler(repcoach.pid, profile_dir / "wecom-repcoach.txt")
            if not await sampler.start():
                sampler = None
        servers = [
            Server(ServerResult("repcoach"), repcoach,
                   f"http://127.0.0.1:{repcoach_port}{PATH}", waits_for_replies=True),
            Server(ServerResult("bare"), bare, f"http://127.0.0.1:{bare_port}{PATH}",
                   waits_for_replies=False),
        ]
        settle_heap()
        await alternate(servers, api, users, rounds)
    finally:
        if sampler is not None:
            await sampler.stop()
        for child in children:
            await child.stop()
    results = {server.result.name: server.result for server in servers}
    for name, result in results.items():
        s = result.summary
        progress(f"wecom: {name}: p50 {s.p50:.1f} ms, p99 {s.p99:.1f} ms, max {s.max:.1f} ms, "
                 f"{result.failures} failed")
    report(results, callbacks, rounds, part)
    if profile_dir is not None:
        lines = summarize(profile_dir / "wecom-repcoach.txt")
        if lines:
            part.add("Profile of the `repcoach run` process during the bursts (py-spy):", "",
                     *lines)
    part.seconds = time.monotonic() - started
    return part


def report(results: dict[str, ServerResult], callbacks: int, rounds: int, part: Part) -> None:
    part.add(
        f"{rounds} bursts of {callbacks} concurrent encrypted text-message callbacks (each "
        "from a different member, each on its own connection) at each server, the two "
        "servers taking turns, after one uncounted burst each that enrolls the members and "
        "warms the server up; after each RepCoach burst the next waits until every member "
        "has had the reply. Time: from sending a callback to its HTTP 200. RepCoach: "
        "`repcoach run` with WeCom only, on SQLite, replying through "
        "the loopback WeCom simulator, which runs in a process of its own (sharing the "
        "sender's event loop, its work for RepCoach's replies delayed the reading of the "
        "200s it was timing). Baseline: the same `WebhookServer` answering an empty "
        f"200 with no work. Target: RepCoach p99 ≤ {RATIO_TARGET:g}× baseline and far under "
        f"WeCom's {ABSOLUTE_LIMIT_S:g} s.", "")
    bare = results["bare"].summary
    body = []
    for name, label in (("repcoach", "RepCoach (`repcoach run`)"), ("bare", "bare server")):
        result = results[name]
        s = result.summary
        drain = Summary.of([d for d in result.drain if not math.isnan(d)])
        body.append([label, str(s.n), fmt(s.p50), fmt_ratio(ratio(s.p50, bare.p50)), fmt(s.p99),
                     fmt_ratio(ratio(s.p99, bare.p99)), fmt(s.max), str(result.failures),
                     fmt(drain.max) if drain.n else "–", fmt(result.cpu), fmt(result.rss)])
        part.rows.append(Row(f"wecom/{name}", {
            "callbacks": s.n, "p50_ms": round(s.p50, 2), "p99_ms": round(s.p99, 2),
            "max_ms": round(s.max, 2), "p99_ratio": round(ratio(s.p99, bare.p99), 3),
            "failures": result.failures,
            "all_replies_sent_s": round(drain.max, 3) if drain.n else None,
            "cpu_s": round(result.cpu, 2), "rss_mb": round(result.rss, 1)}))
    part.table(["server", "callbacks", "p50 ms", "vs baseline", "p99 ms", "vs baseline",
                "max ms", "failed", "all replies sent (s, worst burst)", "CPU s", "RSS MB"],
               body)
    mine = results["repcoach"].summary
    growth = ratio(mine.p99, bare.p99)
    part.checks.append(Check(f"WeCom: p99 time to 200 ≤ {RATIO_TARGET:g}× bare server",
                             f"{fmt(mine.p99)} vs {fmt(bare.p99)} ms ({fmt_ratio(growth)})",
                             growth <= RATIO_TARGET))
    part.checks.append(Check(f"WeCom: every 200 far under {ABSOLUTE_LIMIT_S:g} s "
                             "(max < 1 s), none failed",
                             f"{fmt(mine.p99)} ms, max {fmt(mine.max)} ms, "
                             f"{results['repcoach'].failures} failed",
                             mine.max < ABSOLUTE_LIMIT_S * 1000 / 5
                             and results["repcoach"].failures == 0))


def run(workdir: Path, callbacks: int, rounds: int, progress: Callable[[str], None],
        profile_dir: Path | None = None) -> Part:
    return asyncio.run(run_async(workdir, callbacks, rounds, progress, profile_dir))
