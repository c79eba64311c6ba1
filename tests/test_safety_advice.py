"""While a safety (adverse-event) report about a customer is open, every piece of advice for
him says so first and none asks for more patients or more volume (the second new-rep trial,
item 3: a customer in 试用 with an open report got the price tip again, and nothing held back
"try it on more patients"). Rep says X, bot answers Y, store holds Z; SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import yaml

from coach.store.database import Database
from coach.store.safety import mark_forwarded
from coach.testing import MemoryChat
from tests.conftest import PLAYBOOKS
from tests.test_followup_object import rows

TRIAL = "人民医院心内科王主任开始给几个病人试用了，但嫌价格偏高"
ADOPTION = "人民医院心内科王主任一直在用，合适的病人基本都开我们的"
EVENT = "王主任说有个病人用了以后出现皮疹，已经停药"
HELD = "安全报告还在处理中（不良事件："
NO_MORE = "报告关闭前，先别推动他给更多病人用或加量"
PRICE = "先弄清“贵”指什么"


def more_use_texts() -> list[str]:
    """The zh text of every tactic and answer the playbook marks `more_use`."""
    content = yaml.safe_load((PLAYBOOKS / "next.yaml").read_text(encoding="utf-8"))["content"]
    items = [*content["tactics"], *content["objections"].values()]
    return [str(t["text"]["zh"])[:20] for t in items if t.get("more_use")]


def logged(chat: MemoryChat, note: str) -> str:
    chat.say(note)
    saved = MemoryChat.text(chat.press("✅ 保存"))
    chat.press("完成")
    return saved


def test_the_tip_and_next_acknowledge_the_open_report(chat: MemoryChat,
                                                      database: Database) -> None:
    first = logged(chat, TRIAL)
    assert PRICE in first  # before the report: the concern is answered first
    chat.say(EVENT)
    tip = MemoryChat.text(chat.press("✅ 保存"))
    assert HELD in tip and "「王主任说有个病人用了以后出现皮疹」" in tip and NO_MORE in tip
    assert PRICE not in tip
    chat.press("完成")
    advice = MemoryChat.text(chat.say("/next 王主任"))
    assert "💡 给王主任的下一步" in advice and HELD in advice and NO_MORE in advice
    # asked again the same day, put off, or the daily cap used: still said first
    chat.press("⏳ 稍后")
    chat.press("明天")
    again = MemoryChat.text(chat.say("/next 王主任"))
    assert HELD in again
    assert rows(database, "SELECT account_id, status FROM adverse_events") == [(1, "open")]
    assert ("safety_open_report",) in rows(database, "SELECT tactic_id FROM suggestions")


def test_once_forwarded_the_advice_goes_back_to_the_concern(chat: MemoryChat,
                                                            database: Database) -> None:
    logged(chat, TRIAL)
    chat.say(EVENT)
    chat.press("✅ 保存")
    chat.press("完成")
    with database.transaction() as session:  # the safety team marks it forwarded
        assert mark_forwarded(session, [1], datetime(2026, 11, 22, 3), "safety team") == [1]
    assert rows(database, "SELECT status FROM adverse_events") == [("forwarded",)]
    advice = MemoryChat.text(chat.say("/next 王主任"))
    assert HELD not in advice and PRICE in advice


def tips(chat: MemoryChat, name: str, count: int) -> str:
    """/next for `name` `count` times, each tip dismissed as already done."""
    shown = []
    for _ in range(count):
        shown.append(MemoryChat.text(chat.say(f"/next {name}")))
        chat.press("✖️ 不合适")
        chat.press("已经做过了")
        chat.press("不用了")
    return "\n".join(shown)


def test_no_advice_for_more_use_while_the_report_is_open(chat: MemoryChat) -> None:
    # without a report, an adopter is advised to use it more widely
    logged(chat, "市一院心内科李主任一直在用，合适的病人基本都开我们的")
    before = tips(chat, "李主任", 3)
    assert [t for t in more_use_texts() if t in before]
    # with one open, never: the report is said first, every time, past the daily cap
    logged(chat, ADOPTION)
    logged(chat, EVENT)
    said = tips(chat, "王主任", 4)
    assert said.count(HELD) == 4
    assert not [t for t in more_use_texts() if t in said]


def plan_document(chat: MemoryChat) -> str:
    """The development plan for 王主任 (goal: adoption, no date), as the rep opens it."""
    chat.say("/plan 王主任")
    chat.press("采纳")
    replies = chat.press("跳过")
    [document] = [r.attachment for r in replies if r.attachment is not None]
    return document.data.decode("utf-8")


def test_the_plan_holds_back_more_use_while_the_report_is_open(chat: MemoryChat) -> None:
    logged(chat, ADOPTION)
    before = plan_document(chat)
    assert [t for t in more_use_texts() if t in before]  # its three tactics, unfiltered
    logged(chat, EVENT)
    after = plan_document(chat)
    assert HELD in after
    assert not [t for t in more_use_texts() if t in after]

