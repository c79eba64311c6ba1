"""Low or falling use is no forward stage: tests/data/trial7_stage_decline.yaml (26 notes
written before the fix from session 7's trial G, finding 1: "用量小，不考虑增加规格" read as
采纳, "用得少了，不想再加病人" as 评估 for a customer with no stage).

    .venv/bin/python -m tests.test_stage_decline            # prints "right/total"

Before the fix: see the commit that added this set; the floor is the figure after it.
"""

from __future__ import annotations

from pathlib import Path

from coach.library import Library
from tests.test_stage_notes import ROOT, holds_the_bar, main

DECLINE = ROOT / "tests" / "data" / "trial7_stage_decline.yaml"
FLOOR = 26


def test_low_use_is_no_forward_stage(library: Library) -> None:
    holds_the_bar(library, DECLINE, FLOOR)


if __name__ == "__main__":
    main(Path(DECLINE))
