"""Telegram, polling and webhook: a worker stopped with SIGTERM hands over what it holds.

The rep's first reply meets Telegram's flood limit (429, retry in a minute), so the worker's
turn for it waits to send, and the rep's next updates wait in the inbox behind it. SIGTERM
(a rolling release): the worker stops taking updates, gives the waiting turn a short grace,
releases every inbox and outbox row it holds and logs how many. In webhook mode a second
worker, running beside it, takes them at its next pass; in polling mode (one worker per
bot) they go out when the worker starts again. Either way each is answered once, in order,
long before the 5-minute lease would have freed them.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coach.engine import Engine
from coach.library import load_library
from coach.store.database import Database
from testkit.fakes.telegram_api import FakeTelegram
from testkit.telegram_support import TOKEN
from testkit.wecom_support import free_port
from tests.test_telegram_process import _env, _repcoach

ROOT = Path(__file__).resolve().parent.parent
REP = 5301
SECRET = "graceful-stop-secret"
TOKEN_IN_REPLY = re.compile(r"/(t\d{6})")
HANDED = re.compile(r"telegram stopping: (\d+) messages and (\d+) replies")
STARTUP_TIMEOUT = 60.0
WAIT = 60.0  # generous on 2 loaded cores, and well inside the 300 s lease


def write_config(workdir: Path, url: str, fake: FakeTelegram, mode: str, port: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    webhook = (f"    listen: 127.0.0.1\n    port: {port}\n    secret_token: {SECRET}\n"
               if mode == "webhook" else "    poll_timeout: 1\n")
    (workdir / "config.yaml").write_text(
        f"database: {{url: '{url}'}}\n"
        f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n"
        "channels:\n"
        "  console: {enabled: false}\n"
        "  telegram:\n"
        "    enabled: true\n"
        "    token: ${TELEGRAM_BOT_TOKEN}\n"
        f"    base_url: {fake.base_url}\n"
        f"    mode: {mode}\n"
        f"{webhook}"
        "    reminder_interval: 0.5\n", encoding="utf-8")


async def start_worker(workdir: Path) -> subprocess.Popen[bytes]:
    with (workdir / "out.log").open("wb") as out, (workdir / "err.log").open("ab") as err:
        process = subprocess.Popen([*_repcoach(), "--config", "config.yaml", "run"],
                                   cwd=workdir, env=_env(), stdout=out, stderr=err)
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while "running: telegram" not in (workdir / "out.log").read_text():
            assert process.poll() is None, (workdir / "err.log").read_text()
            await asyncio.sleep(0.1)
    return process


async def wait_for(ready: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not ready():
            await asyncio.sleep(0.1)


def held_rows(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            counts = [int(connection.execute(text(
                f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": str(REP)}
            ).scalar_one()) for table in ("inbox", "outbox")]
    finally:
        engine.dispose()
    return counts[0], counts[1]


def answered(fake: FakeTelegram) -> list[str]:
    return [token for message in fake.messages_to(REP)
            for token in TOKEN_IN_REPLY.findall(message.text or "")]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_stopped_telegram_worker_hands_its_updates_and_replies_over(
        db_url: str, tmp_path: Path, mode: str) -> None:
    admin = Engine(Database(db_url), load_library(ROOT / "playbooks"))
    code = admin.enroll("代表5301")
    admin.database.dispose()
    async with FakeTelegram(token=TOKEN) as fake:
        port_a, port_b = free_port(), free_port()
        write_config(tmp_path / "a", db_url, fake, mode, port_a)
        write_config(tmp_path / "b", db_url, fake, mode, port_b)
        worker_a = await start_worker(tmp_path / "a")
        workers = [worker_a]
        if mode == "webhook":  # a second worker beside A behind the load balancer
            workers.append(await start_worker(tmp_path / "b"))

        async def send(words: str, port: int) -> None:
            update = fake.user_sends(REP, words)
            if mode == "webhook":
                assert await fake.push_webhook_update(
                    update, url=f"http://127.0.0.1:{port}/telegram",
                    secret_token=SECRET) == 200

        try:
            await send(f"/start {code}", port_a)
            await fake.wait_for_messages(REP, 3, timeout=WAIT)

            fake.fail_next("sendMessage", 429, retry_after=120)  # the flood limit
            for n in range(1, 4):
                await send(f"/t00000{n}", port_a)
            await wait_for(lambda: held_rows(db_url)[0] == 2)  # 2 wait behind the first
            await wait_for(lambda: held_rows(db_url)[1] > 0)  # whose replies wait to go
            held = held_rows(db_url)

            worker_a.send_signal(signal.SIGTERM)  # a rolling release stops A
            await wait_for(lambda: worker_a.poll() is not None)
            assert worker_a.returncode == 0
            log = (tmp_path / "a" / "err.log").read_text()
            assert [m.groups() for m in HANDED.finditer(log)] == [(str(held[0]), str(held[1]))]
            assert "never awaited" not in log
            if mode == "polling":  # the only worker: they go out when it starts again
                workers.append(await start_worker(tmp_path / "a"))

            expected = ["t000001", "t000002", "t000003"]
            await fake.wait_for(lambda: len(answered(fake)) >= len(expected), timeout=WAIT)
            await asyncio.sleep(1.0)  # a repeat, were there one, would come now
            assert answered(fake) == expected  # each once, in the rep's order
            assert held_rows(db_url) == (0, 0)
        finally:
            for worker in workers:
                stop(worker)
