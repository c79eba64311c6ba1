"""A team with a known history, for the manager's funnel and the weekly digests.

Team "east": 赵经理 (manager), 王芳 and 李雷 (reps); 赵六 in team "west". Reps enroll the way
they do on Telegram (/start CODE, user ids as in `USERS`); their customers, stage history
and visits are written through the real store (`RepStore`) at the dates below, so a test
knows every number the funnel and the digest must show. Clock: `tests.conftest.Clock` starts
Sunday 2026-11-22 02:00 UTC (10:00 in Beijing); the first digest is due Monday 2026-11-23
08:30 Beijing time, 00:30 UTC.

Key accounts (tier A or B) of team east, their stage 4 weeks before the clock's start
(2026-10-25) and now:

| rep | customer | hospital | tier | history | move over 4 weeks |
| 王芳 | 李主任 | 泰山医院 | A | interest 10-01, evaluation 11-10 | forward |
| 王芳 | 张医生 | 泰山医院 | B | trial 10-01, evaluation 11-17 | back |
| 王芳 | 陈医生 | 人民医院 | A | interest 10-05 | stalled |
| 李雷 | 吴主任 | 人民医院 | A | awareness 11-18 | new |
| 李雷 | 郑医生 | (none) | B | not diagnosed | - |

Each customer was created at their first stage or visit (郑医生: 2026-11-01).
Not counted: 王芳's 周医生 (tier C, adoption) and 赵六's 钱主任 (team west, tier A).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import select

from coach.engine import Engine
from coach.mailbox import StoredReply
from coach.store.models import QuizResult, Rep
from coach.store.repo import RepStore
from coach.testing import MemoryChat
from testkit.clock import Clock
from testkit.fakes.telegram_api import FakeTelegram
from testkit.telegram_support import TOKEN, TrackedChannel

USERS = {"赵经理": 501, "王芳": 502, "李雷": 503, "赵六": 504}
DIGEST_DUE = datetime(2026, 11, 23, 0, 30)  # Monday 08:30 in Beijing

#: (rep, customer, hospital, tier, [(when, stage)], [visit dates])
CUSTOMERS: list[tuple[str, str, str | None, str, list[tuple[datetime, str]], list[datetime]]] = [
    ("王芳", "李主任", "泰山医院", "A",
     [(datetime(2026, 10, 1), "interest"), (datetime(2026, 11, 10), "evaluation")],
     [datetime(2026, 10, 20)]),
    ("王芳", "张医生", "泰山医院", "B",
     [(datetime(2026, 10, 1), "trial"), (datetime(2026, 11, 17), "evaluation")],
     [datetime(2026, 11, 17)]),
    ("王芳", "陈医生", "人民医院", "A", [(datetime(2026, 10, 5), "interest")],
     [datetime(2026, 11, 20)]),
    ("王芳", "周医生", "人民医院", "C", [(datetime(2026, 11, 1), "adoption")], []),
    ("李雷", "吴主任", "人民医院", "A", [(datetime(2026, 11, 18), "awareness")], []),
    ("李雷", "郑医生", None, "B", [], []),
    ("赵六", "钱主任", "协和医院", "A", [(datetime(2026, 11, 19), "adoption")], []),
]

#: the team funnel of east, as the tables above make it
TEAM_STAGES = {"awareness": 1, "interest": 1, "evaluation": 2, "trial": 0, "adoption": 0}
TEAM_MOVES = {"forward": 1, "back": 1, "stalled": 1, "new": 1}


def _role(name: str) -> dict[str, str]:
    return {"role": "manager", "team": "east"} if name == "赵经理" else {
        "team": "west" if name == "赵六" else "east"}


def enroll_on_wecom(engine: Engine) -> dict[str, str]:
    """Everyone enrolled by an admin with their WeCom UserID ("u" + their `USERS` id)."""
    for name, user in USERS.items():
        engine.enroll(name, wecom_user=f"u{user}", **_role(name))
    return {name: f"u{user}" for name, user in USERS.items()}


def enroll_team(engine: Engine) -> dict[str, MemoryChat]:
    """Everyone enrolled with a code on "telegram" under their `USERS` id; their chats."""
    chats = {}
    for name, user in USERS.items():
        role = _role(name)
        chat = MemoryChat(engine, user_id=str(user), channel="telegram", display_name=name)
        code = engine.enroll(name, **role)
        assert "开通成功" in MemoryChat.text(chat.say(f"/start {code}"))
        chats[name] = chat
    return chats


def write_history(engine: Engine) -> None:
    """The customers, stage history and visits of `CUSTOMERS`."""
    with engine.database.transaction() as session:
        for rep_name, name, hospital, tier, stages, visits in CUSTOMERS:
            rep = session.execute(select(Rep).where(Rep.name == rep_name)).scalar_one()
            store = RepStore(session, rep)
            created = min([when for when, _ in stages] + visits or [datetime(2026, 11, 1)])
            account = store.create_account(name, hospital, None, created)
            account.tier = tier
            for when, stage in stages:
                store.add_stage(account, stage, 0.8, [], 1, when)
            for when in visits:
                store.add_note(account, f"拜访{name}", when)


def add_history(engine: Engine, rep_name: str, name: str, hospital: str | None, tier: str,
                stages: list[tuple[datetime, str]]) -> None:
    """More diagnoses for `name` (a customer of `rep_name`, created with its first stage
    when not there yet), written the way `write_history` writes them."""
    with engine.database.transaction() as session:
        rep = session.execute(select(Rep).where(Rep.name == rep_name)).scalar_one()
        store = RepStore(session, rep)
        account = next((a for a in store.active_accounts() if a.name == name), None)
        if account is None:
            account = store.create_account(name, hospital, None, stages[0][0])
            account.tier = tier
        for when, stage in stages:
            store.add_stage(account, stage, 0.8, [], 1, when)


def take_quiz(engine: Engine, rep_name: str, when: datetime) -> None:
    """A finished thinking-preference quiz, as /quiz stores it."""
    with engine.database.transaction() as session:
        rep = session.execute(select(Rep).where(Rep.name == rep_name)).scalar_one()
        session.add(QuizResult(rep_id=rep.id, playbook_id="quiz", playbook_version=1,
                               scores={"A": 9, "B": 5, "C": 7, "D": 3}, dominant="A",
                               created_at=when))


def visit_with_a_report_and_a_flag(engine: Engine, clock: Clock,
                                   chats: dict[str, MemoryChat]) -> None:
    """The week's extra events: 王芳 takes the quiz and, on Thursday, logs a visit with an
    adverse event and a kickback question (flagged), then sets 陈医生 a follow-up for the
    coming Wednesday. The clock is left on Thursday."""
    take_quiz(engine, "王芳", datetime(2026, 11, 19, 3))
    clock.now = datetime(2026, 11, 19, 3)
    chat = chats["王芳"]
    chat.say("/log")
    chat.say("泰山医院孙主任说有个病人用药后出现皮疹，还问有没有回扣")
    chat.press("保存")
    with engine.database.transaction() as session:
        rep = session.execute(select(Rep).where(Rep.name == "王芳")).scalar_one()
        store = RepStore(session, rep)
        account = next(a for a in store.active_accounts() if a.name == "陈医生")
        store.add_followup(account, None, "送指南摘要", "2026-11-25",
                           datetime(2026, 11, 25, 1), clock())


# the digests on Telegram ----------------------------------------------------------------
DIGEST = "📬"  # how every digest begins


@asynccontextmanager
async def team_telegram() -> AsyncIterator[FakeTelegram]:
    """The Bot API, with everyone of the team in a private chat with the bot."""
    fake = FakeTelegram(token=TOKEN)
    for name, user in USERS.items():
        fake.add_user(user, name)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


def digest_of(fake: FakeTelegram, name: str) -> str:
    """The one digest `name` received."""
    [found] = [m.text for m in fake.messages_to(USERS[name]) if m.text.startswith(DIGEST)]
    return found


class Killed(BaseException):
    """The process dies here (nothing after it in the process runs)."""


class DiesBeforeSending(TrackedChannel):
    """The real channel in a process that is killed the moment a digest, already claimed
    and in the outbox, was to go to Telegram."""

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None:
        raise Killed
