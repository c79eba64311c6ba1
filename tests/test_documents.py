"""Documents in the phone's in-app browser (issue 16): the plan, the hospital plan and the
coaching report go out on Telegram as signed links that the bot's own HTTP server answers;
each page is rendered in headless Chromium at 390 px and checked as a reader would see it
(the Chinese drawn in the embedded Noto Sans CJK, nothing cut off, no script). A forged or
expired link opens a page that says so. The console writes the file and says where.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.config import AppConfig
from bot.console import ConsoleChannel
from bot.runner import document_shelf, run_channels
from coach.documents.shelf import DocumentShelf, Opened, Refused, load_secret
from coach.engine import Engine
from coach.testing import MemoryChat
from testkit.fakes.telegram_api import FakeTelegram
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.telegram_support import TOKEN, Person, running_bot
from testkit.wecom_support import Rep as WecomRep
from testkit.wecom_support import free_port, joined, running_channel
from tests.conftest import Clock
from tests.documents_support import (
    assert_readable_on_a_phone,
    document_server,
    link_in,
    look_at,
    seed_rep_history,
    shelf_for,
    with_documents,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*attribute `retry_after` will be of type:DeprecationWarning")

MANAGER, REP = 2001, 2002


# --- the links themselves ------------------------------------------------------------------

def test_a_link_opens_its_page_until_it_expires_and_never_when_forged(
        tmp_path: Path, clock: Clock) -> None:
    shelf = shelf_for(tmp_path / "docs", 8090)
    link = shelf.put("<p>计划书</p>", "zh", clock.now)
    assert link.expires == clock.now + timedelta(hours=72)
    token = link.url.rsplit("/", 1)[1]
    assert shelf.open(token, clock.now) == Opened("<p>计划书</p>")
    doc_id, expires, locale, signature = token.split(".")
    later = str(int(expires) + 3600)
    for forged in (f"{doc_id}.{later}.{locale}.{signature}",  # stretched past its time
                   f"{doc_id}.{expires}.en.{signature}",
                   f"{doc_id}.{expires}.{locale}.{signature[:-1]}"
                   f"{'B' if signature.endswith('A') else 'A'}",
                   f"{doc_id[:-1]}x.{expires}.{locale}.{signature}",
                   token[:30], "", "../../etc/passwd", f"{token}.extra"):
        assert shelf.open(forged, clock.now) == Refused("forged"), forged
    other = DocumentShelf(tmp_path / "docs", b"another secret", "http://x/d",
                          timedelta(hours=72))
    assert other.open(token, clock.now) == Refused("forged")  # another deployment's key
    clock.advance(hours=72)
    assert shelf.open(token, clock.now) == Refused("expired", "zh")
    assert list((tmp_path / "docs").glob("*.html")) == []  # the file went with the link


def test_expired_documents_are_cleared_when_the_next_one_is_kept(
        tmp_path: Path, clock: Clock) -> None:
    shelf = shelf_for(tmp_path / "docs", 8090)
    old = shelf.put("<p>旧</p>", "zh", clock.now)
    clock.advance(hours=73)
    new = shelf.put("<p>新</p>", "en", clock.now)
    assert [p.name.split("-", 1)[1] for p in (tmp_path / "docs").glob("*.html")] == [
        new.url.rsplit("/", 1)[1].split(".")[0] + ".html"]
    assert shelf.open(old.url.rsplit("/", 1)[1], clock.now) == Refused("expired", "zh")


def test_the_signing_key_is_kept_across_restarts(tmp_path: Path) -> None:
    first = load_secret(tmp_path / "docs", "")
    assert first == load_secret(tmp_path / "docs", "") and len(first) >= 32
    assert (tmp_path / "docs" / ".secret").stat().st_mode & 0o077 == 0
    assert load_secret(tmp_path / "docs", "from-config") == b"from-config"


# --- through Telegram, opened in the browser ---------------------------------------------

@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


def documents_to(fake: FakeTelegram, user_id: int) -> list[str]:
    return [m.text for m in fake.messages_to(user_id) if m.kind == "document"]


async def fetch(url: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.text()


async def test_the_manager_opens_the_coaching_report_from_telegram(
        engine: Engine, clock: Clock, fake: FakeTelegram, tmp_path: Path) -> None:
    linked, port = with_documents(engine, tmp_path / "docs")
    # the rep's weeks, typed on another phone (the engine is the same)
    seed_rep_history(linked, clock, _enrolled(linked, "王芳", str(REP), team="east"), "王芳")
    async with document_server(linked, port), running_bot(fake, linked) as channel:
        manager = Person(fake, channel, MANAGER, "赵经理")
        await manager.say(f"/start {linked.enroll('赵经理', role='manager', team='east')}")
        said = "\n".join(m.text for m in await manager.say("/coaching 王芳"))
        assert "王芳 的辅导报告（只读）" in said and "辅导要点：" in said
        assert "📄 辅导报告-王芳-2026-11-22：http://127.0.0.1:" in said
        assert "72 小时内有效" in said
        assert not documents_to(fake, MANAGER)  # a link, not an .html file to download
        url = link_in(said)

        status, headers, _ = await fetch(url)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert "script-src" not in headers["Content-Security-Policy"]
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        page = await look_at(url, "coaching-report")
        assert_readable_on_a_phone(page)
        assert [u for u in page.chinese if "🚨" in u.text]  # the emoji check saw it
        assert "代表辅导报告：王芳" in page.text
        assert "王芳的思维偏好：分析型" in page.text
        assert "人际型：2 位客户（张主任、李主任）" in page.text
        assert "你偏分析、他重人际：先寒暄" in page.text  # where she has to flex
        assert "不适合这位客户：2 次" in page.text and "「科室不让进」" in page.text
        assert "四、辅导要点" in page.text

        forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
        status, _, _ = await fetch(forged)
        assert status == 404
        page = await look_at(forged, "forged-link")
        assert "打不开这个链接" in page.text and "This link cannot be opened" in page.text
        assert "Traceback" not in page.text
        assert_readable_on_a_phone(page)

        clock.advance(hours=72, seconds=1)
        status, _, _ = await fetch(url)
        assert status == 410
        page = await look_at(url, "expired-link")
        assert "这个链接已经过期" in page.text and "/plan" in page.text
        assert_readable_on_a_phone(page)


def _enrolled(engine: Engine, name: str, user_id: str, **kwargs: str) -> MemoryChat:
    chat = MemoryChat(engine, user_id=user_id, channel="telegram", display_name=name)
    assert "开通成功" in MemoryChat.text(chat.say(f"/start {engine.enroll(name, **kwargs)}"))
    return chat


async def test_a_rep_opens_the_plan_and_the_hospital_plan_from_telegram(
        engine: Engine, fake: FakeTelegram, tmp_path: Path) -> None:
    linked, port = with_documents(engine, tmp_path / "docs")
    async with document_server(linked, port), running_bot(fake, linked) as channel:
        rep = Person(fake, channel, REP, "王芳")
        await rep.say(f"/start {linked.enroll('王芳')}")
        await rep.say("泰山医院心内科李主任，聊了新药的数据，他说下周试两个病人")
        await rep.press("保存")
        await rep.say("/plan 李主任")  # one customer of that name: straight to his plan
        await rep.press("试用")
        said = "\n".join(m.text for m in (await rep.press("跳过")).new)
        assert "李主任的客户发展计划书" in said
        assert "📄 客户发展计划书-李主任-2026-11-22：" in said
        page = await look_at(link_in(said), "plan")
        assert_readable_on_a_phone(page)
        assert "客户发展计划书：李主任" in page.text
        assert "推进到「试用」（还没定日期）。" in page.text
        assert "泰山医院心内科李主任，聊了新药的数据" in page.text  # the visit, as logged

        said = "\n".join(m.text for m in await rep.say("/hospital 泰山医院"))
        assert "📄 医院客户计划-泰山医院-2026-11-22：" in said
        page = await look_at(link_in(said), "hospital-plan")
        assert_readable_on_a_phone(page)
        assert "泰山医院" in page.text and "李主任" in page.text
        assert not documents_to(fake, REP)


def test_the_console_writes_the_file_and_says_where(engine: Engine, tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleChannel(engine, user="wangfang", files_dir=tmp_path / "files",
                             stdin=io.StringIO(
                                 "泰山医院心内科李主任，聊了新药的数据\n1\n/plan 李主任\n"
                                 "试用\n跳过\n"), stdout=out)
    console.run()
    path = tmp_path / "files" / "wangfang" / "客户发展计划书-李主任-2026-11-22.html"
    assert f"[{path}]" in out.getvalue()
    html = path.read_text(encoding="utf-8")
    assert "客户发展计划书：李主任" in html and "@font-face" in html  # opens offline too


async def test_the_manager_opens_the_coaching_report_from_wecom(
        engine: Engine, clock: Clock, tmp_path: Path) -> None:
    """Managers live on WeCom too: the same report, a link in the app's chat."""
    linked, port = with_documents(engine, tmp_path / "docs")
    seed_rep_history(linked, clock, _enrolled(linked, "王芳", str(REP), team="east"), "王芳")
    linked.enroll("赵经理", role="manager", team="east", wecom_user="ZhaoJL")
    async with WecomSimulator() as sim, document_server(linked, port), \
            running_channel(linked, sim) as channel:
        manager = WecomRep(sim, "ZhaoJL", channel)
        said = joined(await manager.say("/coaching 王"))  # part of the name will do
        assert "王芳 的辅导报告（只读）" in said and "📄 辅导报告-王芳-2026-11-22：" in said
        assert not [m for m in manager.inbox if m.msgtype == "file"]
        page = await look_at(link_in(said), "coaching-report-wecom")
        assert_readable_on_a_phone(page)
        assert "代表辅导报告：王芳" in page.text


async def test_repcoach_run_serves_the_links_it_sends(
        engine: Engine, clock: Clock, fake: FakeTelegram, tmp_path: Path) -> None:
    """`repcoach run` with `documents.enabled`: the document server starts beside the
    channels, on its own port, and answers the links the bot sends."""
    port = free_port()
    config = AppConfig.model_validate({
        "channels": {"console": {"enabled": False}, "telegram": {
            "enabled": True, "token": fake.token, "base_url": fake.base_url,
            "poll_timeout": 1, "reminder_interval": 0.2}},
        "documents": {"enabled": True, "public_url": f"http://127.0.0.1:{port}",
                      "port": port, "dir": str(tmp_path / "docs")}})
    running = Engine(engine.database, engine.library, engine.settings, clock=clock,
                     documents=document_shelf(config))
    earlier = _enrolled(running, "王芳", str(REP))  # her Telegram chat, before this run
    earlier.say("泰山医院心内科李主任，聊了新药的数据")
    earlier.press("保存")
    stop = asyncio.Event()
    task = asyncio.create_task(run_channels(config, running, stop))
    try:
        rep = Person(fake, None, REP, "王芳")
        said = "\n".join(m.text for m in await rep.say("/hospital 泰山医院"))
        status, _, html = await fetch(link_in(said))
        assert status == 200 and "医院客户计划：泰山医院" in html
        assert (tmp_path / "docs" / ".secret").exists()  # no secret configured: one kept
    finally:
        stop.set()
        assert await task == 0
