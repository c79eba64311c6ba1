"""Diagnosing a customer's adoption stage from observable behaviour; history kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.common import answered_choices, evidence_for, observed_answers, scores
from coach.actions.reasons import known_reason
from coach.actions.registry import ContentIssue, action
from coach.actions.stage_correction import hint_to_correct
from coach.playbook import STAGES, Playbook
from coach.scoring import ranked, share_confidence

if TYPE_CHECKING:
    from coach.context import Turn

ENOUGH_OBSERVATIONS = 4


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    if sorted(playbook.dimensions) != sorted(STAGES):
        yield (("dimensions",), "bad-dimensions",
               f"diagnose_stage needs `dimensions: {list(STAGES)}`")


def _direction(previous: str | None, stage: str) -> str:
    """first, same, forward or back: how `stage` stands to the one before it."""
    if previous is None:
        return "first"
    if previous == stage:
        return "same"
    return "forward" if STAGES.index(stage) > STAGES.index(previous) else "back"


@action("diagnose_stage", provides=("stage",), content_check=_check)
def diagnose_stage(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Score the answers (choices scoring the five stages) into the current customer's
    adoption stage: `stage` holds `key`, `name`, `confidence_pct`, `evidence` (the answers
    that pointed at it), `other` (those that pointed elsewhere, with where), `previous`,
    `previous_name`, `changed` and `direction` (forward, back, same, first, or corrected: a
    note hint put right, coach/actions/stage_correction.py); stored as stage history.
    `content.stages.KEY.name` must exist."""
    account = turn.require_account()
    totals = scores(turn)
    declines = [c for c in answered_choices(turn) if c.decline]
    for choice in declines:  # recent decline outweighs the habits that linger (seed 002)
        for dimension, value in choice.scores.items():
            totals[dimension] = totals.get(dimension, 0) + value
    decline = [turn.render(c.evidence or c.label) for c in declines]
    # moving back with the cause already recorded: say it rather than "find out why"
    reason = known_reason(turn, account) if declines else None
    order = ranked(totals, STAGES)
    previous = account.stage
    if not order or totals.get(order[0], 0) <= 0:
        turn.vars["stage"] = {"key": None, "name": None, "confidence_pct": 0, "evidence": [],
                              "other": [],
                              "decline": decline, "reason": reason,
                              "previous": previous, "changed": False, "direction": "same",
                              "previous_name": turn.library.stage_name(previous, turn.locale)}
        return
    # Ties go to the earlier stage: claim less progress than the evidence might allow.
    top = totals[order[0]]
    winner = min((s for s in STAGES if totals.get(s, 0) == top), key=STAGES.index)
    confidence = share_confidence(totals, winner, observed_answers(turn), ENOUGH_OBSERVATIONS)
    evidence = [e for e in evidence_for(turn, [winner]) if e not in decline]
    # the answers that pointed elsewhere, so every answer that weighed is shown with where
    # it pointed ("正在比较" said 评估 while the others outweighed it for 兴趣)
    other = [{"text": turn.render(c.evidence or c.label),
              "stages": [turn.library.stage_name(s, turn.locale) for s in STAGES
                         if c.scores.get(s, 0) > 0]}
             for c in answered_choices(turn)
             if not c.decline and any(c.scores.values()) and not c.scores.get(winner, 0) > 0]
    backward = previous is not None and STAGES.index(winner) < STAGES.index(previous)
    # answers that say use is falling (用过一阵，最近少了) tell of a real move back
    hint = hint_to_correct(turn, account) if backward and not declines else None
    if hint is not None:
        # a note hint put right before any other visit: a correction, not a move back
        turn.store.correct_stage(hint, account, winner, confidence, evidence,
                                 turn.playbook.version, turn.now)
        direction = "corrected"
    else:
        turn.store.add_stage(account, winner, confidence, evidence, turn.playbook.version,
                             turn.now)
        direction = _direction(previous, winner)
    if direction == "back" and reason is None:
        reason = known_reason(turn, account)
    turn.vars["stage"] = {
        "key": winner,
        "name": turn.library.stage_name(winner, turn.locale),
        "confidence_pct": round(confidence * 100),
        "evidence": evidence,
        "other": other,
        "decline": decline,
        "reason": reason,
        "previous": previous,
        "previous_name": turn.library.stage_name(previous, turn.locale),
        "changed": previous is not None and previous != winner,
        "direction": direction,
    }
