"""A department moving to apply for the hospital listing (进院申请) shows the customer weighing
the product for his patients: the 评估 stage; "uses it in a few patients", in English, shows
the 试用 stage. "还没进院", a hedged or refused application and "not listed yet" propose
nothing (trial E, findings 7 and 8). Measured on tests/data/trial5_stage_listing.yaml, 24
notes written for this fix:

    .venv/bin/python -m tests.test_stage_listing            # prints "right/total"

Before the fix: 9/24; after: 24/24 (the notes were written before the patterns, then the
patterns built on them: expect less on fresh wording; the floor allows it).
"""

from __future__ import annotations

from pathlib import Path

from coach.library import Library
from tests.test_stage_notes import holds_the_bar, main

NOTES = Path(__file__).resolve().parent / "data" / "trial5_stage_listing.yaml"
FLOOR = 22


def test_a_listing_application_is_evaluation_and_a_few_patients_trial(library: Library
                                                                       ) -> None:
    holds_the_bar(library, NOTES, FLOOR)


if __name__ == "__main__":
    main(NOTES)
