"""Helpers shared by actions: reading this run's answers and scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from coach.playbook import ChoiceSpec

if TYPE_CHECKING:
    from coach.context import Turn


def answered_choices(turn: Turn) -> list[ChoiceSpec]:
    """The choices the rep picked in this run of the playbook, in order."""
    picked: list[ChoiceSpec] = []
    for step_id, index in turn.state.answers:
        step = turn.playbook.step(step_id)
        if step is not None and step.choices and 0 <= index < len(step.choices):
            picked.append(step.choices[index])
    return picked


def scores(turn: Turn) -> dict[str, float]:
    raw = turn.state.scores
    return {d: float(raw.get(d, 0)) for d in turn.playbook.dimensions}


def evidence_for(turn: Turn, winners: Sequence[str]) -> list[str]:
    """Texts of the answers that pointed at any of `winners`, as the rep would recognise
    them: a choice's `evidence` text, or its label."""
    texts = []
    for choice in answered_choices(turn):
        if any(choice.scores.get(w, 0) > 0 for w in winners):
            texts.append(turn.render(choice.evidence or choice.label))
    return texts


def observed_answers(turn: Turn) -> int:
    """How many answers carried any score (an "unsure" answer carries none)."""
    return sum(1 for choice in answered_choices(turn) if any(choice.scores.values()))
