"""A correction of who the visit was with changes the name, never the department: "不是陈主任，
是张科", "是张科不是陈主任", "I meant Dr Zhang"; typed at 换客户, "张科，仁济药剂科" is 张科 at
仁济, 药剂科 (the third new-rep trial, finding 2: 张科 became the department in both).

Measured on tests/data/trial3_corrections.yaml, 34 texts written for this fix (24 corrections,
6 of them of a place or a date, and 10 customers typed at 换客户), each scored right when every
field (name, hospital, department, date) is what the rep typed:

    .venv/bin/python -m tests.test_name_corrections          # prints "right/total"

Before the fix: 20/34 (corrections 15/24, typed customers 5/10). After: 32/34 (23/24 and
9/10; the misses: "是小刘不是老王", and 省医 not read as a hospital in "省医药剂科").
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from coach.capture import load_lexicon, mention_in, read_correction
from coach.capture.lexicon import Lexicon, same_department
from coach.names import hospitals_match, name_key

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "trial3_corrections.yaml"
CORRECTIONS_FLOOR = 23  # of 24
TYPED_FLOOR = 9  # of 10


def _same(lexicon: Lexicon, field: str, want: Any, got: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if field == "name":
        return name_key(str(want)) == name_key(str(got))
    if field == "hospital":
        return hospitals_match(str(want), str(got))
    if field == "department":
        return want == got or bool(same_department(lexicon, str(want), str(got)))
    return str(want) == str(got)


def _correction(lexicon: Lexicon, text: str, today: date) -> dict[str, Any]:
    found = read_correction(lexicon, text, today)
    if found is None:
        return {"name": None, "hospital": None, "department": None, "due": None}
    mention = found.mention
    return {"name": mention.name if mention else None,
            "hospital": found.hospital or (mention.hospital if mention else None),
            "department": found.department or (mention.department if mention else None),
            "due": found.due.isoformat() if found.due else None}


def _typed(lexicon: Lexicon, text: str, today: date) -> dict[str, Any]:
    mention = mention_in(lexicon, text, today)
    if mention is None:
        return {"name": None, "hospital": None, "department": None}
    return {"name": mention.name, "hospital": mention.hospital,
            "department": mention.department}


def measure(lexicon: Lexicon) -> tuple[int, int, int, int, list[str]]:
    """(corrections right, of, typed customers right, of, misses)."""
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    today = raw["today"]
    misses: list[str] = []
    counts = []
    for key, read, fields in (("corrections", _correction,
                               ("name", "hospital", "department", "due")),
                              ("typed_customers", _typed, ("name", "hospital", "department"))):
        right = 0
        for case in raw[key]:
            got = read(lexicon, case["text"], today)
            want = {f: (case.get(f).isoformat() if isinstance(case.get(f), date)
                        else case.get(f)) for f in fields}
            if all(_same(lexicon, f, want[f], got[f]) for f in fields):
                right += 1
            else:
                misses.append(f"{case['text']}  [want {want}, got {got}]")
        counts += [right, len(raw[key])]
    return counts[0], counts[1], counts[2], counts[3], misses


def test_a_corrected_name_stays_a_name(lexicon: Lexicon) -> None:
    fixed, _, typed, _, misses = measure(lexicon)
    assert fixed >= CORRECTIONS_FLOOR and typed >= TYPED_FLOOR, misses


def main() -> None:
    """`python -m …` [PLAYBOOKS]: the measure with these playbooks (default: the shipped)."""
    playbooks = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "playbooks"
    lexicon, problems = load_lexicon(playbooks / "capture" / "lexicon.yaml")
    assert lexicon is not None, problems
    fixed, corrections, typed, customers, misses = measure(lexicon)
    print(f"{fixed + typed}/{corrections + customers} right (corrections {fixed}/{corrections}, "
          f"typed customers {typed}/{customers})")
    for miss in misses:
        print(f"  {miss}")


if __name__ == "__main__":
    main()
