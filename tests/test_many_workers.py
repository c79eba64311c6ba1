"""Three `repcoach run` workers on one PostgreSQL, as a scaled-out deployment runs them.

Three real processes serve Telegram (webhook mode) and WeCom behind a round-robin balancer on
127.0.0.1, so every rep's messages land on all three in turn. 50 reps (30 on Telegram, 20 on
WeCom) chat like people do, each message answered before the next is typed, while their
follow-up reminders, adverse-event reminders, the manager's escalations and the weekly
nudges fall due: follow-ups and reports written due a couple of seconds ahead, on the
workers' own clock.

First all three run: every message is answered once and in order, and every reminder
reaches its rep exactly once (before background work was claimed, each worker's pass sent
the same due rows: up to three copies). Then a second wave falls due and a worker holding
some of its claims is killed with SIGKILL: the other two take up what it had claimed once
its lease runs out, so every reminder still arrives. A reminder that reached the platform in
the instant of the kill, not yet marked sent, goes again (Telegram cannot drop a repeat):
one such copy is allowed, never more; a chat answer likewise may come twice, never three
times.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from coach.engine import utc_now
from coach.store.database import Database
from coach.store.models import Rep
from coach.store.repo import Directory, RepStore
from testkit.fakes.telegram_api import FakeTelegram
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.telegram_support import TOKEN
from testkit.wecom_support import free_port, shown
from tests.conftest import fresh_postgres
from tests.support.roundrobin import RoundRobin
from tests.test_telegram_process import _repcoach

ROOT = Path(__file__).resolve().parent.parent
SECRET = "many-workers-secret"
TELEGRAM_REPS = [7000 + n for n in range(30)]
WECOM_REPS = [f"wx{n:02d}" for n in range(20)]
MANAGER = 7999
FIRST_WAVE, SECOND_WAVE = 2, 2  # messages each rep types in each part
AE_REPS, OVERDUE_REPS = range(0, 8), range(8, 16)  # indexes into all reps
SECOND_WAVE_FOLLOWUPS = 3  # per rep
INTERVAL = 0.5  # seconds between each worker's background passes
LEASE_SECONDS = 20  # longer than a send takes on 2 loaded cores (6 s let a second worker take a row
#                    still being sent during a full `make test`, and send a nudge twice)
TOKEN_IN_REPLY = re.compile(r"/(t\d{6})")
STARTUP_TIMEOUT = 60.0

Person = int | str  # a Telegram chat id or a WeCom UserID


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres(postgres_server) as url:
        yield url


def worker_config(path: Path, url: str, port: int, interval: float, fake: FakeTelegram,
                  sim: WecomSimulator) -> None:
    path.write_text(f"""\
database: {{url: '{url}'}}
playbooks: {{dir: '{ROOT / "playbooks"}'}}
channels:
  console: {{enabled: false}}
  telegram:
    enabled: true
    token: ${{TELEGRAM_BOT_TOKEN}}
    base_url: {fake.base_url}
    mode: webhook
    listen: 127.0.0.1
    port: {port}
    secret_token: {SECRET}
    reminder_interval: {interval}
    lease_seconds: {LEASE_SECONDS}
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
    reminder_interval: {interval}
    lease_seconds: {LEASE_SECONDS}
""", encoding="utf-8")


async def start_worker(workdir: Path) -> subprocess.Popen[bytes]:
    """`repcoach run` in its own process; its output goes to files read after the test."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", TELEGRAM_BOT_TOKEN=TOKEN)
    env.pop("REPCOACH_DATABASE_URL", None)
    with (workdir / "out.log").open("wb") as out, (workdir / "err.log").open("wb") as err:
        process = subprocess.Popen([*_repcoach(), "--config", "config.yaml", "run"],
                                   cwd=workdir, env=env, stdout=out, stderr=err)
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while "running: telegram, wecom" not in (workdir / "out.log").read_text():
            assert process.poll() is None, (workdir / "err.log").read_text()
            await asyncio.sleep(0.1)
    return process


def enroll_everyone(database: Database) -> None:
    """The admin's part: every rep bound to their chat, one team with a manager, and a
    customer each that is 100 days unreviewed (their weekly nudge is due)."""
    now = utc_now()
    with database.transaction() as session:
        directory = Directory(session)
        manager = directory.create_rep("赵经理", now, role="manager", team="east")
        directory.bind_identity(manager, "telegram", str(MANAGER), now)
        for rep_id in all_reps():
            rep = directory.create_rep(f"代表{rep_id}", now, team="east")
            directory.bind_identity(rep, "telegram" if isinstance(rep_id, int) else "wecom",
                                    str(rep_id), now)
            RepStore(session, rep).create_account(f"老客户{rep_id}", None, None,
                                                  now - timedelta(days=100))


def all_reps() -> list[Person]:
    return [*TELEGRAM_REPS, *WECOM_REPS]


def reminders_due_soon(database: Database, wave: str, followups: int,
                       reports: bool) -> None:
    """Follow-ups (and, in the first wave, adverse events near and past their deadline)
    written to fall due two seconds from now, on the workers' clock."""
    now = utc_now()
    due = now + timedelta(seconds=2)
    with database.transaction() as session:
        reps = {r.name: r for r in session.query(Rep).all()}
        for index, rep_id in enumerate(all_reps()):
            store = RepStore(session, reps[f"代表{rep_id}"])
            for k in range(followups):
                account = store.create_account(f"{wave}客户{rep_id}-{k}", None, None, now)
                store.add_followup(account, None, "再访", "2026-12-08", due, now)
            if reports and index in AE_REPS:  # deadline in 4 hours: the rep is reminded
                store.add_adverse_event(None, None, f"皮疹{rep_id}", now,
                                        timedelta(hours=4, seconds=2), timedelta(hours=4),
                                        report="病人用药后出现皮疹")
            if reports and index in OVERDUE_REPS:  # deadline now: the manager is told
                store.add_adverse_event(None, None, f"腹泻{rep_id}", now,
                                        timedelta(seconds=2), timedelta(0),
                                        report="病人用药后严重腹泻", status="reminded")


class Platforms:
    """What each person sees, on either platform, and how they type."""

    def __init__(self, fake: FakeTelegram, sim: WecomSimulator, balancer: RoundRobin) -> None:
        self.fake, self.sim, self.balancer = fake, sim, balancer
        sim.callback_url = balancer.url + "/wecom/callback"

    def seen(self, who: Person) -> list[str]:
        """Every bot message the person received, as shown. On WeCom a long question with
        buttons comes as its text and then a card titled with its first line: the card is
        left out, so each message counts once. The two are two sends, so with three workers
        another worker's reply may arrive between them: a card pairs with the latest text
        before it that has its first line and no card yet."""
        if isinstance(who, int):
            return [m.text or m.caption or "" for m in self.fake.messages_to(who)
                    if m.from_bot]
        kept: list[str] = []
        unpaired: list[str] = []  # first lines of texts whose card may still come
        for message in self.sim.messages_to(who):
            text = shown(message)
            if message.msgtype == "template_card":
                pair = next((p for p in reversed(unpaired) if text.startswith(p)), None)
                if pair is not None:
                    unpaired.remove(pair)
                    continue
            elif message.msgtype == "text" and message.content is not None:
                unpaired.append(message.content.split("\n")[0][:10])
            kept.append(text)
        return kept

    async def types(self, who: Person, words: str) -> None:
        """The person sends `words`; the platform retries until a worker takes it."""
        for _ in range(20):
            if isinstance(who, int):
                update = self.fake.user_sends(who, words)
                status = await self.fake.push_webhook_update(
                    update, url=self.balancer.url + "/telegram", secret_token=SECRET)
            else:
                status = await self.sim.send_text(who, words)
            if status == 200:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"no worker took {words!r} from {who}")

    def answers(self, who: Person) -> list[str]:
        return [t for shown_text in self.seen(who) for t in TOKEN_IN_REPLY.findall(shown_text)]

    def count(self, who: Person, prefix: str, marker: str = "") -> int:
        return sum(1 for shown_text in self.seen(who)
                   if shown_text.startswith(prefix) and marker in shown_text)


async def eventually(done: Callable[[], bool], what: Callable[[], str],
                     timeout: float = 40.0) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.1)
    assert done(), what()


async def chat(platforms: Platforms, sent: dict[Person, list[str]], part: int,
               messages: int) -> None:
    """Every rep types `messages` unknown commands, each waiting for its answer (the bot
    quotes the command back), all reps at once."""
    async def one(who: Person, number: int) -> None:
        for n in range(messages):
            token = f"t{part}{number:03d}{n:02d}"
            await platforms.types(who, f"/{token}")
            sent[who].append(token)
            await answered(platforms, who, token)

    await asyncio.gather(*(one(who, number) for number, who in enumerate(all_reps())))


async def answered(platforms: Platforms, who: Person, token: str) -> None:
    await eventually(lambda: token in platforms.answers(who),
                     lambda: f"{who}: /{token} not answered: {platforms.seen(who)}")


def outbox_of(database: Database, port: int) -> list[str]:
    """The outbox rows a worker holds now (its names end in its port)."""
    with database.engine.connect() as connection:
        return [str(body) for (body,) in connection.execute(
            text("SELECT body FROM outbox WHERE worker LIKE :name"), {"name": f"%:{port}"})]


async def test_three_workers_answer_everyone_and_send_each_reminder_once(
        postgres_url: str, tmp_path: Path) -> None:
    database = Database(postgres_url)
    enroll_everyone(database)
    ports = [free_port() for _ in range(3)]
    processes: list[subprocess.Popen[bytes]] = []
    async with FakeTelegram(token=TOKEN) as fake, WecomSimulator() as sim, RoundRobin(
            [f"http://127.0.0.1:{port}" for port in ports]) as balancer:
        for rep_id in [*TELEGRAM_REPS, MANAGER]:
            fake.add_user(rep_id, f"代表{rep_id}")
        platforms = Platforms(fake, sim, balancer)
        try:
            for number, port in enumerate(ports):
                workdir = tmp_path / f"worker{number}"
                workdir.mkdir()
                worker_config(workdir / "config.yaml", postgres_url, port, INTERVAL, fake, sim)
            processes = list(await asyncio.gather(
                *(start_worker(tmp_path / f"worker{n}") for n in range(3))))
            sent: dict[Person, list[str]] = {who: [] for who in all_reps()}

            # part 1: all three workers run; reminders fall due while the reps chat
            reminders_due_soon(database, "A", 1, reports=True)
            await chat(platforms, sent, 1, FIRST_WAVE)

            def first_wave_out() -> bool:
                return all(platforms.count(who, "⏰ 跟进提醒", f"A客户{who}-0")
                           for who in all_reps()) and all(
                    platforms.count(MANAGER, "⏰ 不良事件已过截止时间", f"腹泻{all_reps()[i]}")
                    for i in OVERDUE_REPS)

            await eventually(first_wave_out, lambda: "first wave not delivered")
            await asyncio.sleep(2.5)  # two more passes of every worker: nothing more goes
            for index, who in enumerate(all_reps()):
                assert platforms.count(who, "⏰ 跟进提醒", f"A客户{who}-0") == 1, (
                    who, platforms.seen(who))
                assert platforms.count(who, "🚨 不良事件提醒", f"皮疹{who}") == (
                    1 if index in AE_REPS else 0), (who, platforms.seen(who))
                assert platforms.count(who, "🗓 每周客户盘点") == 1, (who, platforms.seen(who))
                assert platforms.answers(who) == sent[who]  # each once, in the rep's order
            for index in OVERDUE_REPS:
                assert platforms.count(MANAGER, "⏰ 不良事件已过截止时间",
                                       f"腹泻{all_reps()[index]}") == 1
            assert len(platforms.seen(MANAGER)) == len(OVERDUE_REPS)
            assert len(set(balancer.forwarded)) == 3  # every worker answered some

            # part 2: a second wave falls due; the worker holding its claims dies
            reminders_due_soon(database, "B", SECOND_WAVE_FOLLOWUPS, reports=False)
            held: list[str] = []
            victim: list[int] = []  # the port of the worker killed

            async def kill_a_worker_holding_claims() -> None:
                async with asyncio.timeout(30):
                    while not victim:
                        for port in ports:
                            bodies = await asyncio.to_thread(outbox_of, database, port)
                            if any("B客户" in body for body in bodies):
                                victim.append(port)
                                break
                        await asyncio.sleep(0.01)
                processes[ports.index(victim[0])].send_signal(signal.SIGKILL)
                held.extend(await asyncio.to_thread(outbox_of, database, victim[0]))

            await asyncio.gather(kill_a_worker_holding_claims(),
                                 chat(platforms, sent, 2, SECOND_WAVE))
            assert processes[ports.index(victim[0])].wait(10) == -signal.SIGKILL
            assert held, "the worker held nothing when it was killed"

            def second_wave_out() -> bool:
                return all(platforms.count(who, "⏰ 跟进提醒", f"B客户{who}-{k}")
                           for who in all_reps() for k in range(SECOND_WAVE_FOLLOWUPS))

            await eventually(second_wave_out, lambda: "second wave not delivered",
                             timeout=LEASE_SECONDS + 20)
            await eventually(lambda: not outbox_of(database, victim[0]),
                             lambda: f"left in the outbox: {outbox_of(database, victim[0])}")
            repeats = Counter({(who, k): platforms.count(who, "⏰ 跟进提醒", f"B客户{who}-{k}")
                               for who in all_reps() for k in range(SECOND_WAVE_FOLLOWUPS)})
            assert sum(repeats.values()) <= len(repeats) + 1, repeats.most_common(3)
            for who in all_reps():
                got = platforms.answers(who)
                assert list(dict.fromkeys(got)) == sent[who], (who, got)  # in order
                assert max(Counter(got).values()) <= 2, (who, got)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(30)
            database.dispose()
    for number in range(3):
        err = (tmp_path / f"worker{number}" / "err.log").read_text()
        assert "Traceback" not in err, err
    assert sorted(p.returncode for p in processes) == [-signal.SIGKILL, 0, 0]  # the rest stop

