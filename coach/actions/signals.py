"""Notes as evidence: phrases in a visit note that hint at a stage, a role, a need, a style
or an objection, from YAML lexicons (the log playbook's `content.signals`). The bot shows
the update with the phrase that triggered it in its proposal; nothing changes until the rep
taps to save it.

Matching is on phrases with a negation guard (不/没/未/无/not/no just before a phrase voids
it: "还没要样品" is not a request for samples). Phrases are several characters long, so
substring matching on Chinese is safe enough here without a segmenter. A signal may also
give `patterns` (regular expressions, same guard) for a concern said in many ways whose
words are the negation itself: "医保还没进", "没进医保", "病人负担不起", "价格偏高".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import ContentIssue
from coach.playbook import STAGES, STYLES, Playbook
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

KINDS = ("stage", "role", "need", "style", "objection", "decline")
NEGATIONS = re.compile(r"(不|没|沒|未|无|無|别|not |no |never |n't )\s*$", re.IGNORECASE)
NEGATION_WINDOW = 4


def check_signals(playbook: Playbook) -> Iterable[ContentIssue]:
    for index, signal in enumerate(playbook.content.get("signals", [])):
        path = ("content", "signals", index)
        if not isinstance(signal, dict) or signal.get("kind") not in KINDS:
            yield (path, "bad-signal", f"a signal needs kind: one of {list(KINDS)}")
            continue
        if signal["kind"] == "stage" and signal.get("value") not in STAGES:
            yield ((*path, "value"), "bad-signal", f"stage must be one of {list(STAGES)}")
        if signal["kind"] == "style" and signal.get("value") not in STYLES:
            yield ((*path, "value"), "bad-signal", f"style must be one of {list(STYLES)}")
        phrases = signal.get("phrases")
        if not isinstance(phrases, dict) or not all(isinstance(phrases.get(k), list)
                                                     for k in ("zh", "en")):
            yield ((*path, "phrases"), "bad-signal", "phrases need zh and en lists")
        for pattern in signal.get("patterns") or []:
            try:
                re.compile(str(pattern))
            except re.error as error:
                yield ((*path, "patterns"), "bad-signal", f"{pattern!r}: {error}")


def _negated(lowered: str, start: int) -> bool:
    return bool(NEGATIONS.search(lowered[max(0, start - NEGATION_WINDOW - 6):start]))


def _first_hit(lowered: str, signal: Mapping[str, Any]) -> tuple[int, int] | None:
    """Where `signal` first shows in `lowered` un-negated: a phrase, else a pattern."""
    for phrase in [*signal["phrases"].get("zh", []), *signal["phrases"].get("en", [])]:
        start = lowered.find(str(phrase).lower())
        if start >= 0 and not _negated(lowered, start):
            return start, start + len(str(phrase))
    for pattern in signal.get("patterns") or []:
        for match in re.finditer(str(pattern), lowered):
            if not _negated(lowered, match.start()):
                return match.start(), match.end()
    return None


def find_signals(text: str, signals: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every signal whose phrase occurs in `text` without a negation right before it."""
    lowered = text.lower()
    found: list[dict[str, Any]] = []
    for signal in signals:
        hit = _first_hit(lowered, signal)
        if hit is not None:
            start, end = hit
            found.append({"kind": signal["kind"], "value": signal.get("value"),
                          "phrase": text[start:end], "at": start})
    return found


SINGLE = ("stage", "role", "style")  # a customer has one of each: the last mentioned wins


def one_of_each(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """"送了亚组数据，他说准备开始试用" hints at evaluation and at trial: the customer is at
    one stage, the later words in the note tell where he is now."""
    latest: dict[str, dict[str, Any]] = {}
    for signal in signals:
        if signal["kind"] in SINGLE:
            kept = latest.get(signal["kind"])
            if kept is None or signal.get("at", 0) >= kept.get("at", 0):
                latest[signal["kind"]] = signal
    return [s for s in signals if s["kind"] not in SINGLE or latest[s["kind"]] is s]


def signal_name(turn: Turn, kind: str, value: str) -> str:
    """A signal's value as the rep reads it: 试用, 决策者, 学术, 分析型, 仿制药."""
    if kind == "stage":
        return turn.library.stage_name(value, turn.locale) or value
    if kind == "style":
        return turn.library.style_name(value, turn.locale) or value
    group = {"role": "roles", "need": "needs", "objection": "objections"}.get(kind)
    return (turn.library.label(group, value, turn.locale) or value) if group else value


def differs(account: Account | None, signal: Mapping[str, Any]) -> bool:
    """Whether a stage, role, need or style signal would change what we hold."""
    if account is None:
        return True
    kind, value = signal["kind"], signal["value"]
    current = {"stage": account.stage, "role": account.role, "style": account.style}
    if kind in current:
        return bool(current[kind] != value)
    if kind == "need":
        return value not in (account.needs or [])
    return False


def apply_update(turn: Turn, account: Account, signal: Mapping[str, Any]) -> None:
    """The rep confirmed a signal from their note: record it on the customer. A stage read
    from a note gets a modest confidence; /stage refines it."""
    kind, value = signal["kind"], signal["value"]
    if kind == "stage":
        turn.store.add_stage(account, value, 0.5, [str(signal.get("phrase", ""))],
                             turn.playbook.version, turn.now)
    elif kind == "role":  # one more role (seed 003: a person may hold several)
        held = account.held_roles()
        account.roles = held if value in held else [*held, value]
        account.role = account.roles[0]
    elif kind == "need":
        account.needs = sorted({*(account.needs or []), value})
    elif kind == "style":
        account.style, account.style_confidence = value, 0.3
    account.updated_at = turn.now
