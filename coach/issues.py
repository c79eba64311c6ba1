"""Problems in the files authors write, each with its file and line: one type and one
collector for the playbook loader, the validator, the note lexicon and the compliance rules,
so `repcoach check`, `repcoach test` and a refused reload all print `file:line: code: message`
and nothing formats a problem as text for another module to parse back.

The positioned YAML containers live here too: a problem's place is a key path into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, get_args

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a playbook, printed as `file:line: code: message`."""

    file: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code}: {self.message}"


class LineMap(dict[Any, Any]):
    """A YAML mapping that knows the line of itself and of each key (1-based)."""

    line: int = 1
    key_lines: dict[Any, int]
    text_lines: dict[Any, int]  # the line each value's text starts on


class LineList(list[Any]):
    """A YAML sequence that knows the line of itself and of each item (1-based)."""

    line: int = 1
    item_lines: list[int]
    text_lines: list[int]


def line_of(raw: Any, path: tuple[Any, ...]) -> int:
    """The line of the deepest node along `path` that exists in the raw YAML."""
    node = raw
    line = getattr(raw, "line", 1)
    for part in path:
        if isinstance(node, LineMap) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        inner = getattr(node, "line", None)
        if isinstance(inner, int) and not isinstance(node, LineMap | LineList):
            line = inner
    return line


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, LineMap):
        return part in node
    return isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node)


def text_line(raw: Any, path: tuple[Any, ...], lineno: int = 1) -> int:
    """The file line of line `lineno` of the text at `path` (a template's own line 1 is the
    line its text starts on); the line of the key when the text is not found."""
    parent = raw
    for part in path[:-1]:
        if not _has(parent, part):
            return line_of(raw, path)
        parent = parent[part]
    lines = getattr(parent, "text_lines", None)
    if not path or lines is None or not _has(parent, path[-1]):
        return line_of(raw, path)
    return int(lines[path[-1]]) + lineno - 1


_PYDANTIC_CODES = {
    "missing": "missing-key",
    "extra_forbidden": "unknown-key",
    "unexpected_keyword_argument": "unknown-key",
}


class Issues:
    """Collects the problems of one file against its positioned YAML (`raw`): a problem is
    placed by a key path, which becomes the line of the deepest key that exists."""

    def __init__(self, file: str, raw: Any = None, code: str = "bad-value") -> None:
        self.file = file
        self.raw = raw
        self.code = code
        self.items: list[Issue] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, path: tuple[Any, ...], message: str, code: str | None = None) -> None:
        self.items.append(Issue(self.file, line_of(self.raw, path), code or self.code, message))

    def at_line(self, line: int, message: str, code: str | None = None) -> None:
        self.items.append(Issue(self.file, line, code or self.code, message))

    def add_validation_error(self, error: ValidationError, skip: tuple[str, ...] = (),
                             model: type[BaseModel] | None = None) -> None:
        """Each pydantic error at its key, in an author's words: "unknown key 'choises'
        (did you mean 'choices'?)", "missing key 'label'", items counted from 1. `skip`
        drops location parts that name a union member tried (`str`, `list[str]`) rather
        than a key of the file; `model` (the file's model) lets an unknown key be matched
        against the keys allowed where it is."""
        for item in error.errors():
            loc = tuple(part for part in item["loc"] if part not in skip)
            code = _PYDANTIC_CODES.get(item["type"])
            if code in ("unknown-key", "missing-key") and loc:
                key = str(loc[-1])
                place = where(loc[:-1])
                if code == "missing-key":
                    message = f"missing key {key!r}"
                else:
                    known = _fields_at(model, loc) if model is not None else []
                    guesses = get_close_matches(key, known, n=1, cutoff=0.6)
                    message = f"unknown key {key!r}" + (
                        f" (did you mean {guesses[0]!r}?)" if guesses else "")
                self.add(loc, f"{place}: {message}" if place else message, code)
            else:
                self.add(loc, f"{where(loc) or '(top)'}: {item['msg']}", code)


def where(loc: tuple[Any, ...]) -> str:
    """`('steps', 20, 'choices', 0)` as an author counts: `steps #21 > choices #1`."""
    words: list[str] = []
    for part in loc:
        if isinstance(part, int) and words:
            words[-1] += f" #{part + 1}"
        else:
            words.append(str(part))
    return " > ".join(words)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where the last part of `loc` stands."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if current is None or part not in current.model_fields:
            return []
        current = _inner_model(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
