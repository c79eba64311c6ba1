"""Recall and false alarms of a compliance guard on labelled note sets, for before/after figures.

    .venv/bin/python -m tests.support.guard_measure [--rules RULES] DATA.yaml ...

RULES defaults to playbooks/compliance/rules.yaml; give another tree's (`git show
e6c07dc:playbooks/compliance/rules.yaml > /tmp/main/rules.yaml`) to measure the rules of
that revision with this harness. Each set's fictional portfolio comes from
tests/data/compliance_products.yaml, as in tests/test_compliance_corpus.py. A question to the
rep ("is this an adverse event?") counts as catching the event, and as a notice on a clean
note; a special situation counts only when it is filed as its kind.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from coach.compliance import CATEGORIES, Guard, load_guard

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = ROOT / "tests" / "data" / "compliance_products.yaml"


def measure(guard: Guard, items: list[dict[str, Any]]) -> list[str]:
    """The figures of one set, then every miss, as lines."""
    caught = dict.fromkeys(CATEGORIES, 0)
    expected = dict.fromkeys(CATEGORIES, 0)
    alarms = dict.fromkeys(CATEGORIES, 0)
    clean = noticed = kinds_right = specials = 0
    misses: list[str] = []
    for item in items:
        wanted = set(item.get("expect") or [])
        result = guard.check(item["text"])
        found = set(result.categories) | (
            {"adverse_event"} if result.possible_event is not None else set())
        clean += not wanted
        noticed += not wanted and bool(found)
        for category in CATEGORIES:
            expected[category] += category in wanted
            caught[category] += category in wanted and category in found
            alarms[category] += category in found and category not in wanted
        misses += [f"  missed {c}: {item['text']}" for c in sorted(wanted - found)]
        misses += [f"  false alarm {c}: {item['text']}" for c in sorted(found - wanted)]
        if item.get("special"):
            specials += 1
            event = result.adverse_event or result.possible_event
            kinds_right += event is not None and event.kind == item["special"]
    lines = [f"  {c}: recall {caught[c]}/{expected[c]}, false alarms {alarms[c]}"
             for c in CATEGORIES if expected[c] or alarms[c]]
    lines.append(f"  clean notes with a notice: {noticed}/{clean}; "
                 f"special situations filed as their kind: {kinds_right}/{specials}")
    return lines + misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=ROOT / "playbooks/compliance/rules.yaml")
    parser.add_argument("data", type=Path, nargs="+")
    args = parser.parse_args()
    portfolios = yaml.safe_load(PRODUCTS.read_text(encoding="utf-8")) or {}
    for path in args.data:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        guard = load_guard(args.rules, portfolios.get(path.name, []))
        print(f"{path.name}: {len(items)} notes")
        for line in measure(guard, items):
            print(line)


if __name__ == "__main__":
    main()
