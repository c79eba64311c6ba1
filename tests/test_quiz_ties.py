"""A quiz that ends in a tie describes every top style, and its blind spot never contradicts
an equally strong one (the third new-rep trial, finding 8: A 6 / B 0 / C 6 / D 6 described
分析型 and 人际型 only, and warned of "忽略医生的感受和关系" to someone as strong in 人际型).
Rep answers X, bot answers Y, store holds Z; SQLite and PostgreSQL.
"""

from __future__ import annotations

from itertools import cycle

import pytest
import yaml

from coach.store.database import Database
from coach.testing import MemoryChat
from tests.conftest import PLAYBOOKS
from tests.test_followup_object import rows

QUIZ = yaml.safe_load((PLAYBOOKS / "quiz.yaml").read_text(encoding="utf-8"))
QUADRANTS = QUIZ["content"]["quadrants"]


def answers() -> list[dict[str, str]]:
    """Each question's answer labels (zh) by the quadrant they score."""
    return [{next(iter(c["scores"])): c["label"]["zh"] for c in step["choices"]}
            for step in QUIZ["steps"] if step.get("choices")
            and all(c.get("scores") for c in step["choices"])]


def take(chat: MemoryChat, plan: str) -> str:
    """The quiz answered with the quadrants of `plan` in turn; the result's text."""
    chat.say("/quiz")
    chat.press("开始")
    replies = []
    for question, quadrant in zip(answers(), cycle(plan), strict=False):
        replies = chat.press(question[quadrant])
    return MemoryChat.text(replies)


def test_a_three_way_tie_describes_all_three_and_a_blind_spot_none_belies(
        chat: MemoryChat, database: Database) -> None:
    result = take(chat, "ACD")
    assert "A 分析型　6" in result and "B 条理型　0" in result
    assert "分析型、人际型、全局型并列最高" in result
    for quadrant in "ACD":
        assert f"【{QUADRANTS[quadrant]['name']['zh']}·" in result
    assert "忽略医生的感受和关系" not in result  # 分析型's, said to someone as strong in 人际型
    assert f"⚠️ 留意盲点：{QUADRANTS['B']['neglected']['zh']}" in result  # the one used least
    assert rows(database, "SELECT dominant FROM quiz_results") == [("AC",)]


@pytest.mark.parametrize(("plan", "blind"), [("A", "A"), ("AB", "A"), ("CCD", "C")])
def test_a_clear_lead_keeps_its_own_blind_spot(chat: MemoryChat, plan: str, blind: str) -> None:
    result = take(chat, plan)
    assert f"⚠️ 留意盲点：{QUADRANTS[blind]['blind_spot']['zh']}" in result
    assert ("分析型、条理型并列最高" in result) == (plan == "AB")
