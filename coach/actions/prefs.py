"""The rep's own preferences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import action

if TYPE_CHECKING:
    from coach.context import Turn


@action("set_locale", args={"locale": ("zh", "en")})
def set_locale(turn: Turn, args: Mapping[str, Any]) -> None:
    """Switch the rep's language; every later text renders in it."""
    turn.rep.locale = str(args["locale"])
