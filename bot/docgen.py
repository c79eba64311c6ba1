"""The reference parts of docs/playbooks.md, generated from the code that defines them.

The action registry (name, arguments, what each provides, its docstring) and the engine's
required messages change with the code, so the tables in the guide are written from them
between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->` markers; the prose around
them stays hand-written. `repcoach docs` rewrites the file, tests/test_docs.py fails when it
is stale.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import coach.actions  # noqa: F401  (registers every built-in action)
from coach.actions.registry import REGISTRY, ActionSpec
from coach.playbook import REQUIRED_MESSAGES

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "playbooks.md"
_SECTION = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated: \2 -->)", re.S)


def _cell(text: str) -> str:
    """One markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _arguments(spec: ActionSpec) -> str:
    if not spec.args:
        return "—"
    parts = []
    for name, allowed in sorted(spec.args.items()):
        values = " \\| ".join(f"`{v}`" for v in sorted(allowed)) if allowed else "a name"
        parts.append(f"`{name}`: {values}")
    return "; ".join(parts)


def actions_table() -> str:
    """Every registered action: its `args:`, the variables it provides, what it does."""
    lines = ["| action | `args:` | provides | what it does |", "| --- | --- | --- | --- |"]
    for name, spec in sorted(REGISTRY.items()):
        provides = ", ".join(f"`{p}`" for p in sorted(spec.provides)) or "—"
        does = _cell(inspect.getdoc(spec.run) or "")
        lines.append(f"| `{name}` | {_arguments(spec)} | {provides} | {does} |")
    return "\n".join(lines) + "\n"


def messages_list() -> str:
    """The catalog keys the engine renders itself; `repcoach check` insists on each."""
    listed = ", ".join(f"`{key}`" for key in REQUIRED_MESSAGES) + "."
    return textwrap.fill(listed, width=96, break_long_words=False, break_on_hyphens=False) + "\n"


SECTIONS = {"actions": actions_table, "messages": messages_list}


def render(text: str) -> str:
    """`text` with every generated section written afresh."""
    def replace(match: re.Match[str]) -> str:
        return match.group(1) + SECTIONS[match.group(2)]() + match.group(4)

    return _SECTION.sub(replace, text)


def missing_sections(text: str) -> list[str]:
    found = {match.group(2) for match in _SECTION.finditer(text)}
    return [name for name in SECTIONS if name not in found]


def is_current(path: Path = GUIDE) -> bool:
    text = path.read_text(encoding="utf-8")
    return not missing_sections(text) and render(text) == text


def write(path: Path = GUIDE) -> bool:
    """Rewrite the generated sections of `path`; True when anything changed."""
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
