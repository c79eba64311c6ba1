"""The validated set of playbooks the engine runs, with lookups it needs on every turn."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from coach.actions.signals import with_guard_words
from coach.capture import LEXICON_FILE, Lexicon, load_lexicon
from coach.compliance import Guard, GuardConfigError, load_guard
from coach.issues import Issue, line_of
from coach.loader import LoadResult, SourceFile, load_directory
from coach.playbook import LOCALES, Catalog, Playbook, Text
from coach.templating import render, render_html
from coach.validate import validate
from coach.validation_cache import ValidationCache, verdict_key


class PlaybookErrors(Exception):
    """Playbooks with problems: the bot must not start. `issues` lists every one."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def alias_key(word: str) -> str:
    """A word as typed after "/": lower case, without spaces, hyphens or underscores
    ("My customers", "/my_customers" and "/mycustomers" are one)."""
    return re.sub(r"[\s_-]+", "", word.strip().lower())


def localize(value: Any, locale: str) -> Any:
    """Replace every `{zh, en}` leaf with the string for `locale`."""
    if isinstance(value, dict):
        if set(value) == set(LOCALES):
            return value["en" if locale == "en" else "zh"]
        return {k: localize(v, locale) for k, v in value.items()}
    if isinstance(value, list):
        return [localize(v, locale) for v in value]
    return value


class Library:
    """Playbooks by id and by command, the message catalog, localized content."""

    def __init__(self, playbooks: list[Playbook], catalog: Catalog, guard: Guard | None,
                 lexicon: Lexicon, sources: list[SourceFile] | None = None) -> None:
        self.playbooks = {pb.id: pb for pb in playbooks}
        self.catalog = catalog
        self.guard = guard
        self.lexicon = lexicon
        self.by_command = {c: pb for pb in playbooks for c in pb.commands}
        self.by_keyword = {
            word.strip().lower(): pb
            for pb in playbooks for words in pb.keywords.values() for word in words
        }
        # what a rep may type after "/" for a command he knows by another name: the English
        # keywords of a playbook with a command ("/customers", "/my_customers" → accounts)
        self.command_aliases = {
            alias_key(word): pb.commands[0]
            for pb in playbooks if pb.commands
            for word in pb.keywords.get("en", []) if alias_key(word) not in self.by_command
        }
        self._content: dict[tuple[str, str], Any] = {}
        # each playbook's file and positioned YAML, to name the line of a run-time problem
        self._sources = {s.model.id: s for s in sources or []
                         if isinstance(s.model, Playbook)}

    def place(self, playbook_id: str, path: tuple[Any, ...]) -> str:
        """`file:line` of `path` in playbook `playbook_id` (its id when the file is unknown),
        for logging a problem only running reveals."""
        source = self._sources.get(playbook_id)
        if source is None:
            return f"playbook {playbook_id}"
        return f"{source.path}:{line_of(source.raw, path)}"

    def content(self, playbook: Playbook, locale: str) -> Any:
        key = (playbook.id, locale)
        if key not in self._content:
            self._content[key] = localize(playbook.content, locale)
        return self._content[key]

    def message(self, key: str, locale: str, **context: Any) -> str:
        return render(self.catalog.messages[key].get(locale), context)

    def html(self, key: str, locale: str, **context: Any) -> str:
        """A catalog entry that is an HTML document (the digest's detail): every value
        escaped, as a playbook's `document` is."""
        return render_html(self.catalog.messages[key].get(locale), context)

    def stage_name(self, stage: str | None, locale: str) -> str | None:
        text = self.catalog.labels.stages.get(stage or "")
        return text.get(locale) if text else None

    def style_name(self, letters: str | None, locale: str) -> str | None:
        if not letters:
            return None
        names = [self.catalog.labels.styles[c].get(locale)
                 for c in letters if c in self.catalog.labels.styles]
        return " + ".join(names) if names else None

    def label(self, group: str, key: str | None, locale: str) -> str | None:
        """A shared label (`labels.GROUP.KEY` in system.yaml), or the key itself."""
        if key is None:
            return None
        texts: dict[str, Text] = getattr(self.catalog.labels, group, {})
        return texts[key].get(locale) if key in texts else key


@cache
def _cached(directory: str) -> Library:
    return _load(Path(directory))


RULES_FILE = Path("compliance") / "rules.yaml"


def _load_guard(directory: Path) -> tuple[Guard | None, list[Issue]]:
    """The compliance rules beside the playbooks; their problems count as playbook problems."""
    path = directory / RULES_FILE
    if not path.is_file():
        return None, [Issue(str(path), 1, "missing-rules",
                            "compliance rules are required: every note is checked")]
    try:
        return load_guard(path), []
    except GuardConfigError as exc:
        return None, exc.issues


def _load_lexicon(directory: Path) -> tuple[Lexicon | None, list[Issue]]:
    """The note reader's word lists beside the playbooks."""
    path = directory / LEXICON_FILE
    return load_lexicon(path, _display(path))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load(directory: Path, verdicts: ValidationCache | None = None) -> Library:
    result = load_directory(directory)
    guard, guard_issues = _load_guard(directory)
    lexicon, lexicon_issues = _load_lexicon(directory)
    key = verdict_key(result) if verdicts is not None else None
    if key is not None and verdicts is not None and verdicts.passed(directory, key):
        issues = guard_issues + lexicon_issues  # these very files passed validate() before
    else:
        issues = validate(result) + guard_issues + lexicon_issues
        if not issues and key is not None and verdicts is not None:
            verdicts.remember(directory, key)
    if issues:
        raise PlaybookErrors(issues)
    issues.extend(_guard_words_in_signals(result, guard))
    if issues:
        raise PlaybookErrors(issues)
    playbooks = [f.model for f in result.files if isinstance(f.model, Playbook)]
    catalogs = [f.model for f in result.files if isinstance(f.model, Catalog)]
    assert lexicon is not None  # no problems means it loaded
    return Library(playbooks, catalogs[0], guard, lexicon, result.files)


def _guard_words_in_signals(result: LoadResult, guard: Guard | None) -> list[Issue]:
    """The note reader's patterns may name the guard's word lists (`{{ev_zh}}`,
    coach/actions/signals.py `with_guard_words`); a name the rules do not define is a
    playbook problem at its line."""
    defines = guard.rules.defines if guard is not None else {}
    issues: list[Issue] = []
    for file in result.files:
        if isinstance(file.model, Playbook):
            for path, name in with_guard_words(file.model, defines):
                issues.append(Issue(file.path, line_of(file.raw, path), "unknown-define",
                                    f"{{{{{name}}}}} is not a define of "
                                    f"playbooks/{RULES_FILE}"))
    return issues


def load_library(directory: Path, *, cached: bool = False,
                 verdicts: ValidationCache | None = None) -> Library:
    """Load and validate `directory`; raise PlaybookErrors listing every problem. With
    `verdicts`, files validated clean before by this same code skip the validation pass
    (coach/validation_cache.py); the compliance rules and word lists are always checked, as
    building them does."""
    if cached:
        return _cached(str(directory.resolve()))
    return _load(directory, verdicts)


def check_directory(directory: Path) -> list[Issue]:
    """Every problem in `directory` (playbooks and compliance rules), for `repcoach check`."""
    return (validate(load_directory(directory)) + _load_guard(directory)[1]
            + _load_lexicon(directory)[1])
