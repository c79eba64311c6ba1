"""Meaning checks on loaded playbooks: a list of small named checks, all problems collected.

Shape is pydantic's job (`coach.loader`); here we check what only makes sense across steps and
files: every `next` resolves, every step is reachable, ids are unique, templates read only
names that exist, scores refer to declared dimensions, actions exist and get what they need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from difflib import get_close_matches
from typing import Any, get_type_hints

from pydantic import BaseModel

from coach.actions import REGISTRY
from coach.issues import Issue, line_of, text_line
from coach.loader import LoadResult, SourceFile
from coach.playbook import (
    END,
    LOCALES,
    REQUIRED_MESSAGES,
    STAGES,
    STYLES,
    Catalog,
    Playbook,
    StepSpec,
    Text,
)
from coach.shapes import unknown_field
from coach.templating import (
    ITEM,
    TemplateSyntaxProblem,
    attribute_reads,
    is_plain,
    undeclared_names,
)
from coach.views import AccountView, RepView

BUILTIN_NAMES = frozenset({"rep", "account", "content", "locale", "today", "command_args",
                           "suspended", "typed"})
CATALOG_NAMES = BUILTIN_NAMES | {
    "command", "count", "min", "max", "limit", "name", "query", "hospital", "department",
    "action", "due", "names", "phrase", "day0", "deadline", "hours", "title", "number",
    "forwarded", "reported", "source", "target",
    "who", "customer", "kind", "report", "evidence", "card", "tip", "digest", "url", "last",
    "team", "day", "reason", "late", "overdue", "own", "reports", "manager", "text",
}
#: what every template reads as `account` and `rep` (coach/views.py builds them)
#: The declared shape (a TypedDict) of each object every template may read.
OBJECT_SHAPES: dict[str, Any] = {"account": AccountView, "rep": RepView}
ENGINE_COMMANDS = frozenset({"cancel", "start"})
MAX_CHOICES = 12

Check = Callable[[SourceFile, Playbook, "Bundle"], Iterator[Issue]]


class Bundle:
    """Everything loaded, indexed for cross-file checks."""

    def __init__(self, result: LoadResult) -> None:
        self.playbooks: dict[str, Playbook] = {}
        self.catalogs: list[tuple[SourceFile, Catalog]] = []
        for source in result.files:
            if isinstance(source.model, Playbook):
                self.playbooks.setdefault(source.model.id, source.model)
            elif isinstance(source.model, Catalog):
                self.catalogs.append((source, source.model))


def _issue(source: SourceFile, path: tuple[Any, ...], code: str, message: str) -> Issue:
    return Issue(source.path, line_of(source.raw, path), code, message)


def _step_path(playbook: Playbook, step: StepSpec, *rest: Any) -> tuple[Any, ...]:
    return ("steps", playbook.steps.index(step), *rest)


def check_unique_step_ids(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    seen: set[str] = set()
    for step in pb.steps:
        if step.id in seen or step.id == END:
            yield _issue(source, _step_path(pb, step, "id"), "duplicate-step",
                         f"step id {step.id!r} is used twice or is reserved")
        seen.add(step.id)


def check_step_kinds(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    for step in pb.steps:
        kinds = step.kinds
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            yield _issue(source, _step_path(pb, step), "step-kind",
                         f"step {step.id!r} must have exactly one of say/ask/action/set/branch "
                         f"(found: {found})")
            continue
        kind = kinds[0]
        if kind == "choice" and not step.choices:
            yield _issue(source, _step_path(pb, step, "ask"), "no-choices",
                         f"step {step.id!r} asks without `choices` or `input`")
        if kind == "choice" and step.choices and len(step.choices) > MAX_CHOICES:
            yield _issue(source, _step_path(pb, step, "choices"), "too-many-choices",
                         f"step {step.id!r} has {len(step.choices)} choices (at most "
                         f"{MAX_CHOICES})")
        if kind == "input" and step.choices and step.input != "days":
            yield _issue(source, _step_path(pb, step, "choices"), "step-kind",
                         f"step {step.id!r} has both `input` and `choices`")
        if kind == "input" and not step.save:
            yield _issue(source, _step_path(pb, step), "missing-save",
                         f"input step {step.id!r} needs `save:` to name its answer")
        if kind != "input" and step.input is not None:
            yield _issue(source, _step_path(pb, step, "input"), "step-kind",
                         f"step {step.id!r} has `input` but no `ask`")
        if step.input == "item" and not step.items:
            yield _issue(source, _step_path(pb, step), "missing-items",
                         f"`input: item` step {step.id!r} needs `items:` naming the list to "
                         "pick from")
        if step.items and step.input != "item":
            yield _issue(source, _step_path(pb, step, "items"), "step-kind",
                         f"step {step.id!r} has `items` but is not `input: item`")
        if step.create_into and not (step.input == "account" and step.create):
            yield _issue(source, _step_path(pb, step, "create_into"), "step-kind",
                         f"step {step.id!r} has `create_into` but is not an `input: account` "
                         "step with `create: true`")
        if step.on_text and (step.input is not None or not step.choices):
            yield _issue(source, _step_path(pb, step, "on_text"), "step-kind",
                         f"step {step.id!r} has `on_text` but is not a choice step")
        if step.query and step.input != "account":
            yield _issue(source, _step_path(pb, step, "query"), "step-kind",
                         f"step {step.id!r} has `query` but is not `input: account`")
        if step.input == "number" and step.optional:
            yield _issue(source, _step_path(pb, step, "optional"), "ambiguous-number",
                         f"step {step.id!r}: an optional number input would read a typed "
                         "number as the skip choice; ask for a number without a skip")


def _targets(pb: Playbook, step: StepSpec) -> Iterator[tuple[tuple[Any, ...], str]]:
    if step.next is not None:
        yield _step_path(pb, step, "next"), step.next
    if step.on_text is not None:
        yield _step_path(pb, step, "on_text"), step.on_text
    for index, choice in enumerate(step.choices or []):
        if choice.next is not None:
            yield _step_path(pb, step, "choices", index, "next"), choice.next
    for index, case in enumerate(step.branch or []):
        yield _step_path(pb, step, "branch", index, "next"), case.next


def check_next_resolves(source: SourceFile, pb: Playbook, bundle: Bundle) -> Iterator[Issue]:
    ids = {s.id for s in pb.steps}
    if pb.start is not None and pb.start not in ids:
        yield _issue(source, ("start",), "unknown-step", f"start step {pb.start!r} does not exist")
    for step in pb.steps:
        for path, target in _targets(pb, step):
            if target.startswith("@") and not is_plain(target):  # "@{{ feature.id }}"
                yield from _template_issues(source, path, target[1:], declared_names(pb))
            elif target.startswith("@"):
                if target[1:] not in bundle.playbooks:
                    yield _issue(source, path, "unknown-playbook",
                                 f"step {step.id!r} goes to playbook {target[1:]!r}, "
                                 "which does not exist"
                                 f"{_did_you_mean(target[1:], bundle.playbooks)}")
            elif target != END and target not in ids:
                yield _issue(source, path, "unknown-step",
                             f"step {step.id!r} goes to {target!r}, which does not exist"
                             f"{_did_you_mean(target, ids | {END})}")


def _successors(pb: Playbook, step: StepSpec) -> list[str]:
    found = [target for _, target in _targets(pb, step)]
    every_choice_branches = bool(step.choices) and all(c.next for c in step.choices or [])
    if step.next is None and not (step.kinds == ["choice"] and every_choice_branches):
        found.append(pb.following(step.id))
    return found


def check_reachable(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    ids = {s.id for s in pb.steps}
    start = pb.first_step
    if start not in ids:
        return
    seen = {start}
    queue = [start]
    while queue:
        step = pb.step(queue.pop())
        if step is None or len(step.kinds) != 1:
            continue
        for target in _successors(pb, step):
            if target in ids and target not in seen:
                seen.add(target)
                queue.append(target)
    for step in pb.steps:
        if step.id not in seen:
            yield _issue(source, _step_path(pb, step, "id"), "unreachable",
                         f"step {step.id!r} can never be reached from {start!r}")


def check_dimensions(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    for step in pb.steps:
        for index, choice in enumerate(step.choices or []):
            for dimension in choice.scores:
                if dimension not in pb.dimensions:
                    yield _issue(source, _step_path(pb, step, "choices", index, "scores"),
                                 "unknown-dimension",
                                 f"step {step.id!r} scores {dimension!r}, not one of the "
                                 f"playbook's dimensions {pb.dimensions}")


def check_actions(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    for step in pb.steps:
        if step.action is None:
            continue
        spec = REGISTRY.get(step.action)
        if spec is None:
            yield _issue(source, _step_path(pb, step, "action"), "unknown-action",
                         f"step {step.id!r} calls {step.action!r}; known actions: "
                         f"{', '.join(sorted(REGISTRY))}")
            continue
        for arg in step.args:
            if arg not in spec.args:
                yield _issue(source, _step_path(pb, step, "args", arg), "unknown-arg",
                             f"action {step.action!r} takes no argument {arg!r}")
        for arg, allowed in spec.args.items():
            value = step.args.get(arg)
            if value is None:
                yield _issue(source, _step_path(pb, step), "missing-arg",
                             f"action {step.action!r} needs `args: {{{arg}: ...}}`")
            elif allowed and value not in allowed:
                yield _issue(source, _step_path(pb, step, "args", arg), "bad-arg",
                             f"{arg!r} must be one of {sorted(allowed)}")
        for path, code, message, *first in spec.check_content(pb):
            if first:
                message += f" (first at line {line_of(source.raw, first[0])})"
            yield _issue(source, path, code, message)


def declared_names(pb: Playbook) -> set[str]:
    names = set(BUILTIN_NAMES)
    for step in pb.steps:
        if step.save:
            names.add(step.save)
        if step.create_into:
            names.add(step.create_into)
        names.update(step.set or {})
        spec = REGISTRY.get(step.action or "")
        if spec is not None:
            names.update(spec.provides)
    return names


def _texts(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str | None]]:
    if isinstance(value, Text):
        for locale in LOCALES:
            yield (*path, locale), getattr(value, locale)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*path, name))


def _template_issues(source: SourceFile, path: tuple[Any, ...], text: str | None,
                     allowed: set[str] | None, *, expression: bool = False,
                     shapes: Mapping[str, Any] | None = None) -> Iterator[Issue]:
    """Syntax, names and fields of one template, each at the file line it is on; names only
    when `allowed` says which exist. Fields are followed through the declared shapes at
    any depth and through loop variables (`{% for o in proposal.objections %}{{ o.nmae }}`)."""
    if text is None:  # reported once, as missing-locale, by the loader
        return
    if not text.strip():
        yield _issue(source, path, "empty-text", "text is empty")
        return
    try:
        names = undeclared_names(text, expression=expression)
        reads = attribute_reads(text, expression=expression)
    except TemplateSyntaxProblem as exc:
        yield Issue(source.path, text_line(source.raw, path, 1 if expression else exc.lineno),
                    "template-syntax", f"{exc} in {_quote(text)}")
        return
    for name in sorted(names - allowed if allowed is not None else ()):
        yield Issue(source.path, text_line(source.raw, path), "unknown-variable",
                    f"template uses {name!r}, which no step saves, sets or provides"
                    f"{_did_you_mean(name, allowed or ())}")
    shapes = {**OBJECT_SHAPES, **(shapes or {})}
    told: set[tuple[int, str]] = set()
    for read in reads:
        shape = shapes.get(read.root)
        if shape is None or (allowed is not None and read.root not in allowed):
            continue
        unknown = unknown_field(shape, read.path)
        if unknown is None:
            continue
        owner = _dotted(read.root, unknown.owner)
        line = text_line(source.raw, path, 1 if expression else read.lineno)
        if (line, f"{owner}.{unknown.field}") in told:
            continue
        told.add((line, f"{owner}.{unknown.field}"))
        yield Issue(source.path, line, "unknown-field",
                    f"template uses {owner}.{unknown.field}, but {owner} has no "
                    f"{unknown.field!r}{_did_you_mean(unknown.field, unknown.known)}; it has "
                    f"{', '.join(sorted(unknown.known))}")


def _dotted(root: str, path: tuple[str, ...]) -> str:
    """proposal.objections[] for the element a loop over proposal.objections walks."""
    return root + "".join("[]" if part == ITEM else f".{part}" for part in path)


def _quote(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return repr(line if len(line) <= 60 else line[:57] + "...")


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    guesses = get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {guesses[0]!r}?)" if guesses else ""


def action_shapes(pb: Playbook) -> dict[str, Any]:
    """The declared shape (a TypedDict) of each object the playbook's actions provide
    (`quiz`, `tactic`, `proposal`), unless a step also saves or sets that name (then its
    shape is the author's)."""
    shapes: dict[str, Any] = {}
    own = {step.save for step in pb.steps} | {n for step in pb.steps for n in step.set or {}}
    for step in pb.steps:
        spec = REGISTRY.get(step.action or "")
        for name, shape in (spec.shapes.items() if spec else ()):
            if name not in own:
                shapes[name] = shape
    return shapes


def check_templates(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    allowed = declared_names(pb)
    shapes = action_shapes(pb)
    for step in pb.steps:
        base = _step_path(pb, step)
        for name, key in ((step.items, "items"), (step.query, "query")):
            if name and name not in allowed:
                yield _issue(source, (*base, key), "unknown-variable",
                             f"step {step.id!r} reads {name!r}, which no step saves, sets or "
                             "provides")
        for index, choice in enumerate(step.choices or []):
            if choice.when is not None:
                yield from _template_issues(source, (*base, "choices", index, "when"),
                                            choice.when, allowed, expression=True,
                                            shapes=shapes)
        for path, text in _texts(step, base):
            yield from _template_issues(source, path, text, allowed, shapes=shapes)
        for name, value in (step.set or {}).items():
            yield from _template_issues(source, (*base, "set", name), value, allowed,
                                        shapes=shapes)
        for index, case in enumerate(step.branch or []):
            yield from _template_issues(source, (*base, "branch", index, "when"), case.when,
                                        allowed, expression=True, shapes=shapes)
    for path, text in _texts(pb.title, ("title",)):
        yield from _template_issues(source, path, text, allowed, shapes=shapes)


def _content_texts(raw: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string under `content` that holds template syntax, with its key path."""
    if isinstance(raw, str):
        if not is_plain(raw):
            yield path, raw
    elif isinstance(raw, dict):
        for key, value in raw.items():
            yield from _content_texts(value, (*path, key))
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            yield from _content_texts(value, (*path, index))


def check_content_templates(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    """Texts under `content` (a tactic's text and why, an objection's answer) are templates
    too, rendered with the playbook's names plus what the code passes them (`stage_name`,
    `objection` … see TacticExtras): a typo there must fail `repcoach check`, not a rep's
    /next."""
    declared = declared_names(pb)
    shapes = action_shapes(pb)
    passed = content_names(pb)
    passed_shapes = content_shapes(pb)
    raw_content = source.raw.get("content") if isinstance(source.raw, dict) else None
    plain = {key for step in pb.steps
             for key in getattr(REGISTRY.get(step.action or ""), "plain_content", ())}
    for path, text in _content_texts(raw_content, ("content",)):
        if len(path) > 1 and path[1] in plain:
            yield Issue(source.path, text_line(source.raw, path), "not-a-template",
                        f"content.{path[1]} is shown as written: '{{{{ … }}}}' here would "
                        "reach the rep as typed; write the text without it")
            continue
        extras = passed.get(path[1]) if len(path) > 1 else None
        # where no action declares what it passes, only syntax and fields can be checked
        names = declared | extras if extras is not None else None
        yield from _template_issues(source, path, text, names, shapes={
            **shapes, **(passed_shapes.get(path[1], {}) if len(path) > 1 else {})})


def content_names(pb: Playbook) -> dict[str, set[str]]:
    """For each `content` key an action of `pb` renders, the names it passes to its texts."""
    return {key: set(shapes) for key, shapes in content_shapes(pb).items()}


def content_shapes(pb: Playbook) -> dict[str, dict[str, Any]]:
    """For each `content` key an action of `pb` renders, the declared shape of each name it
    passes to its texts (`report` to the coaching document)."""
    found: dict[str, dict[str, Any]] = {}
    for step in pb.steps:
        spec = REGISTRY.get(step.action or "")
        for key, shape in (spec.content_names.items() if spec else ()):
            found.setdefault(key, {}).update(get_type_hints(shape))
    return found


def check_reserved_names(source: SourceFile, pb: Playbook, _b: Bundle) -> Iterator[Issue]:
    """A saved or set variable named like a built-in (today, account, rep …) would be
    hidden by it in every template."""
    for step in pb.steps:
        names = [(step.save, "save")] if step.save and step.save != "account" else []
        names += [(name, "set") for name in step.set or {}]
        spec = REGISTRY.get(step.action or "")
        names += [(name, "action") for name in (spec.provides if spec else ())]
        for name, key in names:
            if name in BUILTIN_NAMES - {"account", "command_args"}:
                yield _issue(source, _step_path(pb, step, key if key != "action" else "action"),
                             "reserved-name",
                             f"step {step.id!r}: {name!r} is a built-in template name; "
                             "choose another")


PLAYBOOK_CHECKS: tuple[Check, ...] = (
    check_unique_step_ids,
    check_step_kinds,
    check_next_resolves,
    check_reachable,
    check_dimensions,
    check_actions,
    check_templates,
    check_content_templates,
    check_reserved_names,
)


def _check_catalog(source: SourceFile, catalog: Catalog, bundle: Bundle) -> Iterator[Issue]:
    for key in REQUIRED_MESSAGES:
        if key not in catalog.messages:
            yield _issue(source, ("messages",), "missing-message",
                         f"message {key!r} is required by the engine")
    for key, text in catalog.messages.items():
        for locale in LOCALES:
            yield from _template_issues(source, ("messages", key, locale),
                                        getattr(text, locale), set(CATALOG_NAMES))
    for group, required in (("stages", STAGES), ("styles", STYLES)):
        names = getattr(catalog.labels, group)
        for key in required:
            if key not in names:
                yield _issue(source, ("labels", group), "missing-label",
                             f"labels.{group} needs {key!r}")
    if catalog.review not in bundle.playbooks:
        yield _issue(source, ("review",), "unknown-playbook",
                     f"review goes to {catalog.review!r}, which does not exist")
    for field in ("reschedule", "kept_notes", "feature_offer"):
        target = getattr(catalog, field)
        if target not in bundle.playbooks:
            yield _issue(source, (field,), "unknown-playbook",
                         f"{field} goes to {target!r}, which does not exist")
    if catalog.free_text.playbook not in bundle.playbooks:
        yield _issue(source, ("free_text", "playbook"), "unknown-playbook",
                     f"free text goes to {catalog.free_text.playbook!r}, which does not exist")
    known = {c for pb in bundle.playbooks.values() for c in pb.commands} | ENGINE_COMMANDS
    for index, command in enumerate(catalog.commands):
        if command.name not in known:
            yield _issue(source, ("commands", index, "name"), "unknown-command",
                         f"menu lists /{command.name}, which no playbook handles")


def _check_across(result: LoadResult, bundle: Bundle) -> Iterator[Issue]:
    ids: dict[str, str] = {}
    commands: dict[str, str] = {}
    keywords: dict[str, str] = {}
    for source in result.files:
        pb = source.model
        if not isinstance(pb, Playbook):
            continue
        if pb.id in ids:
            yield _issue(source, ("id",), "duplicate-playbook",
                         f"playbook id {pb.id!r} is already used by {ids[pb.id]}")
        ids.setdefault(pb.id, source.path)
        for index, command in enumerate(pb.commands):
            if command in commands or command in ENGINE_COMMANDS - {"start"}:
                owner = commands.get(command, "the engine")
                yield _issue(source, ("commands", index), "duplicate-command",
                             f"/{command} is already handled by {owner}")
            commands.setdefault(command, source.path)
        for locale, words in pb.keywords.items():  # a keyword starts or offers one feature
            for index, word in enumerate(words):
                key = word.strip().lower()
                if keywords.setdefault(key, pb.id) != pb.id:
                    yield _issue(source, ("keywords", locale, index), "duplicate-keyword",
                                 f"keyword {word!r} is already playbook {keywords[key]!r}'s")
    if not bundle.catalogs and result.files:
        yield Issue(result.files[0].path, 1, "missing-catalog",
                    "no message catalog (a file with `messages:`, normally system.yaml)")
    for source, _catalog in bundle.catalogs[1:]:
        yield _issue(source, ("id",), "duplicate-catalog", "only one message catalog is allowed")


def validate(result: LoadResult) -> list[Issue]:
    """Every meaning problem in `result`, sorted by file and line."""
    bundle = Bundle(result)
    issues = list(result.issues)
    for source in result.files:
        if isinstance(source.model, Playbook):
            for check in PLAYBOOK_CHECKS:
                issues.extend(check(source, source.model, bundle))
    for source, catalog in bundle.catalogs:
        issues.extend(_check_catalog(source, catalog, bundle))
    issues.extend(_check_across(result, bundle))
    if result.failed:
        issues = [*_without_references(issues, result.failed), *_not_checked(result.failed)]
    return sorted(set(issues))


#: problems a file that failed to load causes in the others ("goes to playbook 'quiz',
#: which does not exist" when quiz.yaml has a typo): not reported, said once instead
REFERENCE_CODES = frozenset({"unknown-playbook", "unknown-command", "missing-catalog"})


def _without_references(issues: list[Issue], failed: list[str]) -> list[Issue]:
    return [i for i in issues if i.code not in REFERENCE_CODES or i.file in failed]


def _not_checked(failed: list[str]) -> list[Issue]:
    return [Issue(path, 1, "not-checked",
                  "this file could not be read, so other files' references to its playbook "
                  "(steps going to it, its commands in the menu) were not checked; fix it "
                  "and run check again")
            for path in failed]
