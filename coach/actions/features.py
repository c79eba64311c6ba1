"""Finding features: `/help` built from the playbooks, and free text that names a feature.

`/help` lists every command in the groups `help.yaml` gives (`content.groups`), each with its
playbook's title and summary, so a new playbook's command shows up without anyone editing a
help text; a command no group names lands in the last group (`content.other`).

A short message that is mostly a playbook's keyword ("做个计划", "看看我的客户", "what's
next") names a feature rather than telling a visit: the catalog's `feature_offer` playbook
offers it with one tap, beside logging the text as a note after all. A real note that happens
to contain a keyword ("李主任说想看计划书的数据，下周再去") says much more than the keyword
and stays a note. The filler words that may surround a keyword ("看看", "我的", "show me")
are data: `content.fillers` of the offer playbook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import ContentIssue, action, require_content
from coach.playbook import Playbook
from coach.templating import evaluate

if TYPE_CHECKING:
    from coach.context import Turn
    from coach.library import Library

__all__ = ["feature_named", "units"]

# A message longer than this (in characters and Latin words) is never taken for a feature.
MAX_UNITS = 12
# What may be left of it once the keyword and the filler words are gone: a little ("矩阵图"),
# and less than the keyword itself ("客户说贵" is a note, not /accounts).
MAX_LEFTOVER = 2
_UNIT = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\W\d_a-z]", re.IGNORECASE)


def units(text: str) -> tuple[str, ...]:
    """Text as a reader counts it: Latin words and single other letters (each Chinese
    character), lower case; spaces, punctuation and emoji dropped."""
    return tuple(_UNIT.findall(text.lower().replace("’", "'")))


def _find(haystack: tuple[str, ...], needle: tuple[str, ...]) -> int:
    size = len(needle)
    for start in range(len(haystack) - size + 1):
        if haystack[start:start + size] == needle:
            return start
    return -1


def _without(haystack: tuple[str, ...], needle: tuple[str, ...]) -> tuple[str, ...]:
    """`haystack` with every occurrence of `needle` taken out."""
    while needle and (start := _find(haystack, needle)) >= 0:
        haystack = haystack[:start] + haystack[start + len(needle):]
    return haystack


def _fillers(library: Library) -> list[tuple[str, ...]]:
    offer = library.playbooks.get(library.catalog.feature_offer)
    raw = offer.content.get("fillers", {}) if offer is not None else {}
    words = [w for locale in raw.values() for w in locale] if isinstance(raw, Mapping) else []
    return sorted({units(str(w)) for w in words} - {()}, key=len, reverse=True)


def feature_named(library: Library, text: str) -> Playbook | None:
    """The playbook a short message names by one of its keywords, or None when the message
    says more than that (a visit note)."""
    typed = units(text)
    if not typed or len(typed) > MAX_UNITS:
        return None
    found: tuple[int, Playbook, tuple[str, ...]] | None = None
    for word, playbook in library.by_keyword.items():
        keyword = units(word)
        if keyword and _find(typed, keyword) >= 0 and (
                found is None or len(keyword) > found[0]):
            found = (len(keyword), playbook, keyword)
    if found is None:
        return None
    size, playbook, keyword = found
    left = _without(typed, keyword)
    for filler in _fillers(library):
        left = _without(left, filler)
    return playbook if len(left) <= MAX_LEFTOVER and len(left) < size else None


@action("name_feature", provides=("feature",))
def name_feature(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`feature`: the playbook the typed text names (`id`, `title`, `summary`), or none."""
    playbook = feature_named(turn.library, str(turn.vars.get("typed") or ""))
    turn.vars["feature"] = None if playbook is None else {
        "id": playbook.id, "title": turn.render(playbook.title),
        "summary": turn.render(playbook.summary) if playbook.summary else ""}


def _check_groups(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("groups",), ("other",))(playbook)
    groups = playbook.content.get("groups")
    for index, group in enumerate(groups if isinstance(groups, list) else []):
        if not isinstance(group, Mapping) or "title" not in group or not isinstance(
                group.get("commands"), list):
            yield (("content", "groups", index), "bad-content",
                   "a help group needs `title` and a list of `commands`")


@action("command_groups", provides=("command_groups",), content_check=_check_groups)
def command_groups(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`command_groups`: [{title, commands: [{name, title, summary}]}] for every command a
    playbook handles, in the groups of `content.groups` (a group with a `when` only for
    whom it holds: the team's commands for a manager); the rest under `content.other`."""
    library = turn.library
    content = library.content(turn.playbook, turn.locale)
    engine = {c.name: c.description for c in library.catalog.commands}
    listed: set[str] = set()

    def entry(name: str) -> dict[str, Any] | None:
        playbook = library.by_command.get(name)
        if playbook is not None:
            listed.add(playbook.id)
            return {"name": name, "title": turn.render(playbook.title),
                    "summary": turn.render(playbook.summary) if playbook.summary else ""}
        if name in engine:  # /cancel: the engine's own
            return {"name": name, "title": turn.render(engine[name]), "summary": ""}
        return None

    groups: list[dict[str, Any]] = []
    context = turn.context()
    for group in content["groups"]:
        commands = [e for e in (entry(str(n)) for n in group["commands"]) if e is not None]
        # a group for someone else (`when: rep.manager`): its commands are not listed
        # elsewhere either, so a rep never sees a command that only answers "managers only"
        if commands and (not group.get("when") or evaluate(str(group["when"]), context)):
            groups.append({"title": group["title"], "commands": commands})
    rest = []
    for playbook in library.playbooks.values():
        if playbook.commands and playbook.id not in listed:
            rest.append(entry(playbook.commands[0]))
    if rest:
        groups.append({"title": content["other"], "commands": rest})
    turn.vars["command_groups"] = groups
