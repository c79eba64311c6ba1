"""A safety worry is recorded when the note names the harm feared: "怕骨髓抑制", "担心肝损",
"对心脏毒性有顾虑", "副作用太大", "worried about neutropenia"; not when a side effect is named
with no worry ("没有出现骨髓抑制", "副作用小") or the worry is denied ("不担心出血") (the third
new-rep trial, finding 9: "怕骨髓抑制" alone was not recorded, "对安全性有顾虑" was).

Measured on tests/data/trial3_safety_objections.yaml, 28 notes written for this fix (18 with a
safety worry, 10 without):

    .venv/bin/python -m coach.capture.evaluation tests/data/trial3_safety_objections.yaml

Before the fix: 1/19 concerns found (the price one; not one safety worry), no false one.
After: 19/19, no false one.
"""

from __future__ import annotations

from pathlib import Path

from coach.capture.evaluation import load_set, objection_score
from coach.testing import MemoryChat

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "tests" / "data" / "trial3_safety_objections.yaml"
FLOOR = 17  # of 19


def test_the_harm_feared_is_a_safety_worry() -> None:
    score = objection_score(load_set(NOTES), ROOT / "playbooks" / "log.yaml")
    assert score is not None
    assert score.correct >= FLOOR, score.misses
    assert score.predicted == score.correct, score.misses  # no worry read where none is


def test_the_worry_is_shown_and_saved_on_the_card(chat: MemoryChat) -> None:
    proposal = MemoryChat.text(chat.say("仁济肿瘤科陈主任 怕骨髓抑制，下周二带安全性数据过去"))
    assert "⚠️ 顾虑：安全性（「怕骨髓抑制」），下次先回应" in proposal
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "⚠️ 已记下顾虑：安全性" in saved
