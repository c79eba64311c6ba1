"""A concern the customer raised is read from the note however the rep types it, kept with
the visit and shown in the proposal: "价格偏高", "太贵了", "医保还没进", "没进医保", "病人负担不起",
"科里没有这个药的目录". Many of these are written with the very negation (没/不) that voids a
hint elsewhere ("还没要样品"), so the rep's words are read as the concern, not as its absence.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


@pytest.mark.parametrize(("note", "shown", "kinds"), [
    ("市一院心内科李主任说价格偏高，下周三再去", ["⚠️ 顾虑：价格（「价格偏高」）"], ["price"]),
    ("市一院心内科李主任嫌我们的药太贵了", ["⚠️ 顾虑：价格（「太贵」）"], ["price"]),
    ("市一院心内科李主任说病人负担不起，先不考虑", ["⚠️ 顾虑：价格（「负担不起」）"], ["price"]),
    ("市一院心内科李主任说费用比较高，病人自付比例太高", ["⚠️ 顾虑：价格（「费用比较高」）"],
     ["price"]),
    ("市一院心内科李主任说医保还没进，下周五再聊", ["⚠️ 顾虑：准入（「医保还没进」）"],
     ["access"]),
    ("李主任 市一院 心内科 没进医保的话他不好开", ["⚠️ 顾虑：准入（「没进医保」）"], ["access"]),
    ("市一院心内科李主任说科里没有这个药的目录", ["⚠️ 顾虑：准入（「科里没有这个药的目录」）"],
     ["access"]),
    ("市一院心内科李主任说药事会还没过，院里还没这个药",
     ["⚠️ 顾虑：准入（「药事会还没过」）"], ["access"]),
    ("市一院心内科李主任说价格有点贵，而且还没纳入医保目录",
     ["⚠️ 顾虑：价格（「价格有点贵」）", "⚠️ 顾虑：准入（「还没纳入医保」）"],
     ["access", "price"]),
    ("Dr Li at City Hospital said it's a bit pricey and not on the formulary yet",
     ["⚠️ 顾虑：价格（「a bit pricey」）", "⚠️ 顾虑：准入（「not on the formulary」）"],
     ["access", "price"]),
])
def test_a_concern_typed_any_way_is_shown_and_kept(chat: MemoryChat, database: Database,
                                                    note: str, shown: list[str],
                                                    kinds: list[str]) -> None:
    proposal = MemoryChat.text(chat.say(note))
    for line in shown:
        assert line in proposal
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "⚠️ 已记下顾虑" in saved
    assert [k for (k,) in rows(database, "SELECT kind FROM objections ORDER BY kind")] == kinds


@pytest.mark.parametrize("note", [
    "市一院心内科李主任说价格不高，病人负担得起",
    "市一院心内科李主任说医保已经进了，病人都能报",
    "贵院心内科李主任说下周三再去",
])
def test_no_concern_is_read_where_none_was_raised(chat: MemoryChat, database: Database,
                                                  note: str) -> None:
    assert "⚠️ 顾虑" not in MemoryChat.text(chat.say(note))
    chat.press("✅ 保存")
    assert rows(database, "SELECT COUNT(*) FROM objections") == [(0,)]
