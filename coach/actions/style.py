"""A rep's hypothesis about a customer's thinking style, revised by each assessment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.common import evidence_for, observed_answers, scores
from coach.actions.registry import ContentIssue, action
from coach.playbook import STYLES, Playbook
from coach.scoring import combine, dominant, share_confidence

if TYPE_CHECKING:
    from coach.context import Turn

ENOUGH_OBSERVATIONS = 6
EARLIER_ASSESSMENTS = 2


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    if list(playbook.dimensions) != list(STYLES):
        yield (("dimensions",), "bad-dimensions",
               f"assess_style needs `dimensions: {list(STYLES)}`")


@action("assess_style", provides=("style",), content_check=_check)
def assess_style(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Score the answers (choices scoring A..D) into the current customer's thinking style:
    `style` holds `letters` (A or AC), `scores`, `confidence_pct`, `evidence`, `previous` and
    `answered`; stored as a hypothesis and combined with earlier assessments."""
    account = turn.require_account()
    current = scores(turn)
    if observed_answers(turn) == 0:  # all "not sure": earlier hypotheses stay as they are
        turn.vars["style"] = {
            "letters": None, "name": None, "scores": current, "confidence_pct": 0,
            "evidence": [], "previous": account.style, "answered": 0,
            "previous_name": turn.library.style_name(account.style, turn.locale),
        }
        return
    earlier = list(turn.store.style_assessments(account, EARLIER_ASSESSMENTS))
    combined = combine(current, [e.scores for e in earlier])
    letters = "".join(dominant(combined, STYLES))
    answered = observed_answers(turn)
    confidence = share_confidence(combined, letters[:1], answered, ENOUGH_OBSERVATIONS)
    if earlier and letters and earlier[0].letters[:1] == letters[:1]:
        confidence = round(min(0.95, confidence + 0.1), 2)  # agreement across visits
    evidence = evidence_for(turn, list(letters))
    previous = account.style
    if letters:
        turn.store.add_style_assessment(account, current, letters, confidence, evidence,
                                        turn.playbook.version, turn.now)
        account.style = letters
        account.style_confidence = confidence
        account.updated_at = turn.now
    turn.vars["style"] = {
        "letters": letters or None,
        "name": turn.library.style_name(letters, turn.locale),
        "scores": current,
        "confidence_pct": round(confidence * 100),
        "evidence": evidence,
        "previous": previous,
        "previous_name": turn.library.style_name(previous, turn.locale),
        "answered": answered,
    }
