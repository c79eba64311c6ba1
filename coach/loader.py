"""YAML with positions -> playbook models, collecting every problem instead of stopping.

Each mapping and list read from YAML remembers the line of each key or item, so a shape error
reported by pydantic at `('steps', 3, 'choices', 0, 'label')` and a meaning error found later
both point at the author's line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from coach.issues import Issue, Issues, LineList, LineMap, where
from coach.playbook import LOCALES, Catalog, Playbook

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PositionLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that records positions; still refuses arbitrary Python objects. The C
    parser (libyaml) is used when available: six times faster, same nodes and marks."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineMap:
        result = LineMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        result.text_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in result:
                duplicates: list[tuple[Any, int]] = getattr(self, "duplicates", [])
                duplicates.append((key, key_node.start_mark.line + 1))
                self.duplicates = duplicates
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
            result.text_lines[key] = _text_line(value_node)
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        result.text_lines = [_text_line(child) for child in node.value]
        return result


def _text_line(node: yaml.Node) -> int:
    """The line a scalar's text starts on: a block scalar (`|`, `>`) starts below its
    indicator, so a template's own line 3 is the file's line of the text plus 2."""
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1 + (1 if block else 0)


_PositionLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _PositionLoader.construct_mapping
)
_PositionLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _PositionLoader.construct_sequence
)


@dataclass
class SourceFile:
    """A parsed file: its display path, raw positioned data and the model built from it."""

    path: str
    raw: Any
    model: Playbook | Catalog | None = None
    # sha256 of the file's name and text as parsed
    digest: str = ""


@dataclass
class LoadResult:
    files: list[SourceFile] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    # files that could not be read into a playbook: other files' references to what they
    # hold cannot be checked
    failed: list[str] = field(default_factory=list)


def shape_issues(path: str, raw: Any, error: ValidationError,
                 model: type[BaseModel] | None = None) -> list[Issue]:
    """Pydantic's complaints about a file's shape, each at the line of the key it names."""
    issues = Issues(path, raw)
    issues.add_validation_error(error, model=model)
    return issues.items


def _locale_issues(display: str, raw: Any, path: tuple[Any, ...] = ()) -> list[Issue]:
    """Every text that has one locale but not the other, wherever it sits in the file."""
    issues: list[Issue] = []
    if isinstance(raw, LineMap):
        present = [loc for loc in LOCALES if loc in raw]
        if present and len(present) < len(LOCALES):
            missing = [loc for loc in LOCALES if loc not in raw]
            others = [str(k) for k in raw if k not in LOCALES]
            hint = (f"; {others[0]!r} is not a language: use {missing[0]!r}"
                    if len(others) == 1 else "")
            issues.append(Issue(display, raw.line, "missing-locale",
                                f"{where(path) or '(top)'}: has {present} but no "
                                f"{missing} text{hint}"))
        for key, value in raw.items():
            issues.extend(_locale_issues(display, value, (*path, key)))
    elif isinstance(raw, LineList):
        for index, value in enumerate(raw):
            issues.extend(_locale_issues(display, value, (*path, index)))
    return issues


# a key typed with a Chinese input method: `ask：`, `- id：q19`, `{zh：…}`, or indented or
# separated with the full-width space; inside a text both are ordinary Chinese punctuation
_KEY = r"[A-Za-z_][\w-]*"
_FULL_WIDTH_COLON = re.compile(rf"^[ \t]*(?:- )*{_KEY}[ \t]*：|[{{,][ \t]*{_KEY}[ \t]*：")
_FULL_WIDTH_SPACE = re.compile(rf"^[ \t]*\u3000|^[ \t]*(?:- )*{_KEY}:\u3000")


_FULL_WIDTH = {
    True: ("chinese-colon", "'：' is a Chinese colon; type ':' (and a space after it)"),
    False: ("chinese-space", "'\u3000' is a Chinese (full-width) space; type an ordinary space"),
}


def full_width_issues(text: str, display: str) -> list[Issue]:
    """Each line where a Chinese colon or space stands where YAML needs `:` or a space: YAML
    itself reports something else, often a line later ("could not find expected ':'")."""
    issues: list[Issue] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        if _FULL_WIDTH_COLON.search(line):
            issues.append(Issue(display, number, *_FULL_WIDTH[True]))
        if _FULL_WIDTH_SPACE.search(line):
            issues.append(Issue(display, number, *_FULL_WIDTH[False]))
    return issues


def _full_width_keys(raw: Any, display: str) -> list[Issue]:
    """Keys holding a Chinese colon or space, which parsed but are not what was meant."""
    issues: list[Issue] = []
    if isinstance(raw, LineMap):
        for key, value in raw.items():
            if isinstance(key, str) and ("：" in key or "\u3000" in key):
                issues.append(Issue(display, raw.key_lines[key], *_FULL_WIDTH["：" in key]))
            issues.extend(_full_width_keys(value, display))
    elif isinstance(raw, LineList):
        for value in raw:
            issues.extend(_full_width_keys(value, display))
    return issues


def read_positioned(file: Path, display: str) -> tuple[Any, list[Issue]]:
    """Parse a YAML file keeping line numbers: (data or None, unreadable / syntax /
    duplicate-key problems). Shared by playbooks and the compliance rules."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(display, 1, "unreadable", str(exc))]
    return parse_positioned(text, display)


def parse_positioned(text: str, display: str) -> tuple[Any, list[Issue]]:
    """`read_positioned` for a file's text already read."""
    loader = _PositionLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        typed = full_width_issues(text, display)
        if typed:  # the cause, instead of what YAML made of it
            return None, typed
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Issue(display, line, "yaml-syntax", str(problem))]
    finally:
        loader.dispose()
    typed = _full_width_keys(raw, display)
    if typed:  # `{zh：先听后说}` reads as a key "zh：先听后说" with no value
        return None, typed
    return raw, [
        Issue(display, line, "duplicate-key", f"key {key!r} appears twice")
        for key, line in getattr(loader, "duplicates", [])
    ]


def load_file(file: Path, display: str) -> tuple[SourceFile | None, list[Issue]]:
    """Parse one YAML file into a model; return every shape problem found. The model's
    `digest` is of the very text parsed (coach/validation_cache.py keys on it)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(display, 1, "unreadable", str(exc))]
    digest = hashlib.sha256(f"{file.name}\0{text}".encode()).hexdigest()
    raw, issues = parse_positioned(text, display)
    if raw is None and issues:
        return None, issues
    issues.extend(_locale_issues(display, raw))
    if not isinstance(raw, LineMap):
        return None, [*issues, Issue(display, 1, "not-a-mapping", "a playbook is a mapping")]
    model_type: type[Playbook] | type[Catalog] = Catalog if "messages" in raw else Playbook
    try:
        model = model_type.model_validate(raw)
    except ValidationError as exc:
        return (SourceFile(display, raw, digest=digest),
                [*issues, *shape_issues(display, raw, exc, model_type)])
    return SourceFile(display, raw, model, digest), issues


def load_directory(directory: Path) -> LoadResult:
    """Load every `*.yaml` file under `directory` (sorted, so reports are stable)."""
    result = LoadResult()
    if not directory.is_dir():
        result.issues.append(Issue(str(directory), 1, "no-directory", "playbook folder not found"))
        return result
    for file in sorted(directory.glob("*.yaml")):
        source, issues = load_file(file, _display_path(file))
        result.issues.extend(issues)
        if source is not None:
            result.files.append(source)
        if source is None or source.model is None:
            result.failed.append(_display_path(file))
    return result


def _display_path(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)
