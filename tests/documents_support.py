"""A document server for tests (the engine's shelf behind the bot's real HTTP server on
loopback), a rep's past weeks for the coaching report, and the checks every document must
pass in the browser."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.documents import DocumentPages
from bot.server import WebhookServer
from coach.documents.fonts import SYSTEM_EMOJI
from coach.documents.shelf import DocumentShelf
from coach.engine import Engine
from coach.store.models import Account, QuizResult, Rep
from coach.testing import MemoryChat
from testkit.wecom_support import free_port
from tests.conftest import Clock
from tests.support.browser import Rendered, render

SECRET = b"test-signing-secret"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_.-]+")
EMOJI_FAMILIES = {"OpenMoji", *SYSTEM_EMOJI}
SCREENSHOTS = Path("/tmp/repcoach-screenshots")  # kept after the run, to look at


def shelf_for(folder: Path, port: int) -> DocumentShelf:
    return DocumentShelf(folder, SECRET, f"http://127.0.0.1:{port}/d", timedelta(hours=72))


@contextlib.asynccontextmanager
async def document_server(engine: Engine, port: int) -> AsyncIterator[WebhookServer]:
    """The bot's HTTP server with the document pages, as `repcoach run` starts it."""
    assert engine.documents is not None
    server = WebhookServer()
    DocumentPages(engine.documents, engine.library, engine.clock, "/d").install(server)
    await server.start([("127.0.0.1", port)])
    try:
        yield server
    finally:
        await server.stop()


def with_documents(engine: Engine, folder: Path) -> tuple[Engine, int]:
    """The same database, playbooks and clock, with documents sent as links."""
    port = free_port()
    return Engine(engine.database, engine.library, engine.settings, clock=engine.clock,
                  documents=shelf_for(folder, port)), port


def link_in(text: str) -> str:
    found = LINK.search(text)
    assert found, f"no document link in: {text}"
    return found.group(0)


async def look_at(url: str, name: str) -> Rendered:
    """Render `url` at 390 px and keep the screenshot under SCREENSHOTS/`name`.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = await render(url, SCREENSHOTS / f"{name}.png")
    return page


def assert_readable_on_a_phone(page: Rendered) -> None:
    """What every document must be on a phone: Chinese drawn with the embedded CJK font
    (never a system fallback or tofu), nothing wider than the screen, no script."""
    drawn = [u for u in page.chinese if u.fonts]
    assert len(drawn) >= 2, f"hardly any Chinese drawn: {page.chinese}"
    for use in drawn:
        assert any(f.get("isCustomFont") and f["familyName"] == "Noto Sans CJK SC"
                   and f.get("glyphCount", 0) > 0 for f in use.fonts), use
    assert page.not_embedded() == []
    # an emoji (🚨 📉) is drawn from the page's emoji rule, never a box: the phone's colour
    # emoji font when it has one, else the embedded OpenMoji (trial C: 🚨 was tofu)
    for use in page.chinese:
        if any(ord(c) >= 0x1F000 for c in use.text):
            assert any(f.get("isCustomFont") and f["familyName"] in EMOJI_FAMILIES
                       and f.get("glyphCount", 0) > 0 for f in use.fonts), use
    assert page.scroll_width <= page.viewport_width == 390, page.scroll_width
    assert page.scripts == 0 and "<script" not in page.html.lower()


def seed_rep_history(engine: Engine, clock: Clock, chat: MemoryChat, rep_name: str) -> None:
    """What a rep's last weeks leave behind: three logged visits, answers to suggestions
    (one taken, two not fitting, one in their own words), customers' styles as assessed,
    and the thinking-preference quiz of last month."""
    for note in ("泰山医院心内科李主任，聊了新药的数据，他说下周试两个病人",
                 "泰山医院心内科张主任，看了资料，说再想想",
                 "人民医院呼吸科王医生，第一次见面，介绍了产品"):
        chat.say("/log")
        chat.say(note)
        chat.press("保存")
    chat.say("/next")
    chat.press("李主任")
    chat.press("采纳")
    for reason in ("不适合这位客户", "不适合这位客户", "其他"):
        chat.press("再来一条")
        chat.press("不合适")
        chat.press(reason)
    chat.say("科室不让进")
    with engine.database.transaction() as session:
        rep = session.execute(select(Rep).where(Rep.name == rep_name)).scalar_one()
        session.add(QuizResult(rep_id=rep.id, playbook_id="quiz", playbook_version=1,
                               scores={"A": 9, "B": 4, "C": 2, "D": 5}, dominant="A",
                               created_at=clock.now - timedelta(days=30)))
        for account in session.execute(select(Account).where(Account.rep_id == rep.id)
                                       ).scalars():
            account.style = {"李主任": "C", "张主任": "C", "王医生": "D"}[account.name]


def copy_playbooks(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
