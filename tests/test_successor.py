"""A note that a key person is leaving and names who takes over offers to add the successor
as a customer right after the visit is saved; the number shown means that choice, and
tapping it files him or her at the same hospital and department (the second new-rep trial,
item 4). A note that names nobody to add (a surname alone, "not known yet") offers nothing.

Measured on tests/data/trial2_successor_notes.yaml (16 notes, 13 naming a successor, 2 of
them in English), written for this fix: before it, 0/13 offered (no note offered a
successor); after, 13/13, and none of the 3 without a name offers anyone. Rep says X, bot
answers Y, store holds Z, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_followup_object import rows

NOTES = yaml.safe_load((Path(__file__).resolve().parent / "data"
                        / "trial2_successor_notes.yaml").read_text(encoding="utf-8"))["notes"]


@pytest.mark.parametrize("item", NOTES, ids=[n["note"][:12] for n in NOTES])
def test_the_successor_is_offered_and_added(chat: MemoryChat, database: Database,
                                            item: dict[str, Any]) -> None:
    chat.say(item["note"])
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "🚨 危机预警" in saved
    labels = [c.label for c in chat.choices()]
    offers = [label for label in labels if label.startswith("👤 把")]
    if item["successor"] is None:
        assert offers == []
        return
    label = f"👤 把{item['successor']}加为客户"
    assert offers == [label]
    [(hospital, department)] = rows(database, "SELECT hospital, department FROM accounts")
    added = MemoryChat.text(chat.say(str(labels.index(label) + 1)))  # its number
    assert f"✅ 已把{item['successor']}加为客户" in added
    assert (item["successor"], hospital, department) in rows(
        database, "SELECT name, hospital, department FROM accounts")


def test_a_successor_already_a_customer_is_not_added_twice(chat: MemoryChat,
                                                           database: Database) -> None:
    chat.say("人民医院心内科张副主任说想看数据")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("人民医院心内科王主任下个月退休了，科里以后张副主任管事")
    chat.press("✅ 保存")
    assert not [c for c in chat.choices() if c.label.startswith("👤 把")]
    assert rows(database, "SELECT COUNT(*) FROM accounts") == [(2,)]
