"""Data rights: /export sends a rep everything held about them; /forget deletes it all but the
safety records the law requires (tests/test_safety_records.py)."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from coach.store.database import Database
from coach.store.models import Account, Identity, Note, Rep
from coach.testing import MemoryChat


def log_visit(chat: MemoryChat, note: str) -> None:
    """One note naming the customer and hospital, then one tap on the proposal."""
    chat.say("/log")
    chat.say(note)
    chat.press("✅ 保存")


def test_export_sends_json_and_csv_with_every_note(chat: MemoryChat) -> None:
    log_visit(chat, "泰山医院李主任想看老年亚组数据")
    replies = chat.say("/export")
    files = {r.attachment.filename.rsplit(".", 1)[1]: r.attachment.data
             for r in replies if r.attachment is not None}
    assert set(files) == {"json", "csv"}
    data = json.loads(files["json"])
    assert [n["text"] for n in data["notes"]] == ["泰山医院李主任想看老年亚组数据"]
    assert data["accounts"][0]["name"] == "李主任"
    assert data["accounts"][0]["hospital"] == "泰山医院"
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    assert [rows[2][0], rows[2][2], rows[2][10]] == ["拜访记录", "李主任",
                                                     "泰山医院李主任想看老年亚组数据"]
    assert "1 位客户" in MemoryChat.text(replies)


def test_export_holds_nothing_of_another_rep(chat: MemoryChat, database: Database) -> None:
    other = MemoryChat(chat.engine, user_id="rep-2")
    log_visit(other, "人民医院王主任：别人的记录")
    log_visit(chat, "泰山医院李主任：我的记录")
    replies = chat.say("/export")
    exported = b"".join(r.attachment.data for r in replies if r.attachment)
    assert "别人的记录".encode() not in exported and "王主任".encode() not in exported


def count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_forget_asks_first_then_deletes_everything(chat: MemoryChat,
                                                   database: Database) -> None:
    other = MemoryChat(chat.engine, user_id="rep-2")
    log_visit(other, "人民医院王主任：别人的记录")
    log_visit(chat, "泰山医院李主任：我的记录")
    chat.say("/forget")
    assert "已删除" not in MemoryChat.text(chat.press("不删了"))
    assert count(database, Note) == 2
    chat.say("/forget")
    assert "已删除" in MemoryChat.text(chat.press("确定"))
    with database.transaction() as session:
        assert session.execute(select(Note.text)).scalars().all() == ["人民医院王主任：别人的记录"]
        assert session.execute(select(Account.name)).scalars().all() == ["王主任"]
        # the rep's row stays, nameless and without access, for any safety record it owns
        assert session.execute(select(Rep.name).where(Rep.active.is_(False))).all() == [("",)]
        assert session.execute(select(func.count()).select_from(Rep)
                               .where(Rep.active.is_(True))).scalar() == 1
        assert session.execute(select(Identity.external_id).where(
            Identity.channel != "erased")).scalars().all() == ["rep-2"]
        # only a one-way fingerprint is left, so that writing again is met with "erased"
        [fingerprint] = session.execute(select(Identity.external_id).where(
            Identity.channel == "erased")).scalars().all()
        assert "rep-1" not in fingerprint and len(fingerprint) == 64


def test_export_csv_cells_are_never_formulas(chat: MemoryChat) -> None:
    """A note starting with = or + would run in Excel, where reps are told to open it."""
    log_visit(chat, "=HYPERLINK(\"http://x\",\"点我\") 泰山医院李主任说下周再来")
    files = {r.attachment.filename.rsplit(".", 1)[1]: r.attachment.data
             for r in chat.say("/export") if r.attachment is not None}
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert any("HYPERLINK" in cell for cell in cells)
