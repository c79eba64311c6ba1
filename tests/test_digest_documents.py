"""The weekly digest's detail in the phone's in-app browser (issue 16): the manager's and a
rep's digest go out on Telegram (the real adapter, the loopback Bot API) with a signed link
the bot's own HTTP server answers; the page is rendered in headless Chromium at 390 px and
read as the manager would (the Chinese drawn in the embedded Noto Sans CJK, nothing cut off,
no script), and holds every number of the seeded team (tests/team_support.py). A crash
between the claim and the delivery resends the same digest with the same link. Store on
both backends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import AppConfig
from bot.runner import send_due_reminders
from coach.engine import Engine
from coach.settings import EngineSettings
from coach.store.database import Database
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.telegram_support import running_bot, telegram_config
from testkit.wecom_support import running_channel, shown
from tests.conftest import Clock
from tests.documents_support import (
    assert_readable_on_a_phone,
    document_server,
    link_in,
    look_at,
    with_documents,
)
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

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*attribute `retry_after` will be of type:DeprecationWarning")

@pytest.fixture
def settings() -> EngineSettings:
    """As `repcoach run` has it: digests on, Monday 08:30."""
    return AppConfig().engine_settings()


def seed_week(engine: Engine, clock: Clock) -> None:
    """The team's history and the week's extra events, the clock on the digest's moment."""
    chats = enroll_team(engine)
    write_history(engine)
    visit_with_a_report_and_a_flag(engine, clock, chats)
    clock.now = DIGEST_DUE


async def test_the_manager_and_a_rep_open_the_digest_detail_from_telegram(
        engine: Engine, clock: Clock, tmp_path: Path) -> None:
    linked, port = with_documents(engine, tmp_path / "docs")
    seed_week(linked, clock)
    async with team_telegram() as fake, document_server(linked, port):
        async with running_bot(fake, linked) as bot:
            await send_due_reminders(linked, {"telegram": bot})
        manager = digest_of(fake, "赵经理")
        wang = digest_of(fake, "王芳")
        # short in the chat, the detail a link (not an .html file to download)
        assert "都在周报明细里" in manager
        assert "📄 团队周报明细-east-2026-11-23：http://127.0.0.1:" in manager
        assert "72 小时内有效" in manager
        assert "📄 我的一周明细-2026-11-23：" in wang and "为什么这样做，见明细。" in wang
        assert not [m for user in USERS.values() for m in fake.messages_to(user)
                    if m.kind == "document"]

        page = await look_at(link_in(manager), "digest-manager")
        assert_readable_on_a_phone(page)
        text = page.text
        for line in [
            "east 团队周报明细",
            "11-16 至 11-23 · 2 位代表 · 只读",
            "阶段变化（2：前进 0，后退 1）",
            "11-17 · 王芳 · 张医生（泰山医院）：试用 → 评估 ↓ 后退",
            "11-18 · 李雷 · 吴主任（人民医院）：首次诊断 认知",
            "久未跟进的重点客户（3）",
            "21 天没拜访，或阶段 6 周没变",
            "李雷 · 郑医生 · B 级\n最近拜访：没有记录 · 阶段 3 周没变 · 该拜访了",
            "王芳 · 李主任（泰山医院） · A 级\n"
            "最近拜访：10-20（34 天前） · 阶段 1 周没变 · 该拜访了",
            "王芳 · 陈医生（人民医院） · A 级\n最近拜访：11-20（3 天前） · 阶段 7 周没变",
            "倒退预警（1）",
            "11-17 · 王芳 · 张医生（泰山医院）\n依据：阶段从试用退回评估",
            "未关闭的不良事件（1）",
            "本周被标记的记录（1）",
            "本周没有记录拜访的代表（1）\n\n李雷",
            "思维偏好测评（1/2）",
            "李雷：还没做",
            "王芳：11-19 做过（本周）",
        ]:
            assert line in text, (line, text)
        events = text.split("未关闭的不良事件")[1].split("本周被标记的记录")[0]
        assert "王芳（孙主任 · 泰山医院）" in events and "皮疹" in events
        assert "记录于 11-19 11:00" in events and "已过截止时间" in events
        flagged = text.split("本周被标记的记录")[1].split("本周没有记录拜访的代表")[0]
        assert "11-19 · 王芳 · 孙主任" in flagged and "回扣" in flagged
        assert "记录时发现" in flagged
        assert "钱主任" not in text and "赵六" not in text  # another team

        page = await look_at(link_in(wang), "digest-rep")
        assert_readable_on_a_phone(page)
        for line in ["我的一周明细", "11-16 至 11-23", "阶段变化（1）",
                     "11-17 · 张医生（泰山医院）：试用 → 评估 ↓ 先问清原因",
                     "本周要跟进（1）", "2026-11-25 · 陈医生（人民医院）：送指南摘要",
                     "本周试一试", "为什么："]:
            assert line in page.text, (line, page.text)


async def test_a_crash_after_the_claim_resends_the_same_digest_and_link(
        engine: Engine, clock: Clock, tmp_path: Path) -> None:
    linked, port = with_documents(engine, tmp_path / "docs")
    enroll_team(linked)
    write_history(linked)  # no adverse event: its reminder would go (and die) first
    clock.now = DIGEST_DUE
    async with team_telegram() as fake, document_server(linked, port):
        dying = DiesBeforeSending(telegram_config(fake), linked)
        await dying.start()
        try:
            with pytest.raises(Killed):
                await send_due_reminders(linked, {"telegram": dying})
        finally:
            await dying.stop()
        pages = sorted((tmp_path / "docs").glob("*.html"))
        assert len(pages) == 1  # the manager's detail, kept with the claim
        clock.advance(minutes=1)
        # a new process on the same store and the same document folder and server
        again = Engine(Database(engine.database.url), engine.library, engine.settings,
                       clock=clock, documents=linked.documents)
        async with running_bot(fake, again) as bot:
            await fake.wait_for(lambda: any(m.text.startswith(DIGEST) for m in
                                            fake.messages_to(USERS["赵经理"])), 10.0,
                                what="the manager's digest from the outbox")
            assert await send_due_reminders(again, {"telegram": bot}) == 3
        manager = digest_of(fake, "赵经理")
        # the link written at the claim, to the page kept then: no second, different one
        assert link_in(manager).rsplit("/", 1)[1].split(".")[0] in pages[0].name
        assert sum(1 for p in (tmp_path / "docs").glob("*.html")
                   if "团队周报明细" in p.read_text(encoding="utf-8")) == 1
        page = await look_at(link_in(manager), "digest-manager-after-crash")
        assert "阶段变化（2：前进 0，后退 1）" in page.text


async def test_the_manager_opens_the_digest_detail_from_wecom(
        engine: Engine, clock: Clock, tmp_path: Path) -> None:
    """Managers live on WeCom too: the same detail, a link in the app's chat."""
    linked, port = with_documents(engine, tmp_path / "docs")
    users = enroll_on_wecom(linked)
    write_history(linked)
    clock.now = DIGEST_DUE
    async with WecomSimulator() as sim, document_server(linked, port), \
            running_channel(linked, sim) as wecom:
        assert await send_due_reminders(linked, {"wecom": wecom}) == 4
        await wecom.idle()
        [manager] = [shown(m) for m in sim.messages_to(users["赵经理"])
                     if shown(m).startswith(DIGEST)]
        assert "📄 团队周报明细-east-2026-11-23：" in manager
        assert not [m for m in sim.messages_to(users["赵经理"]) if m.msgtype == "file"]
        page = await look_at(link_in(manager), "digest-manager-wecom")
        assert_readable_on_a_phone(page)
        assert "阶段变化（2：前进 0，后退 1）" in page.text
        assert "王芳 · 陈医生（人民医院） · A 级\n最近拜访：11-20（3 天前）" in page.text
