"""rules.yaml -> compiled rules: shape checked by pydantic, meaning checked here, every problem
collected and reported as `file:line: message`.

Rules are data; this module holds the mechanisms a rule can name:

* `defines` are reusable fragments spliced into patterns as `{{name}}`. A list is a set of
  literal words (escaped; single characters become one character class, which is fast); a
  string is a raw regex fragment and may use other defines.
* `redact` rules find personal data; a named group `value` narrows what is replaced, a
  `validator` (see `validators.py`) confirms a candidate, e.g. a checksum.
* `rules` find issues of one category each; `requires` asks for a context in the same clause
  or sentence, `suppressors` (per category) say when a match is not an issue (negation before
  it, an answer after it, a published rate near it, a department word inside it), and
  `quantity` makes a rule redact the numbers of its statement (per-doctor prescriptions).
* `ignore_case: true` runs a lowercase pattern on the lowercased note (fast English rules).

Speed helpers from `prefilter.py` are applied here, once: a leading \b is split off, and a
rule gets a literal test when that test is cheaper than the scan it may save.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.compliance.prefilter import (
    Needs,
    fast_start,
    hoist_word_start,
    lowercase_violations,
    needs_of,
)
from coach.compliance.validators import VALIDATORS, Validator
from coach.issues import Issue, Issues, LineMap
from coach.loader import read_positioned

#: Categories the engine knows how to explain; rules.yaml must explain each in zh and en.
CATEGORIES: tuple[str, ...] = (
    "personal_data", "adverse_event", "kickback", "gift", "off_label", "prescription_count",
)
RULE_CATEGORIES = frozenset(CATEGORIES) - {"personal_data"}

#: How far a rule looks around a match: its clause, its sentence, or `nearby`: the same
#: paragraph within NEARBY characters either side (reps write short notes, often without
#: punctuation, so the drug and the event are rarely in one clause; in a 2,000-character
#: note the next paragraph is about something else).
#: "match": the matched text itself (an `unless` that looks at what the rule found)
Scope = Literal["clause", "sentence", "nearby", "match"]
NEARBY = 60
SuppressorMode = Literal["before", "after", "near", "inside"]
_MODES: tuple[SuppressorMode, ...] = ("before", "after", "near", "inside")
_MACRO = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class GuardConfigError(Exception):
    """rules.yaml is unusable; `issues` lists every problem with its file and line."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


# --- shape ------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BoundariesSpec(_Strict):
    clause: str
    sentence: str


class KindSpec(_Strict):
    placeholder: str = Field(min_length=3)
    category: str = "personal_data"


class RedactSpec(_Strict):
    id: str
    kind: str
    pattern: str
    validator: str | None = None
    ignore_case: bool = False
    # skipped when this pattern occurs in the `not_after_window` characters before the match
    # (a business number: 订单号, 批号, invoice …); searched case-insensitively
    not_after: str | None = None
    not_after_window: int = Field(default=12, ge=1, le=40)


class RequireSpec(_Strict):
    pattern: str
    scope: Scope = "sentence"


class SuppressorSpec(_Strict):
    id: str
    before: str | None = None
    after: str | None = None
    near: str | None = None
    inside: str | None = None
    window: int = Field(default=12, ge=1, le=200)
    scope: Scope = "clause"
    # for `near`: look only this many characters either side, within the scope (notes
    # without punctuation are one long clause)
    near_window: int | None = Field(default=None, ge=1, le=200)
    unless: str | None = None
    unless_scope: Scope = "clause"


class QuantitySpec(_Strict):
    pattern: str
    kind: str
    reach: int = Field(default=12, ge=0, le=200)


class RuleSpec(_Strict):
    id: str
    category: str
    pattern: str
    ignore_case: bool = False
    # adverse events only: a hit is a question to the rep ("is this an adverse event?"),
    # not a report, and only when no other rule found one
    possible: bool = False
    # adverse events only: the hit shows exposure or onset (用药后出现), not what happened; the
    # report is named by the clause of a hit that names the event, when there is one
    cue: bool = False
    requires: RequireSpec | None = None
    suppressors: list[str] | None = None
    quantity: QuantitySpec | None = None


# A space beside Chinese punctuation: what `>-` makes of a line break in Chinese text.
_STRAY_SPACE = re.compile(r"[ \t]+[，。、；：！？）」》]|[，。、；：！？（「《][ \t]+")


class ExplanationSpec(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class RulesFile(_Strict):
    version: Literal[1]
    boundaries: BoundariesSpec
    defines: dict[str, str | list[str]] = Field(default_factory=dict)
    kinds: dict[str, KindSpec]
    # placeholders earlier versions wrote into stored notes: read as masked, never as words
    legacy_placeholders: list[str] = Field(default_factory=list)
    redact: list[RedactSpec]
    suppressors: dict[str, list[SuppressorSpec]] = Field(default_factory=dict)
    rules: list[RuleSpec]
    explanations: dict[str, ExplanationSpec]


# --- compiled form ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redactor:
    id: str
    kind: str
    category: str
    placeholder: str
    regex: re.Pattern[str]
    group: int | str
    validator: Validator | None
    needs: Needs | None
    #: The pattern is lowercase and runs on the case-folded text (same offsets).
    folded: bool
    #: The pattern's leading \b was split off; the guard checks it at each match start.
    word_start: bool
    not_after: re.Pattern[str] | None = None
    not_after_window: int = 12


@dataclass(frozen=True, slots=True)
class Suppressor:
    id: str
    mode: SuppressorMode
    regex: re.Pattern[str]
    window: int
    scope: Scope
    unless: re.Pattern[str] | None
    unless_scope: Scope
    near_window: int | None = None


@dataclass(frozen=True, slots=True)
class Quantity:
    regex: re.Pattern[str]
    kind: str
    placeholder: str
    reach: int


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    regex: re.Pattern[str]
    requires: re.Pattern[str] | None
    requires_scope: Scope
    suppressors: tuple[Suppressor, ...]
    quantity: Quantity | None
    #: Every one of these must be met (pattern, requires, quantity) for the rule to fire.
    needs: tuple[Needs, ...]
    #: The pattern is lowercase and runs on the case-folded text (same offsets).
    folded: bool
    #: The pattern's leading \b was split off; the guard checks it at each match start.
    word_start: bool
    #: A hit is a question to the rep, not a report (adverse events only).
    possible: bool = False
    #: The hit shows exposure or onset, not the event: it names the report only when no
    #: other hit does (adverse events only).
    cue: bool = False


@dataclass(frozen=True, slots=True)
class CompiledRules:
    clause_break: re.Pattern[str]
    sentence_break: re.Pattern[str]
    kinds: Mapping[str, KindSpec]
    redactors: tuple[Redactor, ...]
    rules: tuple[Rule, ...]
    explanations: Mapping[str, ExplanationSpec]
    placeholders: re.Pattern[str]  # every placeholder, current and legacy
    #: Each define, expanded (a regex fragment): the note reader's patterns may use the
    #: guard's word lists too (`{{ev_zh}}`: every harm a worry can name), one list for both.
    defines: Mapping[str, str] = field(default_factory=dict)


# --- loading ----------------------------------------------------------------------------------


#: The company's product names (brand and generic, zh and en), beside rules.yaml: a note
#: that names one shows exposure as surely as "我们的药" does.
PRODUCTS_FILE = "products.yaml"


def load_products(path: Path) -> list[str]:
    """The product names in products.yaml (`products: [...]`); none when the file is absent."""
    if not path.is_file():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = raw.get("products") if isinstance(raw, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise GuardConfigError([Issue(str(path), 1, "bad-products",
                                      "products must be a list of names")])
    return [n.strip() for n in names]


def load_rules(path: Path, products: Sequence[str] = ()) -> CompiledRules:
    """Read, validate and compile rules.yaml; raise GuardConfigError listing every problem.
    The `{{products}}` define is the company's products (products.yaml beside it) and
    `products`; with none, it matches nothing."""
    display = str(path)
    raw, issues = read_positioned(path, display)
    if raw is None and issues:
        raise GuardConfigError(issues)
    problems = Issues(display, raw, code="bad-rule")
    problems.items.extend(issues)
    if not isinstance(raw, LineMap):
        problems.at_line(1, "rules file must be a mapping", "not-a-mapping")
        raise GuardConfigError(problems.items)
    try:
        spec = RulesFile.model_validate(raw)
    except ValidationError as exc:
        # pydantic adds the union member tried ("str", "list[str]") to the location
        problems.add_validation_error(exc, skip=("str", "list[str]"), model=RulesFile)
        raise GuardConfigError(problems.items) from None
    names = sorted({*load_products(path.with_name(PRODUCTS_FILE)), *products})
    defines = dict(spec.defines)
    defines["products"] = names if names else "(?!)"
    spec = spec.model_copy(update={"defines": defines})
    compiled = _compile(spec, problems)
    if problems.items or compiled is None:
        raise GuardConfigError(problems.items)
    return compiled


def _compile(spec: RulesFile, problems: Issues) -> CompiledRules | None:
    macros = _Macros(spec.defines, problems)
    regex = macros.regex

    clause_break = regex(spec.boundaries.clause, ("boundaries", "clause"))
    sentence_break = regex(spec.boundaries.sentence, ("boundaries", "sentence"))

    for name, kind in spec.kinds.items():
        if kind.category not in CATEGORIES:
            problems.add(("kinds", name, "category"),
                         f"kind {name!r}: unknown category {kind.category!r} "
                         f"(one of {', '.join(CATEGORIES)})")
    placeholders: dict[str, str] = {}
    for name, kind in spec.kinds.items():
        if kind.placeholder in placeholders:
            other = placeholders[kind.placeholder]
            problems.add(("kinds", name, "placeholder"),
                         f"kind {name!r} reuses the placeholder of {other!r}")
        placeholders[kind.placeholder] = name

    redactors: list[Redactor] = []
    for index, item in enumerate(spec.redact):
        where: tuple[Any, ...] = ("redact", index)
        kind_spec = spec.kinds.get(item.kind)
        if kind_spec is None:
            problems.add((*where, "kind"), f"redact {item.id!r}: unknown kind {item.kind!r}")
        validator = None
        if item.validator is not None:
            validator = VALIDATORS.get(item.validator)
            if validator is None:
                problems.add((*where, "validator"),
                             f"redact {item.id!r}: unknown validator {item.validator!r} "
                             f"(known: {', '.join(sorted(VALIDATORS))})")
        compiled = regex(item.pattern, (*where, "pattern"))
        if compiled is not None and item.ignore_case:
            _check_lowercase(compiled, (*where, "pattern"), problems)
        not_after = None if item.not_after is None else regex(
            f"(?i:{item.not_after})", (*where, "not_after"))
        if compiled is not None and kind_spec is not None:
            group: int | str = "value" if "value" in compiled.groupindex else 0
            scan, word_start = hoist_word_start(compiled)
            redactors.append(Redactor(item.id, item.kind, kind_spec.category,
                                      kind_spec.placeholder, scan, group, validator,
                                      _gate(scan, needs_of(compiled, item.ignore_case)),
                                      item.ignore_case, word_start, not_after,
                                      item.not_after_window))
    _check_unique_ids(problems, "redact", [r.id for r in spec.redact])

    suppressors = _compile_suppressors(spec, problems, macros)

    rules: list[Rule] = []
    for index, rule_spec in enumerate(spec.rules):
        where = ("rules", index)
        if rule_spec.category not in RULE_CATEGORIES:
            problems.add((*where, "category"),
                         f"rule {rule_spec.id!r}: unknown category {rule_spec.category!r} "
                         f"(one of {', '.join(sorted(RULE_CATEGORIES))})")
            continue
        pattern = regex(rule_spec.pattern, (*where, "pattern"))
        if pattern is not None and rule_spec.ignore_case:
            _check_lowercase(pattern, (*where, "pattern"), problems)
        requires = None
        if rule_spec.requires is not None:
            requires = regex(rule_spec.requires.pattern, (*where, "requires", "pattern"))
        available = suppressors.get(rule_spec.category, {})
        chosen: list[Suppressor] = []
        names = list(available) if rule_spec.suppressors is None else rule_spec.suppressors
        for s_index, name in enumerate(names):
            if name in available:
                chosen.append(available[name])
            else:
                problems.add((*where, "suppressors", s_index),
                             f"rule {rule_spec.id!r}: no suppressor {name!r} for category "
                             f"{rule_spec.category!r}")
        quantity = None
        if rule_spec.quantity is not None:
            quantity = _compile_quantity(rule_spec, where, spec, problems, macros)
            if rule_spec.ignore_case:
                problems.add((*where, "ignore_case"),
                             f"rule {rule_spec.id!r}: a quantity rule cannot use ignore_case; "
                             "use (?i:...) inside its pattern")
        if pattern is not None and (rule_spec.requires is None or requires is not None):
            if quantity is not None:
                # numbers are scanned first; the pattern only runs in short windows
                scan, word_start = pattern, False
                needs = [needs_of(pattern), needs_of(quantity.regex)]
            else:
                scan, word_start = hoist_word_start(pattern)
                needs = [_gate(scan, needs_of(pattern, rule_spec.ignore_case))]
            rules.append(Rule(rule_spec.id, rule_spec.category, scan, requires,
                              rule_spec.requires.scope if rule_spec.requires else "sentence",
                              tuple(chosen), quantity, tuple(n for n in needs if n),
                              rule_spec.ignore_case, word_start, rule_spec.possible,
                              rule_spec.cue))
            if rule_spec.possible and rule_spec.category != "adverse_event":
                problems.add((*where, "possible"),
                             f"rule {rule_spec.id!r}: only adverse-event rules can be possible")
            if rule_spec.cue and rule_spec.category != "adverse_event":
                problems.add((*where, "cue"),
                             f"rule {rule_spec.id!r}: only adverse-event rules can be cues")
    _check_unique_ids(problems, "rules", [r.id for r in spec.rules])

    for category in spec.suppressors:
        if category not in RULE_CATEGORIES:
            problems.add(("suppressors", category),
                         f"suppressors for unknown category {category!r}")
    for category, explanation in spec.explanations.items():
        if category not in CATEGORIES:
            problems.add(("explanations", category),
                         f"explanation for unknown category {category!r}")
        if _STRAY_SPACE.search(explanation.zh):  # a folded YAML line break ("邮箱， 以及")
            problems.add(("explanations", category, "zh"),
                         "a space beside Chinese punctuation (write the text with escaped "
                         "line breaks, not `>-`, so lines join without a space)")
    for category in CATEGORIES:
        if category not in spec.explanations:
            problems.add(("explanations",),
                         f"explanations: category {category!r} has no explanation")

    # A placeholder must never look like personal data itself, or a second pass (or a second
    # check of stored text) would redact the redaction.
    for name, kind in spec.kinds.items():
        for redactor in redactors:
            if redactor.regex.search(kind.placeholder):
                problems.add(("kinds", name, "placeholder"),
                             f"placeholder of kind {name!r} is matched by redact rule "
                             f"{redactor.id!r}")

    if clause_break is None or sentence_break is None:
        return None
    written = sorted({k.placeholder for k in spec.kinds.values()} | set(spec.legacy_placeholders),
                     key=len, reverse=True)
    placeholder_regex = re.compile("|".join(re.escape(p) for p in written))
    return CompiledRules(clause_break, sentence_break, dict(spec.kinds), tuple(redactors),
                         tuple(rules), dict(spec.explanations), placeholder_regex,
                         {name: text for name, text in macros.cache.items() if text is not None})


def _compile_suppressors(spec: RulesFile, problems: Issues,
                         macros: _Macros) -> dict[str, dict[str, Suppressor]]:
    result: dict[str, dict[str, Suppressor]] = {}
    for category, items in spec.suppressors.items():
        table: dict[str, Suppressor] = {}
        for index, item in enumerate(items):
            where: tuple[Any, ...] = ("suppressors", category, index)
            modes = [m for m in _MODES if getattr(item, m) is not None]
            if len(modes) != 1:
                problems.add(where, f"suppressor {item.id!r}: needs exactly one of before / "
                                    f"after / near / inside (found: {', '.join(modes) or 'none'})")
                continue
            mode = modes[0]
            source: str = getattr(item, mode)
            compiled = macros.regex(source, (*where, mode))
            unless = None
            if item.unless is not None:
                unless = macros.regex(item.unless, (*where, "unless"))
                if unless is None:
                    continue
            if item.id in table:
                problems.add((*where, "id"), f"suppressor id {item.id!r} is used twice")
            if compiled is not None:
                table[item.id] = Suppressor(item.id, mode, compiled, item.window, item.scope,
                                            unless, item.unless_scope, item.near_window)
        result[category] = table
    return result


def _compile_quantity(item: RuleSpec, where: tuple[Any, ...], spec: RulesFile,
                      problems: Issues, macros: _Macros) -> Quantity | None:
    assert item.quantity is not None
    q = item.quantity
    compiled = macros.regex(q.pattern, (*where, "quantity", "pattern"))
    kind = spec.kinds.get(q.kind)
    if kind is None:
        problems.add((*where, "quantity", "kind"), f"rule {item.id!r}: unknown kind {q.kind!r}")
    if compiled is not None and "value" not in compiled.groupindex:
        problems.add((*where, "quantity", "pattern"),
                     f"rule {item.id!r}: a quantity pattern needs a (?P<value>...) group "
                     "for the number to redact")
        return None
    if compiled is None or kind is None:
        return None
    return Quantity(compiled, q.kind, kind.placeholder, q.reach)


def _gate(scan: re.Pattern[str], needs: Needs | None) -> Needs | None:
    """Keep a literal test only where it is cheaper than the scan it may save.

    A pattern that starts with a literal or a class is scanned by re as fast as a search for
    its literals would be, so testing them first costs without saving; one or two literals
    are tested with `in`, which is cheaper still. (A rule's `requires` is only searched around
    a match, so it is never worth a test.)
    """
    if needs is None:
        return None
    if len(needs.literals) <= 2 or not fast_start(scan):
        return needs
    return None


def _check_lowercase(pattern: re.Pattern[str], where: tuple[Any, ...],
                     problems: Issues) -> None:
    """An ignore_case pattern runs on lowercased text: an uppercase letter never matches."""
    upper = sorted({ch for ch in lowercase_violations(pattern)})
    if upper:
        problems.add(where, "ignore_case patterns run on lowercased text; write "
                            f"{', '.join(upper)} in lowercase")


def _check_unique_ids(problems: Issues, section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, rule_id in enumerate(ids):
        if rule_id in seen:
            problems.add((section, index, "id"), f"{section}: id {rule_id!r} is used twice")
        seen.add(rule_id)


class _Macros:
    """Expands `{{name}}` in patterns from `defines`, then compiles; problems are collected."""

    def __init__(self, defines: Mapping[str, str | list[str]], problems: Issues) -> None:
        self.defines = defines
        self.problems = problems
        self.cache: dict[str, str | None] = {}
        for name, value in defines.items():
            self._define(name, ())
            if isinstance(value, list) and not value:
                problems.add(("defines", name), f"define {name!r} is an empty list")

    def _define(self, name: str, stack: tuple[str, ...]) -> str | None:
        if name in self.cache:
            return self.cache[name]
        value = self.defines[name]
        if isinstance(value, list):
            fragment: str | None = _alternation(value)
        else:
            fragment = self._expand(value, ("defines", name), (*stack, name))
            if fragment is not None:
                fragment = f"(?:{fragment})"
        self.cache[name] = fragment
        return fragment

    def _expand(self, source: str, where: tuple[Any, ...], stack: tuple[str, ...]) -> str | None:
        failed = False

        def replace(match: re.Match[str]) -> str:
            nonlocal failed
            name = match.group(1)
            if name in stack:
                self.problems.add(where, f"define {name!r} refers to itself "
                                         f"({' -> '.join((*stack, name))})")
                failed = True
                return ""
            if name not in self.defines:
                self.problems.add(where, f"unknown define {{{{{name}}}}}")
                failed = True
                return ""
            fragment = self._define(name, stack)
            if fragment is None:
                failed = True
                return ""
            return fragment

        expanded = _MACRO.sub(replace, source)
        return None if failed else expanded

    def regex(self, source: str, where: tuple[Any, ...]) -> re.Pattern[str] | None:
        expanded = self._expand(source, where, ())
        if expanded is None:
            return None
        try:
            compiled = re.compile(expanded)
        except re.error as exc:
            self.problems.add(where, f"bad regular expression: {exc.msg} "
                                     f"(at position {exc.pos} after expanding defines)")
            return None
        if compiled.search("") is not None:
            self.problems.add(where, "pattern matches the empty string")
            return None
        return compiled


def _alternation(words: list[str]) -> str:
    """Literal words as one regex: single characters in a class, longer words first."""
    singles = sorted({w for w in words if len(w) == 1})
    longer = sorted({w for w in words if len(w) > 1}, key=lambda w: (-len(w), w))
    parts = [re.escape(w) for w in longer]
    if singles:
        parts.append("[" + "".join(re.escape(ch) for ch in singles) + "]")
    return "(?:" + "|".join(parts) + ")"

