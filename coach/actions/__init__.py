"""Built-in actions. Importing this package registers them all in `REGISTRY`."""

from coach.actions import (  # noqa: F401
    accounts,
    cards,
    coaching,
    crisis,
    features,
    followup_moves,
    funnel,
    hospital,
    joint,
    kept,
    keyaccounts,
    moving,
    plans,
    prefs,
    quiz,
    retraction,
    rights,
    signals,
    stage,
    style,
    tactics,
    team,
    today,
    visits,
)
from coach.actions.registry import REGISTRY, ActionSpec

__all__ = ["REGISTRY", "ActionSpec"]
