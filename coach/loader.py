"""YAML with positions -> playbook models, collecting every problem instead of stopping.

Each mapping and list read from YAML remembers the line of each key or item, so a shape error
reported by pydantic at `('steps', 3, 'choices', 0, 'label')` and a meaning error found later
both point at the author's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coach.issues import Issue, Issues, LineList, LineMap
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


@dataclass
class LoadResult:
    files: list[SourceFile] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def shape_issues(path: str, raw: Any, error: ValidationError) -> list[Issue]:
    """Pydantic's complaints about a file's shape, each at the line of the key it names."""
    issues = Issues(path, raw)
    issues.add_validation_error(error)
    return issues.items


def _locale_issues(display: str, raw: Any, path: tuple[Any, ...] = ()) -> list[Issue]:
    """Every text that has one locale but not the other, wherever it sits in the file."""
    issues: list[Issue] = []
    if isinstance(raw, LineMap):
        present = [loc for loc in LOCALES if loc in raw]
        if present and len(present) < len(LOCALES):
            missing = [loc for loc in LOCALES if loc not in raw]
            issues.append(Issue(display, raw.line, "missing-locale",
                                f"{'.'.join(str(p) for p in path) or '(top)'}: has "
                                f"{present} but no {missing} text"))
        for key, value in raw.items():
            issues.extend(_locale_issues(display, value, (*path, key)))
    elif isinstance(raw, LineList):
        for index, value in enumerate(raw):
            issues.extend(_locale_issues(display, value, (*path, index)))
    return issues


def read_positioned(file: Path, display: str) -> tuple[Any, list[Issue]]:
    """Parse a YAML file keeping line numbers: (data or None, unreadable / syntax /
    duplicate-key problems). Shared by playbooks and the compliance rules."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(display, 1, "unreadable", str(exc))]
    loader = _PositionLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Issue(display, line, "yaml-syntax", str(problem))]
    finally:
        loader.dispose()
    return raw, [
        Issue(display, line, "duplicate-key", f"key {key!r} appears twice")
        for key, line in getattr(loader, "duplicates", [])
    ]


def load_file(file: Path, display: str) -> tuple[SourceFile | None, list[Issue]]:
    """Parse one YAML file into a model; return every shape problem found."""
    raw, issues = read_positioned(file, display)
    if raw is None and issues:
        return None, issues
    issues.extend(_locale_issues(display, raw))
    if not isinstance(raw, LineMap):
        return None, [*issues, Issue(display, 1, "not-a-mapping", "a playbook is a mapping")]
    model_type: type[Playbook] | type[Catalog] = Catalog if "messages" in raw else Playbook
    try:
        model = model_type.model_validate(raw)
    except ValidationError as exc:
        return SourceFile(display, raw), [*issues, *shape_issues(display, raw, exc)]
    return SourceFile(display, raw, model), issues


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
    return result


def _display_path(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)
