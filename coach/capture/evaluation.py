"""How well the note reader does on a labelled set of notes: precision and recall per field,
and how often a note would be filed under another customer without asking.

The set is YAML (`tests/data/capture_notes.yaml` is the shipped one): `today`, the rep's
existing `accounts` ({id, name, hospital, department}), and `notes` with the expected
`customer`, `hospital`, `department`, `date`, `action` and `match` (an account id, `new`, or
null). Authors who extend the lexicon run it (`make test` prints it) to see what changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from coach.capture.lexicon import Lexicon, same_department
from coach.capture.matching import Resolution, resolve
from coach.capture.reader import NoteFacts, read_note
from coach.names import hospitals_match, is_chinese, name_key, pinyin_of

__all__ = ["FIELDS", "Evaluation", "FieldScore", "LabelledSet", "evaluate", "load_set"]

FIELDS = ("customer", "hospital", "department", "date", "action", "action_whole")
ACTION_SIMILARITY = 0.6
# `action_whole`: the action with nothing of it lost ("发给她" for "把指南发给她" is an action,
# but not the whole one: the object went missing)
WHOLE_SIMILARITY = 0.85


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    hospital: str | None
    department: str | None


@dataclass(frozen=True)
class LabelledSet:
    today: date
    accounts: list[Account]
    notes: list[dict[str, Any]]


def load_set(path: Path) -> LabelledSet:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    today = raw["today"] if isinstance(raw["today"], date) else date.fromisoformat(raw["today"])
    accounts = [Account(str(a["id"]), str(a["name"]), a.get("hospital"), a.get("department"))
                for a in raw["accounts"]]
    return LabelledSet(today, accounts, list(raw["notes"]))


@dataclass
class FieldScore:
    expected: int = 0
    predicted: int = 0
    correct: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


@dataclass
class Evaluation:
    notes: int = 0
    fields: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore()
                                                                   for f in FIELDS})
    sure_right: int = 0  # filed under the right existing customer without asking
    asked: int = 0  # the rep was shown candidates
    misfiled: list[str] = field(default_factory=list)  # filed under another customer, unasked
    attempts: list[str] = field(default_factory=list)  # the only person named, though not met
    duplicated: list[str] = field(default_factory=list)  # an existing customer made new

    def table(self) -> str:
        lines = [f"note capture on {self.notes} labelled notes",
                 f"  {'field':<11}{'expected':>9}{'found':>7}{'right':>7}{'precision':>11}"
                 f"{'recall':>8}"]
        for name, score in self.fields.items():
            lines.append(f"  {name:<11}{score.expected:>9}{score.predicted:>7}"
                         f"{score.correct:>7}{score.precision:>11.3f}{score.recall:>8.3f}")
        lines.append(f"  existing customers: {self.sure_right} filed without asking, "
                     f"{self.asked} asked, {len(self.misfiled)} filed under another customer "
                     f"unasked, {len(self.duplicated)} made a new customer")
        return "\n".join(lines)


def _same(lexicon: Lexicon, name: str, expected: str | None, predicted: str | None) -> bool:
    if expected is None or predicted is None:
        return False
    if name == "department" and same_department(lexicon, expected, predicted):
        return True  # 消化科 and 消化内科 name one department
    if name == "customer":
        return name_key(expected) == name_key(predicted)
    if name == "hospital":
        return hospitals_match(expected, predicted)
    if name == "action":
        a, b = expected.lower().strip(), predicted.lower().strip()
        return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= ACTION_SIMILARITY
    if name == "action_whole":
        a, b = (re.sub(r"\s+", "", v.lower()) for v in (expected, predicted))
        return a in b or SequenceMatcher(None, a, b).ratio() >= WHOLE_SIMILARITY
    return str(expected).strip().lower() == str(predicted).strip().lower()


def _same_name(a: str, b: str) -> bool:
    ka, kb = name_key(a), name_key(b)
    if is_chinese(ka) != is_chinese(kb):
        ka, kb = (pinyin_of(k) if is_chinese(k) else k for k in (ka, kb))
    return ka == kb


def _predicted(facts: NoteFacts) -> dict[str, str | None]:
    return {"customer": facts.mention.name if facts.mention else None,
            "hospital": facts.hospital, "department": facts.department,
            "date": facts.due.isoformat() if facts.due else None, "action": facts.action,
            "action_whole": facts.action}


def _fields(account: Account) -> tuple[str, str | None, str | None, str | None]:
    return account.name, account.hospital, account.department, None


def evaluate(lexicon: Lexicon, labelled: LabelledSet) -> Evaluation:
    result = Evaluation()
    hospitals: Sequence[str] = sorted({a.hospital for a in labelled.accounts if a.hospital})
    names = [a.name for a in labelled.accounts]
    for note in labelled.notes:
        text = str(note["text"])
        facts = read_note(lexicon, text, labelled.today, hospitals, names)
        result.notes += 1
        predicted = _predicted(facts)
        for name in FIELDS:
            expected = note.get("action" if name == "action_whole" else name)
            expected = expected.isoformat() if isinstance(expected, date) else expected
            score = result.fields[name]
            score.expected += expected is not None
            score.predicted += predicted[name] is not None
            if _same(lexicon, name, expected, predicted[name]):
                score.correct += 1
            elif expected is not None or predicted[name] is not None:
                score.misses.append(f"{text}  [{name}: want {expected!r}, got "
                                    f"{predicted[name]!r}]")
        _score_match(lexicon, result, labelled, note, facts)
    return result


def _score_match(lexicon: Lexicon, result: Evaluation, labelled: LabelledSet,
                 note: dict[str, Any],
                 facts: NoteFacts) -> None:
    match = note.get("match")
    if facts.mention is None:
        return
    resolution: Resolution[Account] = resolve(
        facts.mention, labelled.accounts, _fields, lexicon)
    text = str(note["text"])
    if resolution.status == "known" and resolution.account is not None:
        if match == resolution.account.id:
            result.sure_right += 1
        elif match is None and _same_name(facts.mention.name, resolution.account.name):
            # labelled "nobody met", and the note names only them
            result.attempts.append(f"{text}  [filed under {resolution.account.name}]")
        else:
            result.misfiled.append(f"{text}  [want {match}, filed under "
                                   f"{resolution.account.id} {resolution.account.name}]")
    elif resolution.status == "ambiguous":
        result.asked += match not in (None, "new")
    elif match not in (None, "new"):
        result.duplicated.append(f"{text}  [want {match}, made new]")


def objection_score(labelled: LabelledSet, log_playbook: Path) -> FieldScore | None:
    """Concerns read from each note (the log playbook's objection signals) against the
    labels' `objections` (kinds; [] for none), counted per kind; None when unlabelled."""
    from coach.actions.signals import find_signals

    if not any("objections" in note for note in labelled.notes):
        return None
    raw = yaml.safe_load(log_playbook.read_text(encoding="utf-8"))
    signals = [s for s in raw["content"]["signals"] if s.get("kind") == "objection"]
    score = FieldScore()
    for note in labelled.notes:
        if "objections" not in note:
            continue
        want = set(note["objections"] or [])
        got = {str(s["value"]) for s in find_signals(str(note["text"]), signals)}
        score.expected += len(want)
        score.predicted += len(got)
        score.correct += len(want & got)
        if want != got:
            score.misses.append(f"{note['text']}  [want {sorted(want)}, got {sorted(got)}]")
    return score


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m coach.capture.evaluation SET.yaml [LEXICON.yaml]`: the table and the misses,
    for a labelled set outside the floors (a trial's own notes)."""
    import sys

    from coach.capture import load_lexicon

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m coach.capture.evaluation SET.yaml [LEXICON.yaml]")
        return 2
    root = Path(__file__).resolve().parent.parent.parent
    lexicon, problems = load_lexicon(Path(args[1]) if len(args) > 1
                                     else root / "playbooks" / "capture" / "lexicon.yaml")
    if lexicon is None:
        print("\n".join(map(str, problems)))
        return 1
    labelled = load_set(Path(args[0]))
    result = evaluate(lexicon, labelled)
    print(result.table())
    concerns = objection_score(labelled, root / "playbooks" / "log.yaml")
    if concerns is not None:
        print(f"  {'objections':<11}{concerns.expected:>9}{concerns.predicted:>7}"
              f"{concerns.correct:>7}{concerns.precision:>11.3f}{concerns.recall:>8.3f}")
        for miss in concerns.misses:
            print(f"  miss objections: {miss}")
    for name, score in result.fields.items():
        for miss in score.misses:
            print(f"  miss {name}: {miss}")
    for misfiled in result.misfiled:
        print(f"  misfiled: {misfiled}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
