"""Follow a template's attribute path (`proposal.objections[].name`, `report.profile.date`)
through the TypedDict shape its object is declared with, so `repcoach check` finds a
misspelt field at any depth, loop variables included, before a rep's message fails on it.

A part of a shape that is not a TypedDict or a list of one (Any, a plain dict, a string) is
open: nothing under it is checked, rather than a correct template refused.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from coach.templating import ITEM

#: Methods a template may call on any mapping (`report.facts.items()`).
MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})


@dataclass(frozen=True)
class UnknownField:
    """`field` read on the object at `owner` (a path prefix), which has only `known`."""

    owner: tuple[str, ...]
    field: str
    known: frozenset[str]


def unknown_field(shape: Any, path: tuple[str, ...]) -> UnknownField | None:
    """The first part of `path` that `shape` does not have, if any."""
    current: Any = shape
    for index, part in enumerate(path):
        current = _settled(current)
        if part == ITEM:
            current = _element(current)
        elif is_typeddict(current):
            fields = get_type_hints(current)
            if part not in fields:
                if part in MAPPING_METHODS:
                    return None
                return UnknownField(path[:index], part, frozenset(fields))
            current = fields[part]
        else:
            return None
        if current is None:
            return None
    return None


def _settled(shape: Any) -> Any:
    """`X | None` read as X: a template guards it with `{% if %}`."""
    if get_origin(shape) in (Union, types.UnionType):
        present = [a for a in get_args(shape) if a is not type(None)]
        return present[0] if len(present) == 1 else None
    return shape


def _element(shape: Any) -> Any:
    """What a loop over `shape` walks: a list's item, or nothing known."""
    if get_origin(shape) in (list, tuple) and get_args(shape):
        return get_args(shape)[0]
    return None
