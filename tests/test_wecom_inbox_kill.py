"""WeCom's 200 means "answered, whatever happens next": `repcoach run` in its own process,
20 reps sending 200 messages through the WeCom simulator, the process killed with SIGKILL at
random moments and started again at once. Every message the bot acknowledged is answered
exactly once and in the rep's order; a message the simulator gave up on (WeCom's three tries
all failed while the process was down) is typed again by the rep, as a person would.

Each message is a command the bot does not know ("/k0307"), so its answer quotes it and the
test can tell which message every reply answers."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import signal
import sqlite3
from pathlib import Path

from testkit.fakes.wecom_sim import WecomSimulator
from testkit.wecom_support import free_port
from tests.test_wecom_e2e_process import (
    environment,
    repcoach_command,
    wait_for_line,
    write_config,
)

REPS = 20
MESSAGES_PER_REP = 10
KILLS_AFTER_ACKS = (25, 70, 110, 160)  # a kill follows each of these acknowledgement counts
TOKEN = re.compile(r"/(k\d{4}(?:r\d)?)")


class Bot:
    """The `repcoach run` process, restartable on the same port and database."""

    def __init__(self, tmp_path: Path, sim: WecomSimulator, config: Path) -> None:
        self.tmp_path, self.sim, self.config = tmp_path, sim, config
        self.process: asyncio.subprocess.Process | None = None
        self.stderr: list[bytes] = []

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *repcoach_command(), "--config", str(self.config), "run", cwd=self.tmp_path,
            env=environment(self.sim), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert self.process.stdout is not None
        assert "running: wecom" in await wait_for_line(self.process.stdout, "running:")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self._collect()
        assert self.process.returncode == -signal.SIGKILL

    async def stop(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await self._collect()

    async def _collect(self) -> None:
        assert self.process is not None
        async with asyncio.timeout(30):
            _, err = await self.process.communicate()
        self.stderr.append(err)


async def test_every_acknowledged_message_is_answered_once_across_kills(
        tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "repcoach.sqlite3"
    shutil.copy(sqlite_template, database)
    port = free_port()
    config = tmp_path / "config.yaml"
    write_config(config, database, port)
    rng = random.Random(20261207)
    acknowledged: dict[str, list[str]] = {}  # rep -> tokens the bot answered 200 to
    unacknowledged: list[str] = []
    kills = 0
    async with WecomSimulator(callback_timeout=4.0) as sim:
        sim.callback_url = f"http://127.0.0.1:{port}/wecom/callback"
        bot = Bot(tmp_path, sim, config)
        await bot.start()
        up = asyncio.Event()
        up.set()

        async def rep(number: int) -> None:
            user = f"rep{number:02d}"
            for n in range(MESSAGES_PER_REP):
                token = f"k{number:02d}{n:02d}"
                for attempt in range(20):
                    await up.wait()
                    said = token if attempt == 0 else f"{token}r{min(attempt, 9)}"
                    if await sim.send_text(user, f"/{said}") == 200:
                        acknowledged.setdefault(user, []).append(said)
                        break
                    unacknowledged.append(said)  # the rep saw nothing and types it again
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError(f"{user} never got through with {token}")
                await asyncio.sleep(rng.uniform(0, 0.05))

        async def killer() -> None:
            nonlocal kills
            for threshold in KILLS_AFTER_ACKS:
                while sum(map(len, acknowledged.values())) < threshold:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(rng.uniform(0, 0.04))  # inside a turn, or a send
                await bot.kill()
                kills += 1
                up.clear()
                await asyncio.sleep(rng.uniform(0, 0.3))  # reps typing into a dead bot
                await bot.start()
                up.set()

        try:
            await asyncio.gather(killer(), *(rep(n) for n in range(REPS)))
            expected = sum(map(len, acknowledged.values()))

            def answered() -> dict[str, list[str]]:
                seen: dict[str, list[str]] = {}
                for message in sim.messages:
                    for token in TOKEN.findall(message.content or ""):
                        seen.setdefault(message.touser, []).append(token)
                return seen

            for _ in range(900):
                if sum(len(set(t)) for t in answered().values()) >= expected:
                    break
                await asyncio.sleep(0.1)
            missing = {u: [t for t in ts if t not in answered().get(u, [])]
                       for u, ts in acknowledged.items()}
            assert not any(missing.values()), missing
            await asyncio.sleep(0.5)  # a late duplicate would arrive now
        finally:
            await bot.stop()

    assert kills == len(KILLS_AFTER_ACKS)
    assert sum(map(len, acknowledged.values())) >= REPS * MESSAGES_PER_REP
    seen = answered()
    for user, tokens in acknowledged.items():
        replies = seen.get(user, [])
        for token in tokens:
            assert replies.count(token) == 1, (user, token, replies)
        # in the rep's order; an unacknowledged try may or may not have been answered
        assert [t for t in replies if t in tokens] == tokens, (user, replies)
        assert set(replies) <= set(tokens) | set(unacknowledged), (user, replies)
    assert all(b"Traceback" not in err for err in bot.stderr), b"".join(bot.stderr).decode()
    with sqlite3.connect(database) as db:  # nothing left half-done
        assert db.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)
