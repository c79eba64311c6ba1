"""The table of built-in actions a playbook step may call.

Each action declares what it provides to templates and which arguments it takes, so
validation can check a playbook against it before any rep runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.playbook import Playbook

if TYPE_CHECKING:
    from coach.context import Turn

ContentIssue = tuple[tuple[Any, ...], str, str]
ActionFn = Callable[["Turn", Mapping[str, Any]], None]
ContentCheck = Callable[[Playbook], Iterable[ContentIssue]]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    run: ActionFn
    provides: frozenset[str] = frozenset()
    args: Mapping[str, frozenset[str]] = field(default_factory=dict)
    content_check: ContentCheck | None = None

    def check_content(self, playbook: Playbook) -> list[ContentIssue]:
        return list(self.content_check(playbook)) if self.content_check else []


REGISTRY: dict[str, ActionSpec] = {}


def action(name: str, *, provides: Iterable[str] = (),
           args: Mapping[str, Iterable[str]] | None = None,
           content_check: ContentCheck | None = None) -> Callable[[ActionFn], ActionFn]:
    """Register `fn` as the built-in action `name`."""

    def register(fn: ActionFn) -> ActionFn:
        REGISTRY[name] = ActionSpec(
            name=name, run=fn, provides=frozenset(provides),
            args={k: frozenset(v) for k, v in (args or {}).items()},
            content_check=content_check,
        )
        return fn

    return register


def require_content(*paths: tuple[str, ...]) -> ContentCheck:
    """A content check that each dotted path exists in the playbook's `content`."""

    def check(playbook: Playbook) -> Iterable[ContentIssue]:
        for path in paths:
            node: Any = playbook.content
            for part in path:
                if not isinstance(node, Mapping) or part not in node:
                    yield (("content",), "missing-content",
                           f"content.{'.'.join(path)} is required by this playbook's actions")
                    break
                node = node[part]

    return check


@action("forget_value", args={"name": ()})
def forget_value(turn: Turn, args: Mapping[str, Any]) -> None:
    """Empty one variable: "save, no reminder" drops the follow-up date the note gave."""
    turn.vars[str(args["name"])] = None
