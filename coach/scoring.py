"""Scoring shared by the quiz, the style assessment and the stage diagnosis.

Kept apart from the actions so the rules (what counts as dominant, how sure we are) are
stated once and tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DOMINANT_TOLERANCE = 1.0


def ranked(scores: Mapping[str, float], dimensions: Sequence[str]) -> list[str]:
    """Dimensions from highest to lowest score; ties keep the declared order."""
    return sorted(dimensions, key=lambda d: (-scores.get(d, 0.0), dimensions.index(d)))


def dominant(scores: Mapping[str, float], dimensions: Sequence[str],
             tolerance: float = DOMINANT_TOLERANCE) -> list[str]:
    """One or two dominant dimensions: the top one, and the second when it is within
    `tolerance` points of the top (people usually have one or two dominant quadrants)."""
    order = ranked(scores, dimensions)
    if not order or scores.get(order[0], 0.0) <= 0:
        return []
    top = scores.get(order[0], 0.0)
    return [d for d in order[:2] if scores.get(d, 0.0) >= top - tolerance]


def share_confidence(scores: Mapping[str, float], winner: str, answered: int,
                     enough: int) -> float:
    """How sure a diagnosis is: the winner's share of all points, damped when fewer than
    `enough` questions were answered with something observable. Capped below certainty."""
    total = sum(v for v in scores.values() if v > 0)
    if total <= 0:
        return 0.0
    coverage = min(1.0, answered / enough) if enough > 0 else 1.0
    return round(min(0.95, scores.get(winner, 0.0) / total * coverage), 2)


def combine(current: Mapping[str, float], earlier: Sequence[Mapping[str, float]],
            decay: float = 0.5) -> dict[str, float]:
    """Current scores plus earlier assessments, each older one weighing `decay` times less."""
    combined = {k: float(v) for k, v in current.items()}
    weight = decay
    for scores in earlier:
        for key, value in scores.items():
            combined[key] = combined.get(key, 0.0) + weight * float(value)
        weight *= decay
    return combined
