"""The weekly digest: due at its configured day and hour in company time, sent exactly once a
week to each manager (the team's week) and rep (their own), across restarts, a crash between
the claim and the delivery, and two workers passing at once.

The clock is injected (tests.conftest.Clock); the reminder pass is the runner's own
(`send_due_reminders`); the digests go through the real Telegram adapter against the
loopback Bot API, and once through the real WeCom channel against its simulator. Store on
both backends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import AppConfig, ConfigError, load_config
from bot.runner import Channel, send_due_reminders
from coach.digest import manager_digest
from coach.digest_schedule import last_due, week_of
from coach.engine import Engine
from coach.library import Library
from coach.settings import DigestSettings, EngineSettings
from coach.store.database import Database
from coach.store.models import DigestSend, FollowUp, OutboxReply, Rep
from coach.store.repo import RepStore
from coach.testing import MemoryChat
from testkit.fakes.telegram_api import FakeTelegram
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.telegram_support import running_bot, telegram_config
from testkit.wecom_support import running_channel, shown
from tests.conftest import Clock
from tests.team_support import (
    DIGEST,
    DIGEST_DUE,
    USERS,
    DiesBeforeSending,
    Killed,
    digest_of,
    enroll_on_wecom,
    enroll_team,
    team_telegram,
    visit_with_a_report_and_a_flag,
    write_history,
)


@pytest.fixture
def settings() -> EngineSettings:
    """As `repcoach run` has it: digests on (config.yaml's default), Monday 08:30."""
    return AppConfig().engine_settings()


# when it is due ---------------------------------------------------------------------------
def test_the_digest_moment_is_the_configured_weekday_and_time_in_company_time() -> None:
    monday = DigestSettings()  # Monday 08:30, Beijing (UTC+8)
    assert last_due(datetime(2026, 11, 23, 0, 30), monday, 8) == datetime(2026, 11, 23, 0, 30)
    assert last_due(datetime(2026, 11, 23, 0, 29), monday, 8) == datetime(2026, 11, 16, 0, 30)
    assert last_due(datetime(2026, 11, 29, 23, 0), monday, 8) == datetime(2026, 11, 23, 0, 30)
    assert week_of(datetime(2026, 11, 23, 0, 30), 8) == "2026-W48"
    assert week_of(datetime(2026, 11, 16, 0, 30), 8) == "2026-W47"
    # Sunday 20:00 Beijing is Sunday 12:00 UTC; the week is named by the local date
    sunday = DigestSettings(weekday=6, hour=20, minute=0)
    assert last_due(datetime(2026, 11, 29, 12, 0), sunday, 8) == datetime(2026, 11, 29, 12, 0)
    assert last_due(datetime(2026, 11, 29, 11, 59), sunday, 8) == datetime(2026, 11, 22, 12, 0)
    # 00:15 on Monday in Beijing is still Sunday in UTC
    early = DigestSettings(weekday=0, hour=0, minute=15)
    assert last_due(datetime(2026, 11, 22, 16, 15), early, 8) == datetime(2026, 11, 22, 16, 15)
    assert week_of(datetime(2026, 11, 22, 16, 15), 8) == "2026-W48"


def test_the_day_and_hour_come_from_config_yaml(tmp_path: Any) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("digest: {day: friday, time: '17:05', stalled_visit_days: 10, "
                    "stalled_stage_weeks: 3}\n", encoding="utf-8")
    settings = load_config(path).engine_settings().digest
    assert settings == DigestSettings(enabled=True, weekday=4, hour=17, minute=5,
                                      stalled_visit_days=10, stalled_stage_weeks=3)
    assert AppConfig().engine_settings().digest == DigestSettings(enabled=True)  # Mon 08:30
    for bad in ("day: someday", "time: '25:00'", "time: 'half past eight'"):
        path.write_text(f"digest: {{{bad}}}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="digest"):
            load_config(path)


# helpers ----------------------------------------------------------------------------------
def digests(fake: FakeTelegram) -> Counter[str]:
    """How many digests each person received."""
    names = {user: name for name, user in USERS.items()}
    return Counter(names[m.chat_id] for user in USERS.values()
                   for m in fake.messages_to(user) if m.text.startswith(DIGEST))


def restarted(engine: Engine, library: Library, settings: EngineSettings,
              clock: Clock) -> Engine:
    """The same store, as a new process sees it."""
    return Engine(Database(engine.database.url), library, settings, clock=clock)


def claimed(database: Database) -> list[tuple[str, str, bool]]:
    with database.transaction() as session:
        return [(name, week, sent is not None) for name, week, sent in session.execute(
            select(Rep.name, DigestSend.week, DigestSend.sent_at)
            .join(Rep, Rep.id == DigestSend.rep_id).order_by(DigestSend.week, Rep.id)).all()]


def outbox(database: Database) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(OutboxReply)).scalar_one())


EVERYONE = {"赵经理": 1, "王芳": 1, "李雷": 1, "赵六": 1}


# exactly once -----------------------------------------------------------------------------
async def test_before_due_nothing_then_once_across_restarts_then_again_next_week(
        engine: Engine, library: Library, settings: EngineSettings, clock: Clock) -> None:
    enroll_team(engine)
    write_history(engine)
    clock.now = DIGEST_DUE - timedelta(minutes=1)
    async with team_telegram() as fake:
        async with running_bot(fake, engine) as bot:
            assert await send_due_reminders(engine, {"telegram": bot}) == 0
        assert digests(fake) == {} and claimed(engine.database) == []
        # restarted just before it is due; the next pass is at the hour
        clock.now = DIGEST_DUE
        second = restarted(engine, library, settings, clock)
        async with running_bot(fake, second) as bot:
            assert await send_due_reminders(second, {"telegram": bot}) == 4
            clock.advance(seconds=30)
            assert await send_due_reminders(second, {"telegram": bot}) == 0
        assert digests(fake) == EVERYONE
        # restarted while it is still due (the same morning): nothing again
        clock.advance(minutes=20)
        third = restarted(engine, library, settings, clock)
        async with running_bot(fake, third) as bot:
            assert await send_due_reminders(third, {"telegram": bot}) == 0
            assert digests(fake) == EVERYONE
            # the next week: once more each
            clock.now = DIGEST_DUE + timedelta(days=7)
            assert await send_due_reminders(third, {"telegram": bot}) == 4
            assert await send_due_reminders(third, {"telegram": bot}) == 0
        assert digests(fake) == {name: 2 for name in EVERYONE}
    assert [(n, w) for n, w, _ in claimed(engine.database)] == [
        *((n, "2026-W48") for n in EVERYONE), *((n, "2026-W49") for n in EVERYONE)]
    assert all(sent for _, _, sent in claimed(engine.database))
    assert outbox(engine.database) == 0


async def test_a_crash_after_the_claim_delivers_the_digest_on_restart(
        engine: Engine, library: Library, settings: EngineSettings, clock: Clock) -> None:
    enroll_team(engine)
    write_history(engine)
    clock.now = DIGEST_DUE
    async with team_telegram() as fake:
        dying = DiesBeforeSending(telegram_config(fake), engine)
        await dying.start()
        try:
            with pytest.raises(Killed):
                await send_due_reminders(engine, {"telegram": dying})
        finally:
            await dying.stop()
        assert digests(fake) == {}
        assert claimed(engine.database) == [("赵经理", "2026-W48", False)]
        assert outbox(engine.database) == 1  # claimed, not sent: waiting in the outbox
        clock.advance(minutes=1)
        again = restarted(engine, library, settings, clock)
        async with running_bot(fake, again) as bot:
            # the restarted channel sends what the outbox holds as it starts
            await fake.wait_for(lambda: digests(fake)["赵经理"] == 1, 10.0,
                                what="the manager's digest from the outbox")
            assert await send_due_reminders(again, {"telegram": bot}) == 3  # the others
            assert await send_due_reminders(again, {"telegram": bot}) == 0
        assert digests(fake) == EVERYONE
    assert outbox(engine.database) == 0
    assert "📬 east 团队周报" in digest_of(fake, "赵经理")


async def test_a_digest_telegram_refused_for_now_waits_in_the_outbox_for_the_next_start(
        engine: Engine, library: Library, settings: EngineSettings, clock: Clock) -> None:
    enroll_team(engine)
    write_history(engine)
    clock.now = DIGEST_DUE
    async with team_telegram() as fake:
        # the manager's, the first to go: its detail rides as a file, the text as its caption
        fake.fail_next("sendDocument", status=502)
        async with running_bot(fake, engine) as bot:
            assert await send_due_reminders(engine, {"telegram": bot}) == 3
            assert await send_due_reminders(engine, {"telegram": bot}) == 0  # claimed
        assert digests(fake) == {"王芳": 1, "李雷": 1, "赵六": 1}
        assert outbox(engine.database) == 1
        clock.advance(minutes=5)
        again = restarted(engine, library, settings, clock)
        async with running_bot(fake, again):
            await fake.wait_for(lambda: digests(fake)["赵经理"] == 1, 10.0,
                                what="the manager's digest from the outbox")
        assert digests(fake) == EVERYONE
    assert outbox(engine.database) == 0


async def test_two_workers_passing_at_once_send_each_digest_once(
        engine: Engine, library: Library, settings: EngineSettings, clock: Clock) -> None:
    enroll_team(engine)
    write_history(engine)
    clock.now = DIGEST_DUE
    other = restarted(engine, library, settings, clock)
    async with team_telegram() as fake:
        async with running_bot(fake, engine) as bot:
            channels: dict[str, Channel] = {"telegram": bot}
            sent = await asyncio.gather(send_due_reminders(engine, channels),
                                        send_due_reminders(other, channels))
        assert sum(sent) == 4
        assert digests(fake) == EVERYONE
    assert len(claimed(engine.database)) == 4


async def test_a_digest_a_day_late_is_skipped_and_newcomers_wait_for_the_next(
        engine: Engine, clock: Clock) -> None:
    enroll_team(engine)
    write_history(engine)
    async with team_telegram() as fake:
        async with running_bot(fake, engine) as bot:
            channels: dict[str, Channel] = {"telegram": bot}
            # down all Monday and the night after: Tuesday 09:00 is too late for Monday's
            clock.now = DIGEST_DUE + timedelta(hours=24, minutes=30)
            assert await send_due_reminders(engine, channels) == 0
            # someone enrolled on Tuesday gets nothing until the next Monday, then theirs
            newcomer = MemoryChat(engine, user_id="509", channel="telegram",
                                  display_name="钱七")
            newcomer.say(f"/start {engine.enroll('钱七', role='manager', team='east')}")
            fake.add_user(509, "钱七")
            clock.now = DIGEST_DUE + timedelta(days=7)
            assert await send_due_reminders(engine, channels) == 5
        assert digests(fake) == EVERYONE
        [theirs] = [m.text for m in fake.messages_to(509) if m.text.startswith(DIGEST)]
        assert theirs.startswith("📬 east 团队周报")
    assert {w for _, w, _ in claimed(engine.database)} == {"2026-W49"}


# what it says -----------------------------------------------------------------------------
async def test_what_the_manager_and_the_reps_read(engine: Engine, clock: Clock) -> None:
    chats = enroll_team(engine)
    write_history(engine)
    visit_with_a_report_and_a_flag(engine, clock, chats)
    clock.now = DIGEST_DUE
    async with team_telegram() as fake:
        async with running_bot(fake, engine) as bot:
            await send_due_reminders(engine, {"telegram": bot})  # the safety reminders too
        assert digests(fake) == EVERYONE
        manager = digest_of(fake, "赵经理")
        wang = digest_of(fake, "王芳")
        li = digest_of(fake, "李雷")
        # no document server here: the detail rides as a file, with its font
        [detail] = [m.file for m in fake.messages_to(USERS["赵经理"])
                    if m.kind == "document" and m.text.startswith(DIGEST)]
        assert detail is not None and detail.filename == "团队周报明细-east-2026-11-23.html"
        html = detail.data.decode("utf-8")
        assert "@font-face" in html and "11-17 · 王芳 · <b>张医生</b>" in html
    assert manager.startswith("📬 east 团队周报（11-16 至 11-23，只读）")
    for line in [
        "📈 阶段变化：前进 0，后退 1，共 2 位",
        "· 王芳 · 张医生（泰山医院）：试用 → 评估 ⬇️",
        "· 李雷 · 吴主任（人民医院）：首次诊断 认知",
        "⏸ 久未跟进的重点客户（21 天没拜访，或阶段 6 周没变）：",
        "· 李雷 · 郑医生：还没有拜访记录",
        "· 王芳 · 李主任（泰山医院）：34 天没拜访",
        "· 王芳 · 陈医生（人民医院）：阶段 7 周没变",
        "· 王芳 · 张医生（泰山医院） 11-17：阶段从试用退回评估",
        "⚠️ 本周被标记的记录：1 条",
        "🗒 本周没有记录拜访的代表：李雷",
        "🧭 思维偏好测评：1/2 位做过，本周新做：王芳；还没做：李雷",
        "每一项的日期和依据（最近拜访、倒退的证据、不良事件的原话）都在周报明细里。",
    ]:
        assert line in manager, (line, manager)
    stalled = manager.split("⏸")[1].split("📉")[0]
    assert "吴主任" not in stalled  # new this week, not stalled
    assert "周医生" not in stalled  # tier C is not a key account
    events = manager.split("🚨")[1].split("⚠️")[0]
    assert "王芳（孙主任 · 泰山医院）" in events and "皮疹" in events and "已过截止时间" in events
    assert "钱主任" not in manager and "赵六" not in manager  # another team
    assert wang.startswith("📬 你的一周（11-16 至 11-23）")
    assert "· 张医生（泰山医院）：试用 → 评估 ⬇️ 先问清原因" in wang
    assert "· 2026-11-25 陈医生：送指南摘要" in wang
    assert "💡 本周试一试（" in wang and "为什么这样做，见明细。" in wang
    assert "· 吴主任（人民医院）：首次诊断 认知" in li
    assert "张医生" not in li  # a rep reads only their own week


def test_the_manager_reads_each_reps_overdue_follow_ups(engine: Engine, clock: Clock) -> None:
    """Open follow-ups whose date has passed (company time), per rep; done ones and ones
    still ahead are not overdue."""
    enroll_team(engine)
    write_history(engine)
    with engine.database.transaction() as session:
        for rep_name, customer, due, status in [("王芳", "陈医生", "2026-11-20", "open"),
                                                ("王芳", "李主任", "2026-11-22", "sent"),
                                                ("王芳", "张医生", "2026-11-23", "open"),
                                                ("李雷", "吴主任", "2026-11-19", "done")]:
            rep = session.execute(select(Rep).where(Rep.name == rep_name)).scalar_one()
            store = RepStore(session, rep)
            account = next(a for a in store.active_accounts() if a.name == customer)
            store.add_followup(account, None, "回访", due, clock(), clock()).status = status
    with engine.database.transaction() as session:
        manager = session.execute(select(Rep).where(Rep.name == "赵经理")).scalar_one()
        [digest] = manager_digest(session, engine.library, manager, DIGEST_DUE,
                                  engine.settings.digest, 8)
        assert "⏰ 逾期未完成的跟进：王芳 2 条" in digest.text.splitlines()
        manager.locale = "en"
        [digest] = manager_digest(session, engine.library, manager, DIGEST_DUE,
                                  engine.settings.digest, 8)
        assert "⏰ Overdue follow-ups: 王芳 2" in digest.text.splitlines()
        session.rollback()


async def test_a_rep_digest_through_wecom(engine: Engine, clock: Clock) -> None:
    users = enroll_on_wecom(engine)
    write_history(engine)
    clock.now = DIGEST_DUE
    sim = WecomSimulator()
    await sim.start()
    try:
        async with running_channel(engine, sim) as wecom:
            channels: dict[str, Channel] = {"wecom": wecom}
            assert await send_due_reminders(engine, channels) == 4
            assert await send_due_reminders(engine, channels) == 0
            await wecom.idle()
        seen = {name: [shown(m) for m in sim.messages_to(user)
                       if shown(m).startswith(DIGEST)] for name, user in users.items()}
    finally:
        await sim.close()
    assert {name: len(found) for name, found in seen.items()} == EVERYONE
    assert seen["赵经理"][0].startswith("📬 east 团队周报")
    assert "吴主任" in seen["李雷"][0]
    with engine.database.transaction() as session:
        assert session.execute(select(func.count()).select_from(FollowUp)).scalar_one() == 0
