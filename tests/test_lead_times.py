"""A step due some time before a dated event is due then, not on the event's day: "药事会定在
12月22号，新药申请要提前两周交" is a follow-up on 8 December (trial E finding 4: the reminder
fell on the meeting day, after the deadline the note named). 提前 said of something else
("病人提前两周出院了", "她提前半小时到的") leaves the date alone. The same fix reads
"下个月20号" (that day of next month), which no rule read before. Measured on
tests/data/trial5_lead_times.yaml, 13 notes written for it:

    .venv/bin/python -m coach.capture.evaluation tests/data/trial5_lead_times.yaml

dates 5/13 before, 13/13 after; capture_fresh.yaml's dates 161 → 162 of 164 ("1月26号下午
我提前一天去调试设备" is now the 25th, as labelled), the other sets unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from coach.capture.evaluation import evaluate, load_set
from coach.capture.lexicon import Lexicon
from coach.store.database import Database
from coach.testing import MemoryChat

NOTES = Path(__file__).resolve().parent / "data" / "trial5_lead_times.yaml"


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_the_fresh_notes_give_the_day_the_step_is_due(lexicon: Lexicon) -> None:
    date = evaluate(lexicon, load_set(NOTES)).fields["date"]
    assert (date.correct, date.predicted) == (13, 13), date.misses


def test_the_application_is_reminded_two_weeks_before_the_committee(
        chat: MemoryChat, database: Database) -> None:
    proposal = MemoryChat.text(chat.say(
        "瑞金药剂科李老师，聊了下进药流程，他说今年最后一次药事会定在12月22号，"
        "新药申请要提前两周交到药剂科"))
    assert "⏰ 跟进：12月8日 周二" in proposal, proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT due_date FROM followups") == [("2026-12-08",)]


def test_a_patient_discharged_early_moves_no_date(chat: MemoryChat) -> None:
    proposal = MemoryChat.text(chat.say(
        "中山心内王主任 下周三再去，他说上次那个病人提前两周出院了，恢复得不错"))
    assert "⏰ 跟进：11月25日 周三" in proposal, proposal
