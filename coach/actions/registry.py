"""The table of built-in actions a playbook step may call.

Each action declares what it provides to templates and which arguments it takes, so
validation can check a playbook against it before any rep runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from coach.playbook import Playbook

if TYPE_CHECKING:
    from coach.context import Turn

#: (key path, code, message), or with a fourth part: the path of the other occurrence of a
#: duplicate, which validation words as "first at line N"
ContentIssue = tuple[tuple[Any, ...], str, str] | tuple[tuple[Any, ...], str, str, tuple[Any, ...]]
ActionFn = Callable[["Turn", Mapping[str, Any]], None]
ContentCheck = Callable[[Playbook], Iterable[ContentIssue]]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    run: ActionFn
    provides: frozenset[str] = frozenset()
    args: Mapping[str, frozenset[str]] = field(default_factory=dict)
    content_check: ContentCheck | None = None
    # the TypedDict shape of each provided value that is an object (`quiz` → QuizView), so
    # validation refuses `{{ quiz.max }}` when the object has no such field
    shapes: Mapping[str, Any] = field(default_factory=dict)
    # the TypedDict of the names the action passes to the texts under each `content` key it
    # renders (`tactics` → TacticExtras), so validation checks their names as well
    content_names: Mapping[str, Any] = field(default_factory=dict)
    # `content` keys whose texts are shown as written (a card is put into the catalog's
    # `coaching_card` as a value): template syntax there would reach the rep as `{{ … }}`
    plain_content: tuple[str, ...] = ()

    def check_content(self, playbook: Playbook) -> list[ContentIssue]:
        return list(self.content_check(playbook)) if self.content_check else []


REGISTRY: dict[str, ActionSpec] = {}


def action(name: str, *, provides: Iterable[str] = (),
           args: Mapping[str, Iterable[str]] | None = None,
           content_check: ContentCheck | None = None,
           shapes: Mapping[str, Any] | None = None,
           content_names: Mapping[str, Any] | None = None,
           plain_content: tuple[str, ...] = ()) -> Callable[[ActionFn], ActionFn]:
    """Register `fn` as the built-in action `name`."""

    def register(fn: ActionFn) -> ActionFn:
        REGISTRY[name] = ActionSpec(
            name=name, run=fn, provides=frozenset(provides),
            args={k: frozenset(v) for k, v in (args or {}).items()},
            content_check=content_check, shapes=dict(shapes or {}),
            content_names=dict(content_names or {}), plain_content=plain_content,
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


def check_item_keys(item: Mapping[str, Any], path: tuple[Any, ...], what: str,
                    required: Iterable[str], optional: Iterable[str] = ()
                    ) -> Iterator[ContentIssue]:
    """An item of `content` (a tactic, a card): each key it does not know, at its line and
    with the close known key (`style` → `styles`), and each required key it lacks, by name."""
    required, optional = list(required), list(optional)
    known = [*required, *optional]
    for key in item:
        if key not in known:
            guesses = get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
            yield ((*path, key), "unknown-key",
                   f"{what}: unknown key {key!r}{hint}; known keys: {', '.join(known)}")
    for key in required:
        if key not in item:
            yield (path, "missing-key", f"{what}: missing key {key!r}")


def check_item_values(item: Mapping[str, Any], path: tuple[Any, ...], key: str,
                      allowed: Iterable[str], code: str = "bad-content") -> Iterator[ContentIssue]:
    """`key` of an item holds one value or a list of values, each one of `allowed`."""
    value = item.get(key)
    if value is None:
        return
    allowed = list(allowed)
    for one in value if isinstance(value, list) else [value]:
        if one not in allowed:
            guesses = get_close_matches(str(one), [str(a) for a in allowed], n=1, cutoff=0.6)
            hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
            yield ((*path, key), code,
                   f"{key}: {one!r} is not allowed{hint}; allowed: {', '.join(map(str, allowed))}")


def check_unique_ids(items: Iterable[Any], path: tuple[Any, ...], what: str,
                     code: str) -> Iterator[ContentIssue]:
    """Each `id` once among `items`; a repeat names the line of the first."""
    first: dict[Any, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or "id" not in item:
            continue
        if item["id"] in first:
            yield ((*path, index, "id"), code, f"{what} id {item['id']!r} is used twice",
                   (*path, first[item["id"]], "id"))
        first.setdefault(item["id"], index)


@action("forget_value", args={"name": ()})
def forget_value(turn: Turn, args: Mapping[str, Any]) -> None:
    """Empty one variable: "save, no reminder" drops the follow-up date the note gave."""
    turn.vars[str(args["name"])] = None
