"""Interest is a stage a note shows: "对我们新适应症有兴趣", "挺感兴趣的", "想了解一下", "问了
很多" propose the 兴趣 stage; "没兴趣", "不是很感兴趣", "兴趣不大", "不知道他有没有兴趣" propose
nothing (the second new-rep trial, item 2). Measured on tests/data/trial2_stage_interest.yaml,
30 notes written for this fix (17 showing interest, 13 denying or hedging it):

    .venv/bin/python -m tests.test_stage_interest            # prints "right/total"

Before the fix: 13/30 (every denial right, not one of the interest notes). After: 30/30;
tests/data/stage_notes.yaml stays at 39/40.
"""

from __future__ import annotations

from pathlib import Path

from coach.library import Library
from tests.test_stage_notes import holds_the_bar, main

NOTES = Path(__file__).resolve().parent / "data" / "trial2_stage_interest.yaml"
FLOOR = 28


def test_interest_is_read_and_its_denials_are_not(library: Library) -> None:
    holds_the_bar(library, NOTES, FLOOR)


if __name__ == "__main__":
    main(NOTES)
