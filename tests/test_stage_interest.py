"""Interest is a stage a note shows: "对我们新适应症有兴趣", "挺感兴趣的", "想了解一下", "问了
很多" propose the 兴趣 stage; "没兴趣", "不是很感兴趣", "兴趣不大", "不知道他有没有兴趣" propose
nothing (the second new-rep trial, item 2). Measured on tests/data/trial2_stage_interest.yaml,
30 notes written for this fix (17 showing interest, 13 denying or hedging it):

    .venv/bin/python -m tests.test_stage_interest            # prints "right/total"

Before the fix: 13/30 (every denial right, not one of the interest notes). After: 30/30;
tests/data/stage_notes.yaml stays at 39/40.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from coach.library import Library, load_library
from tests.test_stage_notes import proposed_stage

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "tests" / "data" / "trial2_stage_interest.yaml"
FLOOR = 28


def measure(library: Library) -> tuple[int, list[dict[str, Any]]]:
    """How many notes propose the stage they show (none for a denial), and the misses."""
    notes = yaml.safe_load(NOTES.read_text(encoding="utf-8"))["notes"]
    wrong = [{**n, "got": got} for n in notes
             if (got := proposed_stage(library, n["note"], n["stage"])) != n["expect"]]
    return len(notes) - len(wrong), wrong


def test_interest_is_read_and_its_denials_are_not(library: Library) -> None:
    right, wrong = measure(library)
    assert right >= FLOOR, wrong
    # a denial never moves the stage, whatever the floor allows
    assert not [w for w in wrong if w["expect"] is None], wrong


if __name__ == "__main__":
    playbooks = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "playbooks"
    right, wrong = measure(load_library(playbooks))
    print(f"{right}/{right + len(wrong)} right")
    for item in wrong:
        print(f"  {item['stage']} → expected {item['expect']}, got {item['got']}: {item['note']}")
