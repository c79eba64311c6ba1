"""A worker stopped with SIGTERM in a rolling release hands what it holds to the others.

Two real `repcoach run` processes serve WeCom from one database. The rep talks to worker A;
WeCom is slow to take A's reply (the simulator holds every send), so the rep's next messages
wait in A's inbox behind it. The admin stops A with SIGTERM, as a rolling release does: A
stops taking messages, gives its turn in progress a short grace, then releases every inbox
and outbox row it holds and says how many in one log line. Worker B takes them at once, not
after A's 5-minute lease: the reply A could not send goes out, then the waiting messages are
answered, each once and in the order the rep sent them.

Either B finds them at its next background pass, or (a B that passes rarely) the rep's next
message, reaching B, brings them along first: the older messages are answered before it.

Telegram likewise, in both modes: the rep's first reply meets the flood limit (429, retry in
two minutes), so the rest wait behind it. In webhook mode a second worker beside A takes
them; in polling mode (one worker per bot) they go out when the worker starts again.
"""

from __future__ import annotations

import asyncio
import os
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
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.telegram_support import TOKEN
from testkit.wecom_support import free_port, shown
from tests.test_wecom_e2e_process import repcoach_command

ROOT = Path(__file__).resolve().parent.parent
REP = "wxstop1"
TOKEN_IN_REPLY = re.compile(r"/(t\d{6})")
HANDED = re.compile(r"wecom stopping: (\d+) messages and (\d+) replies")
TELEGRAM_REP = 5301
TELEGRAM_HANDED = re.compile(r"telegram stopping: (\d+) messages and (\d+) replies")
SECRET = "graceful-stop-secret"
STARTUP_TIMEOUT = 60.0
WAIT = 60.0  # generous on 2 loaded cores, and well inside the 300 s lease


def write_config(workdir: Path, url: str, sim: WecomSimulator, port: int,
                 interval: float) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(f"""\
locale: zh
database: {{url: '{url}'}}
playbooks: {{dir: '{ROOT / "playbooks"}'}}
channels:
  console: {{enabled: false}}
  telegram: {{enabled: false, reminder_interval: {interval}}}
  wecom:
    enabled: true
    corp_id: {sim.corp_id}
    agent_id: {sim.agent_id}
    secret: {sim.secret}
    token: {sim.token}
    encoding_aes_key: {sim.encoding_aes_key}
    api_base_url: {sim.api_base_url}
    listen: 127.0.0.1
    port: {port}
    auto_enroll: true
    reminder_interval: {interval}
""", encoding="utf-8")


async def start_worker(workdir: Path, channel: str = "wecom") -> subprocess.Popen[bytes]:
    """`repcoach run` in `workdir`, once it says it runs; its log is appended to err.log."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", TELEGRAM_BOT_TOKEN=TOKEN)
    env.pop("REPCOACH_DATABASE_URL", None)
    with (workdir / "out.log").open("wb") as out, (workdir / "err.log").open("ab") as err:
        process = subprocess.Popen([*repcoach_command(), "--config", "config.yaml", "run"],
                                   cwd=workdir, env=env, stdout=out, stderr=err)
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while f"running: {channel}" not in (workdir / "out.log").read_text():
            assert process.poll() is None, (workdir / "err.log").read_text()
            await asyncio.sleep(0.1)
    return process


async def wait_for(ready: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not ready():
            await asyncio.sleep(0.1)


def write_telegram_config(workdir: Path, url: str, fake: FakeTelegram, mode: str,
                          port: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    serving = (f"listen: 127.0.0.1, port: {port}, secret_token: {SECRET}" if mode == "webhook"
               else "poll_timeout: 1")
    (workdir / "config.yaml").write_text(f"""\
database: {{url: '{url}'}}
playbooks: {{dir: '{ROOT / "playbooks"}'}}
channels:
  console: {{enabled: false}}
  telegram: {{enabled: true, token: '{TOKEN}', base_url: '{fake.base_url}', mode: {mode},
             {serving}, reminder_interval: 0.5}}
""", encoding="utf-8")


def held_rows(url: str, user: str = REP) -> tuple[int, int]:
    """(inbox, outbox) rows of `user` in the store now."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inbox, outbox = (int(connection.execute(text(
                f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": user}).scalar_one())
                for table in ("inbox", "outbox"))
    finally:
        engine.dispose()
    return inbox, outbox


def answered(sim: WecomSimulator) -> list[str]:
    return [token for message in sim.messages_to(REP)
            for token in TOKEN_IN_REPLY.findall(shown(message))]


def answered_on_telegram(fake: FakeTelegram) -> list[str]:
    return [token for message in fake.messages_to(TELEGRAM_REP)
            for token in TOKEN_IN_REPLY.findall(message.text or "")]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("b_passes", ["often", "rarely"])
async def test_a_stopped_worker_hands_its_messages_and_replies_over(
        db_url: str, tmp_path: Path, b_passes: str) -> None:
    async with WecomSimulator() as sim:
        port_a, port_b = free_port(), free_port()
        write_config(tmp_path / "a", db_url, sim, port_a, 0.5)
        write_config(tmp_path / "b", db_url, sim, port_b, 0.5 if b_passes == "often" else 600)
        worker_a = await start_worker(tmp_path / "a")
        worker_b = await start_worker(tmp_path / "b")
        try:
            sim.callback_url = f"http://127.0.0.1:{port_a}/wecom/callback"
            assert await sim.send_text(REP, "你好") == 200  # enrolled on first contact
            assert await sim.wait_until(lambda: len(sim.messages_to(REP)) >= 2, WAIT)
            assert await sim.send_text(REP, "/cancel") == 200  # "你好" began a note
            assert await sim.wait_until(lambda: len(sim.messages_to(REP)) >= 3, WAIT)

            sim.hold_sends()  # WeCom is slow: A's reply to the first message hangs
            for n in range(1, 4):
                assert await sim.send_text(REP, f"/t00000{n}") == 200
            # A ran the first turn (its reply waits in the outbox), the rest wait in its inbox
            await wait_for(lambda: held_rows(db_url)[0] == 2)  # 2 wait behind the first
            await wait_for(lambda: held_rows(db_url)[1] > 0)  # whose replies wait to go
            held = held_rows(db_url)

            worker_a.send_signal(signal.SIGTERM)  # a rolling release stops A
            await wait_for(lambda: worker_a.poll() is not None)
            assert worker_a.returncode == 0
            log = (tmp_path / "a" / "err.log").read_text()
            assert [m.groups() for m in HANDED.finditer(log)] == [(str(held[0]), str(held[1]))]
            assert "never awaited" not in log
            sim.release_sends()

            if b_passes == "rarely":  # the rep's next message reaches B: the older go first
                sim.callback_url = f"http://127.0.0.1:{port_b}/wecom/callback"
                assert await sim.send_text(REP, "/t000004") == 200
                expected = ["t000001", "t000002", "t000003", "t000004"]
            else:
                expected = ["t000001", "t000002", "t000003"]
            await sim.wait_until(lambda: len(answered(sim)) >= len(expected), WAIT)
            await asyncio.sleep(1.0)  # a repeat, were there one, would come now
            assert answered(sim) == expected  # each once, in the rep's order
            assert held_rows(db_url) == (0, 0)
        finally:
            sim.release_sends()
            stop(worker_a)
            stop(worker_b)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_stopped_telegram_worker_hands_its_updates_and_replies_over(
        db_url: str, tmp_path: Path, mode: str) -> None:
    admin = Engine(Database(db_url), load_library(ROOT / "playbooks"))
    code = admin.enroll("代表5301")
    admin.database.dispose()
    async with FakeTelegram(token=TOKEN) as fake:
        port_a, port_b = free_port(), free_port()
        write_telegram_config(tmp_path / "a", db_url, fake, mode, port_a)
        write_telegram_config(tmp_path / "b", db_url, fake, mode, port_b)
        worker_a = await start_worker(tmp_path / "a", "telegram")
        workers = [worker_a]
        if mode == "webhook":  # a second worker beside A behind the load balancer
            workers.append(await start_worker(tmp_path / "b", "telegram"))

        async def send(words: str, port: int) -> None:
            update = fake.user_sends(TELEGRAM_REP, words)
            if mode == "webhook":
                assert await fake.push_webhook_update(
                    update, url=f"http://127.0.0.1:{port}/telegram",
                    secret_token=SECRET) == 200

        try:
            await send(f"/start {code}", port_a)
            await fake.wait_for_messages(TELEGRAM_REP, 3, timeout=WAIT)

            fake.fail_next("sendMessage", 429, retry_after=120)  # the flood limit
            for n in range(1, 4):
                await send(f"/t00000{n}", port_a)
            chat = str(TELEGRAM_REP)
            await wait_for(lambda: held_rows(db_url, chat)[0] == 2)  # 2 wait behind the first
            await wait_for(lambda: held_rows(db_url, chat)[1] > 0)  # whose replies wait to go
            held = held_rows(db_url, chat)

            worker_a.send_signal(signal.SIGTERM)  # a rolling release stops A
            await wait_for(lambda: worker_a.poll() is not None)
            assert worker_a.returncode == 0
            log = (tmp_path / "a" / "err.log").read_text()
            handed = [m.groups() for m in TELEGRAM_HANDED.finditer(log)]
            assert handed == [(str(held[0]), str(held[1]))]
            assert "never awaited" not in log
            if mode == "polling":  # the only worker: they go out when it starts again
                workers.append(await start_worker(tmp_path / "a", "telegram"))

            expected = ["t000001", "t000002", "t000003"]
            await fake.wait_for(lambda: len(answered_on_telegram(fake)) >= len(expected),
                                timeout=WAIT)
            await asyncio.sleep(1.0)  # a repeat, were there one, would come now
            assert answered_on_telegram(fake) == expected  # each once, in the rep's order
            assert held_rows(db_url, chat) == (0, 0)
        finally:
            for worker in workers:
                stop(worker)
