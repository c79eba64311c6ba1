"""Regression evidence is read once per turn (issue 15, item 7): /next used to read it for
the daily cap and again to rank the tactics, and a logged visit read it for the alert and
again for the tip. Each reading starts from the customer's stage changes
(`RepStore.stage_changes`, which a turn reads once unless it records a stage), so the test
counts those queries on the real database while a rep talks to the bot, and checks the
advice still sees the newest evidence (nothing stale: the visit saved in the same turn
counts)."""

from __future__ import annotations

from coach.engine import Engine
from coach.testing import MemoryChat
from tests.support.statements import statements

MARK = "FROM stage_history WHERE stage_history.rep_id = "  # the regression reading


def test_a_turn_reads_regression_once(chat: MemoryChat, engine: Engine) -> None:
    chat.say("/start")
    chat.say("社区医院内科李医生开始给几个病人试用了")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("社区医院李医生说新进了仿制品，最近用得少了")
    with statements(engine, MARK) as seen:
        replies = chat.press("✅ 保存")
    text = MemoryChat.text(replies)
    # the alert and the tip both see the evidence of this very visit
    assert "📉 李医生可能在倒退" in text and "「用得少了」" in text, text
    assert "李医生提到仿制药" in text, text
    assert len(seen) == 1, f"the saved visit read regression {len(seen)} times"
    chat.press("完成")
    chat.say("/next")
    with statements(engine, MARK) as seen:
        replies = chat.press("李医生")
    assert "李医生提到仿制药" in MemoryChat.text(replies)
    assert len(seen) == 1, f"/next read regression {len(seen)} times"
