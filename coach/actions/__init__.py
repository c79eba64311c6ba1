"""Built-in actions. Importing this package registers them all in `REGISTRY`."""

from coach.actions import accounts, prefs, quiz, rights, stage, style, tactics, visits  # noqa: F401
from coach.actions.registry import REGISTRY, ActionSpec

__all__ = ["REGISTRY", "ActionSpec"]
