"""No follow-up from the sentence of a quid pro quo: tests/data/trial7_flagged_steps.yaml
(20 notes written before the fix from session 7's trial G, finding 2). A note's step is
read as coach/actions/visits.py reads it, with the clauses the compliance guard flags
(`Guard.flagged_clauses`) kept out.

    .venv/bin/python -m tests.test_flagged_sentence_steps     # prints "right/total"
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from coach.library import Library, load_library

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "tests" / "data" / "trial7_flagged_steps.yaml"


def has_step(library: Library, text: str, today: date) -> bool:
    """Whether the note proposes a follow-up (a date or an action)."""
    from coach.capture.reader import read_note

    guard = library.guard
    assert guard is not None
    facts = read_note(library.lexicon, text, today, no_step=guard.flagged_clauses)
    return facts.due is not None or bool(facts.action)


def measure(library: Library) -> tuple[int, list[dict[str, Any]]]:
    raw = yaml.safe_load(NOTES.read_text(encoding="utf-8"))
    today = raw["today"] if isinstance(raw["today"], date) else date.fromisoformat(raw["today"])
    wrong = [n for n in raw["notes"] if has_step(library, n["text"], today) != n["step"]]
    return len(raw["notes"]) - len(wrong), wrong


def test_no_step_from_a_quid_pro_quo(library: Library) -> None:
    right, wrong = measure(library)
    assert not wrong, wrong
    assert right == 20


if __name__ == "__main__":
    right, wrong = measure(load_library(ROOT / "playbooks"))
    print(f"{right}/{right + len(wrong)} right")
    for item in wrong:
        print(f"  expected step={item['step']}: {item['text']}")
