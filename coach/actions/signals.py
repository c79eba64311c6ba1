"""Notes as evidence: phrases in a visit note that hint at a stage, a role, a need, a style
or an objection, from YAML lexicons. The bot proposes the update with the phrase that
triggered it; nothing changes until the rep taps to accept.

Matching is on phrases with a negation guard (不/没/未/无/not/no just before a phrase voids
it: "还没要样品" is not a request for samples). Phrases are several characters long, so
substring matching on Chinese is safe enough here without a segmenter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import ContentIssue, action
from coach.playbook import STAGES, STYLES, Playbook

if TYPE_CHECKING:
    from coach.context import Turn

KINDS = ("stage", "role", "need", "style", "objection")
NEGATIONS = re.compile(r"(不|没|沒|未|无|無|别|not |no |never |n't )\s*$", re.IGNORECASE)
NEGATION_WINDOW = 4


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
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


def find_signals(text: str, signals: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every signal whose phrase occurs in `text` without a negation right before it."""
    lowered = text.lower()
    found: list[dict[str, Any]] = []
    for signal in signals:
        for phrase in [*signal["phrases"].get("zh", []), *signal["phrases"].get("en", [])]:
            start = lowered.find(str(phrase).lower())
            if start < 0:
                continue
            before = lowered[max(0, start - NEGATION_WINDOW - 6):start]
            if NEGATIONS.search(before):
                continue
            found.append({"kind": signal["kind"], "value": signal.get("value"),
                          "phrase": text[start:start + len(str(phrase))]})
            break
    return found


@action("note_signals", provides=("signals",), content_check=_check)
def note_signals(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Proposals that differ from what the store already says about the customer."""
    account = turn.require_account()
    note = str(turn.vars.get("note") or "")
    current = {"stage": account.stage, "role": account.role, "style": account.style}
    proposals = []
    for signal in find_signals(note, turn.playbook.content.get("signals", [])):
        kind, value = signal["kind"], signal["value"]
        if kind in current and current[kind] == value:
            continue
        if kind == "need" and value in (account.needs or []):
            continue
        names = {"stage": lambda v: turn.library.stage_name(v, turn.locale),
                 "style": lambda v: turn.library.style_name(v, turn.locale),
                 "role": lambda v: turn.library.label("roles", v, turn.locale),
                 "need": lambda v: turn.library.label("needs", v, turn.locale),
                 "objection": lambda v: turn.library.label("objections", v, turn.locale)}
        name = names[kind](value) if kind in names else value
        proposals.append({**signal, "name": name})
    turn.vars["signals"] = proposals


@action("apply_signal")
def apply_signal(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Apply the first proposal (the rep tapped to accept it)."""
    proposals = turn.vars.get("signals") or []
    if not proposals:
        return
    signal = proposals[0]
    account = turn.require_account()
    kind, value = signal["kind"], signal["value"]
    if kind == "stage":
        turn.store.add_stage(account, value, 0.5, [signal["phrase"]], turn.playbook.version,
                             turn.now)
    elif kind == "role":
        account.role = value
    elif kind == "need":
        account.needs = sorted({*(account.needs or []), value})
    elif kind == "style":
        account.style, account.style_confidence = value, 0.3
    account.updated_at = turn.now
    turn.vars["signals"] = proposals[1:]


@action("skip_signal")
def skip_signal(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep declined the first proposal: drop it, change nothing."""
    turn.vars["signals"] = (turn.vars.get("signals") or [])[1:]
