"""The next step of a follow-up is the thing to do, never who asked for it: "让我下周二再约，
要带病例数据" is reminded as 再约，带病例数据, not "跟进：让我" (the second new-rep trial).

Measured on tests/data/trial2_followup_actions.yaml, 25 notes written for this fix in the
ways reps type who asked (让我/叫我/要我/他说/约了) and what to bring:

    .venv/bin/python -m coach.capture.evaluation tests/data/trial2_followup_actions.yaml

Before the fix: dates 25/25, actions 14/25 right, 6/25 whole, 11 of them a fragment such as
让我, 叫我, 约了, 说叫我. After: dates 25/25, actions 25/25 right, 21/25 whole, no fragment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coach.capture.evaluation import evaluate, load_set
from coach.capture.lexicon import Lexicon
from coach.capture.reader import read_note
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_followup_object import rows

NOTES = Path(__file__).resolve().parent / "data" / "trial2_followup_actions.yaml"
# who asked, or a word cut off from the step: never a follow-up's action
FRAGMENT = re.compile(r"^(?:(?:他|她)?说?(?:让|叫|要|请)我|(?:他|她)?说|约了|约好"
                      r"|[\u4e00-\u9fff])$")
ACTION_FLOOR = 24  # of 25
WHOLE_FLOOR = 20


def test_no_follow_up_is_a_fragment_and_the_steps_are_right(lexicon: Lexicon) -> None:
    labelled = load_set(NOTES)
    for note in labelled.notes:
        facts = read_note(lexicon, note["text"], labelled.today)
        assert facts.due is not None and facts.due.isoformat() == str(note["date"]), note
        assert facts.action and not FRAGMENT.match(facts.action), (note["text"], facts.action)
    scores = evaluate(lexicon, labelled).fields
    assert scores["action"].correct >= ACTION_FLOOR
    assert scores["action_whole"].correct >= WHOLE_FLOOR


# the chat's clock starts on Sunday 2026-11-22: 下周二 is 11月24日
@pytest.mark.parametrize(("note", "shown", "action"), [
    ("人民医院心内科王主任，让我下周二再约，要带病例数据",
     "⏰ 跟进：11月24日 周二 · 再约，带病例数据", "再约，带病例数据"),
    ("市一院心内科李主任叫我下周三再去一趟，把指南带上",
     "⏰ 跟进：11月25日 周三 · 再去一趟，把指南带上", "再去一趟，把指南带上"),
    ("市一院心内科李主任说让我明天再跑一趟", "⏰ 跟进：11月23日 周一 · 跑一趟", "跑一趟"),
    ("市一院心内科李主任让我月底前送一份病例汇总过去",
     "⏰ 跟进：11月30日 周一 · 送一份病例汇总过去", "送一份病例汇总过去"),
    ("市一院心内科李主任约了下周一下午，带科室会的课件过去",
     "⏰ 跟进：11月23日 周一 · 带科室会的课件过去", "带科室会的课件过去"),
])
def test_the_reminder_says_what_to_do(chat: MemoryChat, database: Database, note: str,
                                      shown: str, action: str) -> None:
    proposal = MemoryChat.text(chat.say(note))
    assert shown in proposal
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert f"提醒你跟进：{action}。" in saved
    assert rows(database, "SELECT action FROM followups") == [(action,)]
