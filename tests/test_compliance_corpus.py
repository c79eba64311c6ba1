"""Recall and precision of the compliance guard, per category, on a labelled corpus.

tests/data/compliance_corpus.yaml holds realistic visit notes (about three quarters Chinese),
most without any issue, each labelled with the categories it must raise and, for personal
data, the kinds it must redact. Run with `-s` or look at the table printed during the run.

The corpus was written together with the rules, so its scores are optimistic. Three batches were
written after the rules were frozen and measured before any change; first-run results:

    recall/precision   personal_data  adverse_event  kickback   gift       off_label  统方
    held-out 1 (54)    1.00/1.00      0.50/0.83      0.40/1.00  0.00/-     0.00/-     0.86/0.75
    held-out 2 (48)    1.00/1.00      0.50/1.00      1.00/0.67  0.33/1.00  0.00/0.00  0.67/1.00
    held-out 3 (40)    1.00/1.00      0.33/0.75      0.50/1.00  0.00/-     0.33/1.00  0.67/1.00

Every miss was then fixed by a general rule (synonyms, a structural adverse-event rule: drug
exposure, then "出现/起/有点/一直…", whatever the symptom is called) and the batch joined the
corpus. The lesson: personal data (formats and checksums) holds up on new text; adverse events,
gifts and off-label talk are open-ended language, and first-contact recall on new wording was
0.33-0.50 for adverse events. Expect that, not the table, on real notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from coach.compliance import CATEGORIES, Guard, load_guard

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "compliance_corpus.yaml"
RULES = ROOT / "playbooks" / "compliance" / "rules.yaml"

#: (minimum recall, minimum precision) per category.
FLOORS: dict[str, tuple[float, float]] = {
    "personal_data": (0.95, 0.95),
    "adverse_event": (0.95, 0.90),
    "kickback": (0.90, 0.90),
    "gift": (0.90, 0.90),
    "off_label": (0.85, 0.90),
    "prescription_count": (0.90, 0.90),
}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=lambda: {c: Score() for c in CATEGORIES})
    kinds: dict[str, Score] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    notes: int = 0
    chinese: int = 0


def load_corpus() -> list[dict[str, Any]]:
    items = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert isinstance(items, list)
    return items


def is_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def evaluate(guard: Guard, items: list[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        text: str = item["text"]
        expected = set(item.get("expect") or [])
        expected_kinds = set(item.get("kinds") or [])
        result = guard.check(text)
        found = set(result.categories)
        found_kinds = {r.kind for r in result.redactions if r.category == "personal_data"}
        report.notes += 1
        report.chinese += is_chinese(text)
        for category in CATEGORIES:
            score = report.scores[category]
            if category in expected and category in found:
                score.tp += 1
            elif category in found:
                score.fp += 1
                report.misses.append(f"FP {category}: {text}")
            elif category in expected:
                score.fn += 1
                report.misses.append(f"FN {category}: {text}")
        for kind in expected_kinds | found_kinds:
            score = report.kinds.setdefault(kind, Score())
            if kind in expected_kinds and kind in found_kinds:
                score.tp += 1
            elif kind in found_kinds:
                score.fp += 1
                report.misses.append(f"FP kind {kind}: {text}")
            else:
                score.fn += 1
                report.misses.append(f"FN kind {kind}: {text}")
    return report


def table(report: Report) -> Iterator[str]:
    yield (f"compliance corpus: {report.notes} notes, {report.chinese} Chinese "
           f"({report.chinese / report.notes:.0%})")
    yield f"{'category':<20} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>7}"
    rows = [(c, report.scores[c]) for c in CATEGORIES]
    rows += [(f"  kind {k}", s) for k, s in sorted(report.kinds.items())]
    for name, s in rows:
        yield f"{name:<20} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.precision:>10.3f} {s.recall:>7.3f}"
    for miss in report.misses:
        yield f"  {miss}"


@pytest.fixture(scope="module")
def guard() -> Guard:
    return load_guard(RULES)


def test_corpus_is_well_formed() -> None:
    items = load_corpus()
    assert len(items) >= 200
    texts = [item["text"] for item in items]
    assert len(set(texts)) == len(texts), "duplicate notes"
    chinese = sum(is_chinese(t) for t in texts) / len(texts)
    assert 0.6 <= chinese <= 0.8
    clean = sum(not item.get("expect") for item in items) / len(items)
    assert clean >= 0.4, "most notes should have no issue"
    several = sum(len(item.get("expect") or []) >= 2 for item in items)
    assert several >= 10
    known_kinds = set(load_guard(RULES).placeholders) - {"prescription_count"}
    for item in items:
        assert set(item) <= {"text", "expect", "kinds", "why"}, item
        assert set(item.get("expect") or []) <= set(CATEGORIES), item
        assert set(item.get("kinds") or []) <= known_kinds, item
        assert bool(item.get("kinds")) == ("personal_data" in (item.get("expect") or [])), item


def test_recall_and_precision_per_category(guard: Guard,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    report = evaluate(guard, load_corpus())
    with capsys.disabled():
        print()
        for line in table(report):
            print(line)
    failures = []
    for category, (min_recall, min_precision) in FLOORS.items():
        score = report.scores[category]
        if score.recall < min_recall or score.precision < min_precision:
            failures.append(f"{category}: recall {score.recall:.3f} (>= {min_recall}), "
                            f"precision {score.precision:.3f} (>= {min_precision})")
    for kind, score in report.kinds.items():
        if score.recall < 0.9 or score.precision < 0.9:
            failures.append(f"kind {kind}: recall {score.recall:.3f}, "
                            f"precision {score.precision:.3f}")
    assert not failures, "\n".join([*failures, *report.misses])
