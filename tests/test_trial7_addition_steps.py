"""An addition tells the rep's next step only when it says the rep's own step (trial F
finding 3): "对了，她说下个月要去北京开会" right after saving is her plan, information in
the note, and the saved follow-up (送文献) stays; "对了 她让我下周三带III期数据过去",
"约了下周五再见一面", "I'll bring the samples Thu" give a step.

Measured on tests/data/trial7_addition_steps.yaml (26 texts written for this fix):

    .venv/bin/python -m tests.test_trial7_addition_steps       # prints "right/total"

Before (main at df6c512, this file and the data copied into `git archive df6c512`, run
there with PYTHONPATH at it): 13/26 (every plan read as a step). After: 26/26.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from coach.capture.additions import read_addition
from coach.capture.lexicon import Lexicon
from coach.library import Library
from coach.store.database import Database
from coach.testing import MemoryChat
from testkit.clock import Clock
from tests.support.measure_cli import print_measure
from tests.test_followup_object import rows

DATA = Path(__file__).resolve().parent / "data" / "trial7_addition_steps.yaml"
FLOOR = 26  # of 26


def _read(lexicon: Lexicon, case: dict[str, Any], today: Any) -> dict[str, Any]:
    added = read_addition(lexicon, case["typed"], today, case["customer"],
                          known_names=(case["customer"], "王主任"),
                          by_name=case["when"] != "saved")
    if added is None:
        return {"step": "other"}
    if added.due is None and added.action is None:
        return {"step": "none"}
    return {"step": "new", "action": added.action}


def measure(_library: Library, lexicon: Lexicon) -> tuple[int, list[str]]:
    """Additions read right, and the misses."""
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    misses = []
    for case in raw["cases"]:
        got = _read(lexicon, case, raw["today"])
        want = dict(case["want"])
        if want["step"] == "new" and "action" not in want:
            got.pop("action", None)
        if got != want:
            misses.append(f"{case['typed']}  [want {want}, got {got}]")
    return len(raw["cases"]) - len(misses), misses


def test_additions_give_a_step_only_when_it_is_the_reps(library: Library,
                                                         lexicon: Lexicon) -> None:
    right, misses = measure(library, lexicon)
    assert right >= FLOOR, misses


def test_her_trip_leaves_the_saved_follow_up(chat: MemoryChat, database: Database,
                                             clock: Clock) -> None:
    clock.advance(days=1)
    chat.say("越秀区人民医院内分泌科 李主任 聊了新适应症 下周二送文献")
    chat.press("✅ 保存")
    reply = MemoryChat.text(chat.say("对了，她说下个月要去北京开会"))
    assert "✏️ 这段话补充到刚才李主任的记录里" in reply
    assert "📌 之前的跟进照旧保留：12月1日 · 送文献" in reply
    assert "替换" not in reply
    chat.press("✅ 保存")
    assert rows(database, "SELECT action, due_date, status FROM followups") == [
        ("送文献", "2026-12-01", "open")]
    [(text,)] = rows(database, "SELECT text FROM notes")
    assert text.endswith("对了，她说下个月要去北京开会")


def test_her_own_request_of_the_rep_is_a_step(chat: MemoryChat, database: Database,
                                              clock: Clock) -> None:
    clock.advance(days=1)
    chat.say("越秀区人民医院内分泌科 李主任 聊了新适应症 下周二送文献")
    chat.press("✅ 保存")
    reply = MemoryChat.text(chat.say("对了，她让我周四把指南发给她"))
    assert "把指南发给她" in reply and "送文献" in reply  # the old step is shown, not silent


if __name__ == "__main__":  # `python -m tests.test_trial7_addition_steps [PLAYBOOKS]`
    print_measure(measure)
