"""Which open follow-up a new one replaces (trial D finding 6). A new step replaces one only
when it is the same step ("再去送样品资料" after "送样品资料") or when the note moves a date
("王主任刚打电话 说下周三他出门诊 改到周四下午", "改下下周一吧"): then it moves the one on the
old day named (else the soonest) and keeps its step when the note gives none. An unrelated
step ("月底前要一份医保政策解读") leaves the open one be, and the proposal says so; one tap
("保存，之前的跟进不要了") drops it anyway. Scripts on the real store, SQLite and PostgreSQL.

The note reading behind it (dates such as 明年初 / 下个月中旬, a message or call never the
step) is measured on tests/data/trial4_followups.yaml, 12 notes written fresh for this fix:

    .venv/bin/python -m coach.capture.evaluation tests/data/trial4_followups.yaml

Before: date 5/10 right (precision 0.625), action precision 0.714 ("发消息说周五不行" as the
step). After: date 10/10, action 5/5 with precision 1.000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from coach.capture.evaluation import evaluate, load_set
from coach.capture.lexicon import Lexicon
from coach.store.database import Database
from coach.testing import MemoryChat

NOTES = Path(__file__).resolve().parent / "data" / "trial4_followups.yaml"


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def saved_first(chat: MemoryChat, note: str) -> None:
    chat.say(note)
    chat.press("✅ 保存")
    chat.press("完成")


def test_the_fresh_notes_give_their_date_and_no_garbage_step(lexicon: Lexicon) -> None:
    result = evaluate(lexicon, load_set(NOTES))
    date, action = result.fields["date"], result.fields["action"]
    assert (date.correct, date.predicted) == (10, 10), date.misses
    assert (action.correct, action.predicted) == (5, 5), action.misses


@pytest.mark.parametrize(("first", "moving", "shown", "old", "new", "step"), [
    ("华西心内科王主任 下周三去送样品资料",
     "华西心内科王主任刚打电话 说下周三他出门诊 改到周四下午",
     "⏰ 跟进：11月26日 周四 · 送样品资料", "2026-11-25", "2026-11-26", "送样品资料"),
    ("华西内分泌科龚医生 下周四送文献",
     "华西内分泌科龚医生发短信 说下周四有手术，改下下周一吧",
     "⏰ 跟进：11月30日 周一 · 送文献", "2026-11-26", "2026-11-30", "送文献"),
])
def test_a_call_or_message_that_only_moves_the_day_keeps_the_step(
        chat: MemoryChat, database: Database, first: str, moving: str, shown: str, old: str,
        new: str, step: str) -> None:
    saved_first(chat, first)
    proposal = MemoryChat.text(chat.say(moving))
    assert shown in proposal
    assert f"↪️ 之前{int(old[5:7])}月{int(old[8:])}日的跟进（{step}）改到这天" in proposal
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "拜访" not in saved.split("\n")[0]
    assert rows(database, "SELECT due_date, action, status FROM followups ORDER BY id") == [
        (old, step, "replaced"), (new, step, "open")]


def test_an_unrelated_step_leaves_the_open_one_be(chat: MemoryChat,
                                                  database: Database) -> None:
    saved_first(chat, "华西心内科王主任 下周三去送样品资料")
    proposal = MemoryChat.text(chat.say("华西心内科王主任 月底前要一份医保政策解读"))
    assert "↪️" not in proposal
    assert "📌 之前的跟进照旧保留：11月25日 · 送样品资料" in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT due_date, status FROM followups ORDER BY id") == [
        ("2026-11-25", "open"), ("2026-11-30", "open")]


def test_the_rep_may_drop_the_unrelated_one_with_a_tap(chat: MemoryChat,
                                                       database: Database) -> None:
    saved_first(chat, "华西心内科王主任 下周三去送样品资料")
    chat.say("华西心内科王主任 月底前要一份医保政策解读")
    chat.press("保存，之前的跟进不要了")
    assert rows(database, "SELECT due_date, status FROM followups ORDER BY id") == [
        ("2026-11-25", "replaced"), ("2026-11-30", "open")]


def test_the_same_step_on_another_day_replaces_it(chat: MemoryChat,
                                                  database: Database) -> None:
    saved_first(chat, "华西心内科王主任 下周三去送样品资料")
    proposal = MemoryChat.text(chat.say("华西心内科王主任 下周五再去送样品资料"))
    assert "↪️ 之前11月25日的跟进" in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT due_date, status FROM followups ORDER BY id") == [
        ("2026-11-25", "replaced"), ("2026-11-27", "open")]
