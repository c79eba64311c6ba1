"""Necessary literals: a cheap, sound test that lets the guard skip a pattern for a text.

For a compiled pattern we derive from its parse tree a set of literal strings such that every
match contains at least one of them (`回扣|返点|红包` needs one of the three; `1(?<!\\d1)[3-9]…`
needs "1"). A substring test (`in`, done in C) on a 2,000-character note costs about a
microsecond, a regex scan 10-60: most notes contain none of the words of most rules, so most
rules are never scanned.

Soundness matters more than strength: where the tree is not understood, or a class is large
(`\\d` also matches non-ASCII digits), the answer is "no constraint" and the pattern always runs.
Literals inside case-insensitive parts are ASCII-only and tested against `fold(text)`, which
maps every character that `re` matches case-insensitively to an ASCII letter onto that letter
(tests/test_compliance.py checks the table against `re` itself and checks that results never
change with the prefilter on or off).
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass
from typing import Any

_parser: Any = importlib.import_module("re._parser")

#: Non-ASCII characters that `re` matches case-insensitively to an ASCII letter.
_FOLD_EXTRA = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_MAX_CLASS = 16  # a character class with more members than this is no constraint
_IGNORECASE = int(re.IGNORECASE)


_EXOTIC = re.compile("[\u0130\u0131\u017f\u212a]")


def fold(text: str) -> str:
    """Case-fold for testing case-insensitive ASCII literals."""
    if _EXOTIC.search(text):
        text = text.translate(_FOLD_EXTRA)
    return text.lower()


_SMALL = 2  # up to this many literals: `in` tests; more: one alternation search (both in C)
_INTERNED: dict[tuple[tuple[str, ...], tuple[str, ...]], Needs] = {}


@dataclass(frozen=True, slots=True)
class Needs:
    """At least one of `exact` occurs in the text, or one of `folded` in fold(text)."""

    exact: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    exact_rx: re.Pattern[str] | None = None
    folded_rx: re.Pattern[str] | None = None

    @classmethod
    def of(cls, exact: frozenset[str], folded: frozenset[str]) -> Needs:
        """Equal needs are one object, so a guard answers them once per note."""
        key = (tuple(sorted(exact)), tuple(sorted(folded)))
        needs = _INTERNED.get(key)
        if needs is None:
            needs = _INTERNED[key] = cls(*key, _any_of(exact), _any_of(folded))
        return needs

    @property
    def literals(self) -> tuple[str, ...]:
        return self.exact + self.folded

    def met(self, text: str, folded_text: str | None) -> bool:
        if _occurs(text, self.exact, self.exact_rx):
            return True
        if self.folded:
            assert folded_text is not None
            return _occurs(folded_text, self.folded, self.folded_rx)
        return False


def _occurs(text: str, literals: tuple[str, ...], regex: re.Pattern[str] | None) -> bool:
    if regex is not None:
        return regex.search(text) is not None
    return any(lit in text for lit in literals)


def _any_of(literals: frozenset[str]) -> re.Pattern[str] | None:
    if len(literals) <= _SMALL:
        return None
    ordered = sorted(literals, key=lambda lit: (-len(lit), lit))
    return re.compile("|".join(re.escape(lit) for lit in ordered))


# A candidate: a set of (literal, case_insensitive) pairs, one of which every match contains.
_Set = frozenset[tuple[str, bool]]


@functools.lru_cache(maxsize=2048)
def _parsed(source: str, flags: int) -> Any:
    """`re`'s parse tree of a pattern, parsed once: loading the rules asks for each pattern's
    literals, first item, leading \\b and letters' case, and parsing is most of a load's time
    (the walks below only read the tree)."""
    return _parser.parse(source, flags)


def needs_of(pattern: re.Pattern[str], folded: bool = False) -> Needs | None:
    """Literals one of which every match of `pattern` contains; None when unknown.

    `folded`: the pattern runs on fold(text), so its literals are looked up there too.
    """
    try:
        parsed = _parsed(pattern.pattern, pattern.flags)
    except Exception:  # parsing an already compiled pattern cannot really fail
        return None
    ci = folded or bool(parsed.state.flags & _IGNORECASE)
    found = _sequence(list(parsed), ci)
    if not found:
        return None
    if folded:  # the pattern sees only fold(text): every literal is looked up there
        return Needs.of(frozenset(), frozenset(lit for lit, _ in found))
    return Needs.of(frozenset(lit for lit, fold_it in found if not fold_it),
                    frozenset(lit for lit, fold_it in found if fold_it))


def _sequence(items: list[tuple[Any, Any]], ci: bool) -> _Set | None:
    """Every element of a concatenation is needed: pick the most selective candidate."""
    candidates: list[_Set] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            found = _literal_set("".join(run), ci)
            if found is not None:
                candidates.append(found)
            run.clear()

    for op, av in items:
        name = _name(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # zero width: the literals around it are still adjacent
        flush()
        found = _node(name, av, ci)
        if found is not None:
            candidates.append(found)
    flush()
    candidates = [c for c in candidates if c]
    if not candidates:
        return None
    return max(candidates, key=_strength)


def _node(name: str, av: Any, ci: bool) -> _Set | None:
    if name == "IN":
        return _class(av, ci)
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, sub = av
        inner_ci = (ci or bool(add_flags & _IGNORECASE)) and not del_flags & _IGNORECASE
        return _sequence(list(sub), inner_ci)
    if name == "ATOMIC_GROUP":
        return _sequence(list(av), ci)
    if name == "BRANCH":
        _unused, alternatives = av
        union: set[tuple[str, bool]] = set()
        for alternative in alternatives:
            found = _sequence(list(alternative), ci)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, sub = av
        return _sequence(list(sub), ci) if low >= 1 else None
    return None


def _class(items: Any, ci: bool) -> _Set | None:
    chars: list[str] = []
    for op, av in items:
        name = _name(op)
        if name == "LITERAL":
            chars.append(chr(av))
        elif name == "RANGE":
            low, high = av
            if high - low >= _MAX_CLASS:
                return None
            chars.extend(chr(c) for c in range(low, high + 1))
        else:  # NEGATE, CATEGORY (\d also matches other scripts' digits), ...
            return None
        if len(chars) > _MAX_CLASS:
            return None
    found: set[tuple[str, bool]] = set()
    for ch in chars:
        single = _literal_set(ch, ci)
        if single is None:
            return None
        found |= single
    return frozenset(found)


def _literal_set(literal: str, ci: bool) -> _Set | None:
    if not ci or literal.lower() == literal.upper() == literal:  # nothing to fold (CJK, digits)
        return frozenset({(literal, False)})
    if not literal.isascii():
        return None  # case-insensitive non-ASCII: not worth the risk
    return frozenset({(literal.lower(), True)})


def _strength(candidate: _Set) -> tuple[int, int]:
    """Longer shortest literal first, then fewer literals."""
    return (min(len(lit) for lit, _ in candidate), -len(candidate))


def _name(op: Any) -> str:
    return str(getattr(op, "name", op))


def lowercase_violations(pattern: re.Pattern[str]) -> list[str]:
    """Uppercase letters a pattern would need to match (literals and class members)."""
    found: list[str] = []

    def walk(items: Any) -> None:
        for op, av in items:
            name = _name(op)
            if name == "LITERAL" and chr(av) != chr(av).lower():
                found.append(chr(av))
            elif name == "RANGE":
                found.extend(chr(c) for c in range(av[0], av[1] + 1) if chr(c) != chr(c).lower())
            elif name in ("IN", "ATOMIC_GROUP"):
                walk(av)
            elif name == "SUBPATTERN":
                walk(av[3])
            elif name == "BRANCH":
                for alternative in av[1]:
                    walk(alternative)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                walk(av[2])
            elif name in ("ASSERT", "ASSERT_NOT"):
                walk(av[1])

    walk(_parsed(pattern.pattern, pattern.flags))
    return found


def fast_start(pattern: re.Pattern[str]) -> bool:
    """Whether `re` can jump to candidate positions for this pattern (see rules.yaml, Speed).

    Mirrors what CPython's compiler looks for: a first literal, a first character class, or a
    first branch whose alternatives all start with a literal (groups are looked through).
    """
    items = list(_parsed(pattern.pattern, pattern.flags))
    while items:
        name, av = _name(items[0][0]), items[0][1]
        if name == "SUBPATTERN" and not av[1] & _IGNORECASE:
            items = list(av[3])
            continue
        if name in ("LITERAL", "IN"):
            return True
        if name == "BRANCH":
            return all(alt and _name(next(iter(alt))[0]) == "LITERAL" for alt in av[1])
        return False
    return False


def hoist_word_start(pattern: re.Pattern[str]) -> tuple[re.Pattern[str], bool]:
    r"""Split a leading `\b` off a pattern: (pattern without it, whether it had one).

    A pattern that starts with `\b` cannot use re's first-character scan; without it, it can,
    and the guard checks the word boundary itself at each match start (`at_word_boundary`).
    The results are the same (tests/test_compliance.py checks this on random text).
    """
    items = list(_parsed(pattern.pattern, pattern.flags))
    if (items and _name(items[0][0]) == "AT" and _name(items[0][1]) == "AT_BOUNDARY"
            and pattern.pattern.startswith("\\b") and not pattern.flags & re.VERBOSE):
        rest = pattern.pattern[2:]
        try:
            stripped = re.compile(rest, pattern.flags)
        except re.error:
            return pattern, False
        if stripped.search("") is None:
            return stripped, True
    return pattern, False


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # exactly re's \w for str patterns


def at_word_boundary(text: str, pos: int) -> bool:
    """What `\\b` tests at `pos`."""
    before = pos > 0 and _is_word(text[pos - 1])
    after = pos < len(text) and _is_word(text[pos])
    return before != after
