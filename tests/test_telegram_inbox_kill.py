"""Telegram polling loses nothing it confirmed: `repcoach run` polling the fake Bot API, five
enrolled reps sending 100 messages, the process killed with SIGKILL at random moments and
started again. Telegram forgets an update once a later getUpdates confirms its offset, so
every update must be stored before that call: at the end every update is confirmed and
every one is answered, in each chat's order.

The Bot API has no way to drop a repeated message, so a reply that reached Telegram in the
instant before a kill, not yet marked sent, goes again after the restart: the test allows
a second copy of an answer, never a third, and never none."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

from coach.engine import Engine
from coach.library import load_library
from coach.store.database import Database
from testkit.fakes.telegram_api import FakeTelegram
from testkit.telegram_support import TOKEN
from tests.test_telegram_process import _cli, _env, _repcoach, write_config

ROOT = Path(__file__).resolve().parent.parent
REPS = [5101, 5102, 5103, 5104, 5105]
MESSAGES_PER_REP = 20
KILLS = 4
TOKEN_IN_REPLY = re.compile(r"/(t\d{6})")


async def start(workdir: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *_repcoach(), "--config", str(workdir / "config.yaml"), "run", cwd=workdir,
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.decode().strip() == "running: telegram"
    return process


async def test_every_confirmed_update_is_answered_across_kills(tmp_path: Path) -> None:
    rng = random.Random(61207)
    async with FakeTelegram(token=TOKEN) as fake:
        write_config(tmp_path, fake)
        _cli(tmp_path, "db", "upgrade")
        admin = Engine(Database(f"sqlite:///{tmp_path}/data/coach.sqlite3"),
                       load_library(ROOT / "playbooks"))
        codes = {rep: admin.enroll(f"代表{rep}") for rep in REPS}
        admin.database.dispose()
        sent: dict[int, list[str]] = {rep: [] for rep in REPS}
        for rep in REPS:
            fake.user_sends(rep, f"/start {codes[rep]}")

        process = await start(tmp_path)
        stderr: list[bytes] = []
        try:
            async def rep_types(rep: int) -> None:
                for n in range(MESSAGES_PER_REP):
                    token = f"t{rep % 100:02d}{n:04d}"
                    fake.user_sends(rep, f"/{token}")
                    sent[rep].append(token)
                    await asyncio.sleep(rng.uniform(0.01, 0.08))

            async def killer() -> None:
                nonlocal process
                for _ in range(KILLS):
                    await asyncio.sleep(rng.uniform(0.2, 0.5))
                    process.send_signal(signal.SIGKILL)
                    stderr.append((await process.communicate())[1])
                    process = await start(tmp_path)

            await asyncio.gather(killer(), *(rep_types(rep) for rep in REPS))

            def answers(rep: int) -> list[str]:
                return [token for message in fake.messages_to(rep) if message.from_bot
                        for token in TOKEN_IN_REPLY.findall(message.text or "")]

            for _ in range(600):
                if not fake.pending_updates() and all(
                        set(answers(rep)) >= set(sent[rep]) for rep in REPS):
                    break
                await asyncio.sleep(0.1)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            stderr.append((await asyncio.wait_for(process.communicate(), 30))[1])

    assert fake.pending_updates() == []  # every update was confirmed to Telegram
    for rep in REPS:
        got = answers(rep)
        missing = [t for t in sent[rep] if t not in got]
        assert not missing, (rep, missing)
        assert max(Counter(got).values()) <= 2, (rep, got)
        assert list(dict.fromkeys(got)) == sent[rep], (rep, got)  # in the rep's order
        welcome = [m for m in fake.messages_to(rep) if m.from_bot and "开通成功" in (m.text or "")]
        assert len(welcome) in (1, 2)
    assert all(b"Traceback" not in err for err in stderr), b"".join(stderr).decode()
