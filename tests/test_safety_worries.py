"""A customer's worry about a harm named by its name is a safety concern (session 7: "主要担心
尿路感染" and "worried about UTI risk" showed none). The concern's patterns name the guard's
event lexicon (`{{ev_zh}}`, `{{ev_en}}` in playbooks/log.yaml, expanded from
playbooks/compliance/rules.yaml at load: coach/actions/signals.py `with_guard_words`), so the
two keep one list of harms.

Measured on tests/data/trial7_safety_worries.yaml (28 notes written before the fix: 18
worries about a named harm, 10 that name a harm without worrying or worry about something
else), each right when the note shows a safety concern exactly when it should:

    .venv/bin/python -m tests.test_safety_worries          # prints "right/total"

Before (the harms listed in the pattern alone): 16/28. After: 28/28.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from coach.actions.signals import find_signals
from coach.capture.lexicon import Lexicon
from coach.library import Library, PlaybookErrors, load_library
from coach.testing import MemoryChat
from tests.support.measure_cli import print_measure

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "trial7_safety_worries.yaml"
FLOOR = 28  # of 28


def _objections(library: Library) -> list[dict[str, Any]]:
    return [s for s in library.playbooks["log"].content.get("signals", [])
            if s.get("kind") == "objection"]


def measure(library: Library, _lexicon: Lexicon) -> tuple[int, list[str]]:
    """Notes whose safety concern is read right, and the misses."""
    cases = yaml.safe_load(DATA.read_text(encoding="utf-8"))["cases"]
    misses = []
    for case in cases:
        found = {str(s["value"]) for s in find_signals(case["note"], _objections(library))}
        if ("safety" in found) != case["safety"]:
            misses.append(f"{case['note']}  [want safety {case['safety']}, found {sorted(found)}]")
    return len(cases) - len(misses), misses


def test_worries_about_a_named_harm_are_safety_concerns(library: Library,
                                                        lexicon: Lexicon) -> None:
    right, misses = measure(library, lexicon)
    assert right >= FLOOR, misses


def test_the_proposal_shows_the_worry(chat: MemoryChat) -> None:
    reply = MemoryChat.text(chat.say("华西内分泌黄主任，对SGLT2还在观望，主要担心尿路感染，"
                                     "下周四门诊后再去送安全性数据"))
    assert "⚠️ 顾虑：安全性（「担心尿路感染」），下次先回应" in reply, reply
    reply = MemoryChat.text(chat.say("/cancel"))
    reply = MemoryChat.text(chat.say("Saw Dr Zhang at West China, he's worried about UTI risk, "
                                     "see him next Tue"))
    assert "⚠️ 顾虑：安全性（「worried about UTI」）" in reply or (
        "Safety" in reply and "worried about UTI" in reply), reply


def test_a_pattern_naming_a_list_the_rules_lack_is_a_playbook_problem(tmp_path: Path) -> None:
    import shutil
    copy = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", copy)
    log = copy / "log.yaml"
    log.write_text(log.read_text(encoding="utf-8").replace("(?:{{ev_zh}}|", "(?:{{harms_zh}}|", 1),
                   encoding="utf-8")
    with pytest.raises(PlaybookErrors) as raised:
        load_library(copy)
    assert any(i.code == "unknown-define" and "{{harms_zh}}" in i.message
               and i.file.endswith("log.yaml") and i.line > 1 for i in raised.value.issues), \
        raised.value.issues


if __name__ == "__main__":
    print_measure(measure)
