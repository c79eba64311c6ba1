"""jinja2 for playbook texts: sandboxed, strict about undefined names, compiled once.

Playbook authors are trusted less than code: the sandbox keeps a template from reaching Python
internals, and StrictUndefined turns a misspelt name into an error that validation catches
before any rep sees a half-rendered message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _environment(*, autoescape: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape,
                                         trim_blocks=True, lstrip_blocks=True,
                                         keep_trailing_newline=False)


_ENV = _environment(autoescape=False)
#: Documents (the plan as HTML) escape every value: a customer named <img onerror=…> is text.
_HTML_ENV = _environment(autoescape=True)


class TemplateProblem(Exception):
    """A template that cannot be compiled or rendered."""


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    return _ENV.from_string(source)


@lru_cache(maxsize=1024)
def _compiled_expression(source: str) -> Any:
    return _ENV.compile_expression(source)


def forget_compiled() -> None:
    """Drop every compiled and parsed template this process keeps: the benchmark times
    loading playbooks as a fresh worker pays for it (`bench/startup.py`)."""
    for cached in (_compiled, _compiled_expression, _compiled_html, _parse):
        cached.cache_clear()


def is_plain(source: str) -> bool:
    """True when `source` has no template syntax at all (no `{{`, `{%` or `{#`): rendering
    it would give back the text itself, so callers can skip building a context for it.
    Most playbook texts are plain (quiz questions, button labels)."""
    return "{" not in source


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render `source` with `context`; surrounding blank lines are trimmed."""
    if is_plain(source):
        return source.strip()
    return _render(_compiled, source, context)


def _render(compile_: Any, source: str, context: Mapping[str, Any]) -> str:
    try:
        return str(compile_(source).render(**context)).strip()
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"syntax error: {exc.message}") from exc
    except Exception as exc:  # jinja raises many types; the caller reports one
        raise TemplateProblem(str(exc)) from exc


@lru_cache(maxsize=64)
def _compiled_html(source: str) -> Any:
    return _HTML_ENV.from_string(source)


def render_html(source: str, context: Mapping[str, Any]) -> str:
    """Render an HTML document template with every value escaped."""
    return _render(_compiled_html, source, context)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluate a branch condition such as `cap_reached` or `account_count == 0`."""
    try:
        return _compiled_expression(expression)(**context)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"syntax error: {exc.message}") from exc
    except Exception as exc:
        raise TemplateProblem(str(exc)) from exc


class TemplateSyntaxProblem(TemplateProblem):
    """A template that does not compile; `lineno` counts from the template's first line."""

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


@lru_cache(maxsize=8192)  # validation asks for names and fields of each: analyse once
def _parse(source: str, expression: bool) -> tuple[nodes.Template, frozenset[str]]:
    """The template's syntax tree (shared: read, never changed) and the names it reads from
    outside itself."""
    try:
        tree = _ENV.parse("{{ " + source + " }}" if expression else source)
        # compiling finds what parsing does not: a filter or test that does not exist
        names = frozenset(meta.find_undeclared_variables(tree))
    except TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_with_guess(exc.message or "syntax error"),
                                    exc.lineno) from exc
    return tree, names


def _with_guess(message: str) -> str:
    """Jinja's "No filter named 'uper'.", with the filter or test most like it."""
    unknown = re.match(r"No (filter|test) named '([^']+)'", message)
    if unknown is None:
        return message
    known = _ENV.filters if unknown.group(1) == "filter" else _ENV.tests
    guesses = get_close_matches(unknown.group(2), sorted(known), n=1, cutoff=0.6)
    return message + (f" (did you mean {guesses[0]!r}?)" if guesses else "")


def undeclared_names(source: str, *, expression: bool = False) -> set[str]:
    """Top-level names a template or expression reads; raises TemplateSyntaxProblem on bad
    syntax."""
    return set(_parse(source, expression)[1])


#: In an AttributeRead's path: the element of a list a `for` loop walks.
ITEM = "[]"


@dataclass(frozen=True)
class AttributeRead:
    """`root.a.b` in a template, also through a loop variable: in `{% for o in
    proposal.objections %}{{ o.nmae }}` the read is proposal → objections → ITEM → nmae, on
    template line `lineno`. `root` comes from outside the template."""

    root: str
    path: tuple[str, ...]
    lineno: int


def attribute_reads(source: str, *, expression: bool = False) -> list[AttributeRead]:
    """Every attribute chain whose start is a name from outside the template, or a loop
    variable over such a chain, so validation can follow it through the declared shapes
    (a misspelt `o.nmae` or `report.rpe` fails `repcoach check`, not a rep's message)."""
    tree, outside = _parse(source, expression)
    reads: list[AttributeRead] = []
    _walk(tree, {name: (name, ()) for name in outside}, reads)
    return reads


_Bindings = dict[str, tuple[str, tuple[str, ...]]]


def _walk(node: nodes.Node, bound: _Bindings, reads: list[AttributeRead]) -> None:
    """Collect reads under `node`; a `for` binds its target to its iterable's element for
    the loop body only (the same letter may walk another list later)."""
    if isinstance(node, nodes.For):
        _walk(node.iter, bound, reads)
        inner = dict(bound)
        chain = _chain(node.iter, bound)
        if isinstance(node.target, nodes.Name):
            if chain is None:
                inner.pop(node.target.name, None)  # shadows an outside name: unknown now
            else:
                inner[node.target.name] = (chain[0], (*chain[1], ITEM))
        elif isinstance(node.target, nodes.Tuple):
            for item in node.target.items:
                if isinstance(item, nodes.Name):
                    inner.pop(item.name, None)
        for child in [*node.body, *([node.test] if node.test is not None else [])]:
            _walk(child, inner, reads)
        for child in node.else_:
            _walk(child, bound, reads)
        return
    if isinstance(node, (nodes.Getattr, nodes.Getitem)):
        chain = _chain(node, bound)
        if chain is not None and chain[1]:
            reads.append(AttributeRead(chain[0], chain[1], node.lineno))
    for child in node.iter_child_nodes():
        _walk(child, bound, reads)


def _chain(node: nodes.Node, bound: _Bindings) -> tuple[str, tuple[str, ...]] | None:
    """(root, path) of `a.b['c']` or of a bound loop variable; None for anything else (a
    call, a filter, an index computed at run time)."""
    if isinstance(node, nodes.Name):
        return bound.get(node.name)
    if isinstance(node, nodes.Getattr):
        inner = _chain(node.node, bound)
        return None if inner is None else (inner[0], (*inner[1], node.attr))
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        inner = _chain(node.node, bound)
        value = node.arg.value
        if inner is None or not isinstance(value, (str, int)) or isinstance(value, bool):
            return None
        return inner[0], (*inner[1], value if isinstance(value, str) else ITEM)
    return None
