"""Trial E and F's misreadings of typed notes, measured on sets written for session 7 as the
category, not the trials' own strings (each set's header says what it holds):

- tests/data/trial7_destinations.yaml: a department something is handed to (交药剂科,
  提交到药学部, "submit to pharmacy") is no department or role of the customer's.
- tests/data/trial7_other_person_step.yaml: a follow-up said after a second person is named
  stays the customer's ("Saw Dr Wang … with Dr Liu, follow up next Wed").
- tests/data/trial7_step_clause.yaml and trial7_deadline_workday.yaml are measured by
  `python -m coach.capture.evaluation` (the step's clause; a deadline on a day off).

    .venv/bin/python -m tests.test_trial7_capture      # points right and notes whole

A point is one labelled field read as labelled (a null label: nothing read); a note is whole
when all its points are right.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from coach.capture.evaluation import load_set
from coach.capture.lexicon import Lexicon, same_department
from coach.capture.reader import read_note, read_note_about
from coach.library import Library
from coach.names import name_key
from tests.support.measure_cli import print_measure

DATA = Path(__file__).resolve().parent / "data"
DESTINATIONS = DATA / "trial7_destinations.yaml"
OTHER_PERSON = DATA / "trial7_other_person_step.yaml"


def _same(lexicon: Lexicon, field: str, want: Any, got: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if field == "department":
        return want == got or same_department(lexicon, str(want), str(got))
    if field in ("customer", "other"):
        return name_key(str(want)) == name_key(str(got))
    return str(want) == str(got)


def _read(lexicon: Lexicon, text: str, today: date) -> dict[str, Any]:
    facts = read_note(lexicon, text, today)
    found: dict[str, Any] = {
        "customer": facts.mention.name if facts.mention else None,
        "department": facts.department, "role": facts.role,
        "date": facts.due.isoformat() if facts.due else None,
        "other": facts.others[0].name if facts.others else None}
    if facts.others:
        theirs = read_note_about(lexicon, text, today, facts.others[0].name)
        found["other_date"] = theirs.due.isoformat() if theirs.due else None
    else:
        found["other_date"] = None
    return found


def score(lexicon: Lexicon, path: Path) -> tuple[int, int, int, list[str]]:
    """(points right, points, notes whole, misses) on a set labelled with any of customer,
    department, role, date, other, other_date."""
    labelled = load_set(path)
    right = total = whole = 0
    misses: list[str] = []
    for note in labelled.notes:
        found = _read(lexicon, str(note["text"]), labelled.today)
        wrong = []
        for field in ("customer", "department", "role", "date", "other", "other_date"):
            if field not in note:
                continue
            want = note[field]
            want = want.isoformat() if isinstance(want, date) else want
            total += 1
            if _same(lexicon, field, want, found[field]):
                right += 1
            else:
                wrong.append(f"{field}: want {want!r}, got {found[field]!r}")
        whole += not wrong
        if wrong:
            misses.append(f"{note['text']}  [{'; '.join(wrong)}]")
    return right, total, whole, misses


def test_a_department_handed_to_is_not_the_customers(lexicon: Lexicon) -> None:
    right, total, whole, misses = score(lexicon, DESTINATIONS)
    assert right >= total - 1 and whole >= 19, misses


def test_a_step_after_a_second_person_stays_the_customers(lexicon: Lexicon) -> None:
    right, total, whole, misses = score(lexicon, OTHER_PERSON)
    assert right >= total - 1 and whole >= 15, misses


def _measure(library: Library, lexicon: Lexicon) -> tuple[int, list[str]]:
    right = 0
    misses: list[str] = []
    for path in (DESTINATIONS, OTHER_PERSON):
        points, total, whole, missed = score(lexicon, path)
        notes = len(load_set(path).notes)
        print(f"{path.name}: {points}/{total} points, {whole}/{notes} notes whole")
        right += whole
        misses += missed
    return right, misses


if __name__ == "__main__":
    print_measure(_measure)
