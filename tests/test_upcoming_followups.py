"""A rep sees the follow-ups still ahead, not only today's: /today lists them under 接下来 (also
on a day with nothing due), the customer card lists the customer's open ones, and /accounts
keeps its order, last visited first, when a card is merely opened (the third new-rep trial,
finding 7: "今天没有到期的跟进" with five open, and numbers that shifted between views). Rep
says X, bot answers Y, store holds Z; SQLite and PostgreSQL. The clock starts on Sunday
2026-11-22, Beijing time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from coach.store.database import Database
from coach.store.repo import Directory, RepStore
from coach.testing import MemoryChat
from testkit.clock import Clock
from tests.test_followup_object import rows

NOTES = ("瑞金心内科王主任嫌贵，让我下周三带III期数据再去",
         "中山内分泌李医生想先给几个pt试用下，月底再拜访一次",
         "仁济药剂科张科长让我12月12号把材料发给他")


def logged(chat: MemoryChat, *notes: str) -> None:
    for note in notes:
        chat.say(note)
        chat.press("✅ 保存")
        chat.press("完成")


def test_today_shows_what_comes_next(chat: MemoryChat, database: Database) -> None:
    logged(chat, *NOTES)
    today = MemoryChat.text(chat.say("/today"))
    assert "☀️ 今天没有到期的跟进" in today
    assert today.index("📆 接下来：") < today.index("· 11月25日 周三 王主任：带III期数据再去") \
        < today.index("· 11月30日 周一 李医生：拜访一次") \
        < today.index("· 12月12日 周六 张科长：把材料发给他")
    assert rows(database, "SELECT COUNT(*) FROM followups WHERE status = 'open'") == [(3,)]


def test_the_card_lists_the_customers_open_followups(chat: MemoryChat) -> None:
    logged(chat, *NOTES)
    chat.say("/accounts")
    card = MemoryChat.text(chat.press("王主任"))
    assert "⏰ 跟进：11月25日 周三 · 带III期数据再去" in card
    assert "李医生" not in card


def test_opening_a_card_keeps_the_list_in_order(chat: MemoryChat, clock: Clock) -> None:
    logged(chat, *NOTES)
    first = MemoryChat.text(chat.say("/accounts"))
    order = [line for line in first.splitlines() if line.startswith("· ")]
    buttons = [c.label for c in chat.choices()]
    assert order[0].startswith("· 张科长") and order[-1].startswith("· 王主任")
    chat.press("王主任")  # only looked at
    chat.say("/accounts")
    again = [line for line in MemoryChat.text(chat.transcript[-2:]).splitlines()
             if line.startswith("· ")]
    assert again == order and [c.label for c in chat.choices()] == buttons
    chat.press("王主任")
    clock.advance(hours=2)
    logged(chat, "瑞金王主任今天又去了一趟，聊了医保")  # a visit does move him up
    chat.say("/accounts")
    assert chat.choices()[0].label.startswith("王主任")


def test_the_newest_notes_give_the_same_order_as_every_account(database: Database) -> None:
    """The picker's first page is read from the rep's newest notes when they settle it:
    the same customers in the same order as reading every account's last visit, with
    accounts added since and never visited placed by when they were added."""
    start = datetime(2026, 11, 1)
    rng = random.Random(7)
    with database.transaction() as session:
        rep = Directory(session).create_rep("代表", start)
        store = RepStore(session, rep)
        accounts = [store.create_account(f"客户{n}", "人民医院", "心内科",
                                         start + timedelta(minutes=n)) for n in range(150)]
        for n in range(600):
            store.add_note(rng.choice(accounts[:120]), "拜访",
                           start + timedelta(hours=3, minutes=n))
        for n in range(5):  # added late, never visited
            store.create_account(f"新客户{n}", None, None, start + timedelta(hours=9, minutes=n))
        everyone = [a.id for a in store.recent_accounts(None)]
        for limit in (5, 20, 50):
            assert [a.id for a in store.recent_accounts(limit)] == everyone[:limit]
