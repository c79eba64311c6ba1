"""Trying the product is a stage a note shows, in Chinese as in English: "想先给几个pt试用下",
"科里已经有2个病人在用了，反馈不错", "开了几盒试试" and "wants samples for 3 pts" propose the 试用
stage; "暂时不想试用", "还在考虑要不要给病人试试", "might consider a trial if…" propose nothing
(the third new-rep trial, finding 5). Measured on tests/data/trial3_stage_trial.yaml, 33 notes
written for this fix (19 trial, 3 adoption, 11 denying, hedging or about someone else):

    .venv/bin/python -m tests.test_stage_trial            # prints "right/total"

Before the fix: see the commit message and the report; after: see FLOOR.
"""

from __future__ import annotations

from pathlib import Path

from coach.library import Library
from tests.test_stage_notes import holds_the_bar, main

NOTES = Path(__file__).resolve().parent / "data" / "trial3_stage_trial.yaml"
FLOOR = 30


def test_trial_is_read_and_its_hedges_are_not(library: Library) -> None:
    holds_the_bar(library, NOTES, FLOOR)


if __name__ == "__main__":
    main(NOTES)
