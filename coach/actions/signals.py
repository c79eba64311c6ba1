"""Notes as evidence: phrases in a visit note that hint at a stage, a role, a need, a style
or an objection, from YAML lexicons (the log playbook's `content.signals`). The bot shows
the update with the phrase that triggered it in its proposal; nothing changes until the rep
taps to save it.

Matching is on phrases with a negation guard (不/没/未/无/not/no just before a phrase voids
it: "还没要样品" is not a request for samples). Phrases are several characters long, so
substring matching on Chinese is safe enough here without a segmenter. A signal may also
give `patterns` (regular expressions, same guard) for a concern said in many ways whose
words are the negation itself: "医保还没进", "没进医保", "病人负担不起", "价格偏高". A phrase may
have a gap, written "…": "开始…试用" matches 开始给新病人试用, with at most GAP characters between
the parts, so one entry covers the many ways a rep fills the middle.

A signal may also give `hedges`: patterns that, in the same clause before the words
(`before`: 考虑, 要不要, 如果, "might") or right after them (`after`: 再说), make a plan
still weighed of what would otherwise read as done ("还在考虑要不要给病人试试" is no trial).

A pattern may name a word list of the compliance rules, `{{ev_zh}}` (every harm the
adverse-event guard knows, playbooks/compliance/rules.yaml `defines`): the safety concern
is a worry about any of them, from the one list both keep (`with_guard_words`).

A decline phrase (用得少了, 换回了老药, 用量小，不考虑增加) is also a reading of the stage: a
customer at trial or adoption who says so is back at the stage its `stage` names (seed 002:
采纳 → 评估); for any other customer it moves no stage. A gapped phrase's later parts are
negation-guarded too, and a gap does not run over a clause break.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from coach.actions.registry import ContentIssue
from coach.playbook import STAGES, STYLES, Playbook
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

KINDS = ("stage", "role", "need", "style", "objection", "decline")
NEGATIONS = re.compile(r"(不|没|沒|未|无|無|别|不是|不太|不大|不怎么|not |no |no longer |never |"
                       r"n't )\s*$", re.IGNORECASE)
NEGATION_WINDOW = 4
GAP = "…"
MAX_GAP = 8  # characters a gapped phrase allows between its parts


def check_signals(playbook: Playbook) -> Iterable[ContentIssue]:
    for index, signal in enumerate(playbook.content.get("signals", [])):
        path = ("content", "signals", index)
        if not isinstance(signal, dict) or signal.get("kind") not in KINDS:
            yield (path, "bad-signal", f"a signal needs kind: one of {list(KINDS)}")
            continue
        if signal["kind"] == "stage" and signal.get("value") not in STAGES:
            yield ((*path, "value"), "bad-signal", f"stage must be one of {list(STAGES)}")
        if signal["kind"] == "decline" and signal.get("stage") not in (None, *STAGES):
            yield ((*path, "stage"), "bad-signal", f"stage must be one of {list(STAGES)}")
        if signal["kind"] == "style" and signal.get("value") not in STYLES:
            yield ((*path, "value"), "bad-signal", f"style must be one of {list(STYLES)}")
        phrases = signal.get("phrases")
        if not isinstance(phrases, dict) or not all(isinstance(phrases.get(k), list)
                                                     for k in ("zh", "en")):
            yield ((*path, "phrases"), "bad-signal", "phrases need zh and en lists")
        hedges = signal.get("hedges") or {}
        for key, patterns in [("patterns", signal.get("patterns") or []),
                              *((("hedges", side), hedges.get(side) or [])
                                for side in ("before", "after"))]:
            for pattern in patterns:
                try:
                    re.compile(str(pattern))
                except re.error as error:
                    yield ((*path, *((key,) if isinstance(key, str) else key)), "bad-signal",
                           f"{pattern!r}: {error}")


def _negated(lowered: str, start: int) -> bool:
    return bool(NEGATIONS.search(lowered[max(0, start - NEGATION_WINDOW - 6):start]))


CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\n]")
# what a gap in a phrase may not hold: a clause break, or a negation of the part after it
GAP_BREAK = re.compile(r"[，,。；;！!？?\n]|不|没|沒|未|无|無|别|\bnot\b|n't\b|\bno\b")


def _hedged(lowered: str, start: int, end: int, signal: Mapping[str, Any]) -> bool:
    """Whether the signal's `hedges` make the words at start:end a plan still weighed: a
    `before` pattern between the clause's start and the words, or an `after` one right
    after them, in the same clause."""
    hedges = signal.get("hedges")
    if not hedges:
        return False
    breaks = [m.end() for m in CLAUSE_BREAK.finditer(lowered, 0, start)]
    before = lowered[breaks[-1] if breaks else 0:start]
    stop = CLAUSE_BREAK.search(lowered, end)
    after = lowered[end:stop.start() if stop else len(lowered)]
    return (any(re.search(str(p), before) for p in hedges.get("before") or [])
            or any(re.search(str(p), after) for p in hedges.get("after") or []))


def _blocked(lowered: str, start: int, end: int, signal: Mapping[str, Any]) -> bool:
    """A negation right before the words, or a hedge around them, voids a hit."""
    return _negated(lowered, start) or _hedged(lowered, start, end, signal)


class _Phrases(NamedTuple):
    """A signal's phrases, lowered, and one expression that finds any of their first parts:
    most notes hold none of a signal's phrases, and one search says so at once."""

    source: Any  # the playbook's `phrases` mapping these were made from (kept alive)
    lowered: list[str]
    any_start: re.Pattern[str] | None


_PHRASES: dict[int, _Phrases] = {}
_MAX_CACHED = 2000  # phrase sets; reloading playbooks makes new ones


def _phrases(signal: Mapping[str, Any]) -> _Phrases:
    """The prepared phrases of `signal`, made once per playbook phrase set: every reader of
    notes (the regression, crisis, events and known-facts checks) reads the same sets over
    and over, a turn after a turn."""
    source = signal["phrases"]
    cached = _PHRASES.get(id(source))
    if cached is not None and cached.source is source:
        return cached
    lowered = [str(p).lower() for p in [*source.get("zh", []), *source.get("en", [])]]
    firsts = (next((part for part in p.split(GAP) if part), "") for p in lowered)
    starts = sorted({part for part in firsts if part}, key=len, reverse=True)
    prepared = _Phrases(source, lowered,
                        re.compile("|".join(map(re.escape, starts))) if starts else None)
    if len(_PHRASES) >= _MAX_CACHED:
        _PHRASES.clear()
    _PHRASES[id(source)] = prepared
    return prepared


def _first_hit(lowered: str, signal: Mapping[str, Any]) -> tuple[int, int] | None:
    """Where `signal` first shows in `lowered` un-negated: a phrase, else a pattern."""
    phrases = _phrases(signal)
    if phrases.any_start is not None and phrases.any_start.search(lowered):
        for phrase in phrases.lowered:
            span = _locate(lowered, phrase, signal)
            if span is not None:
                return span
    for pattern in signal.get("patterns") or []:
        for match in re.finditer(str(pattern), lowered):
            if not _blocked(lowered, match.start(), match.end(), signal):
                return match.start(), match.end()
    return None


def find_signals(text: str, signals: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every signal whose phrase occurs in `text` without a negation right before it."""
    lowered = text.lower()
    found: list[dict[str, Any]] = []
    for signal in signals:
        hit = _first_hit(lowered, signal)
        if hit is not None:
            start, end = hit
            found.append({"kind": signal["kind"], "value": signal.get("value"),
                          "phrase": text[start:end], "at": start,
                          **({"stage": signal["stage"]} if signal.get("stage") else {})})
    return found


# what a rep writes to take a concern back: "他没嫌贵", "不是担心安全性", "not the price"
_DENIALS = re.compile(r"并不是|倒不是|也不是|不是|并没有|并没|没有|没|不|\bnot\b|\bisn't\b|"
                      r"\bwasn't\b|\bdidn't\b|\bdoesn't\b|\bno longer\b", re.IGNORECASE)


def denied_signals(text: str, signals: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The signals `text` says do not hold ("不对 他没嫌贵 是说进院流程太慢": price): those
    found once its negations are blanked out and not found as written. A correction of a
    concern takes the old one off the visit, it does not add it."""
    signals = list(signals)
    plain = _DENIALS.sub(lambda m: " " * len(m.group()), text)
    said = {(s["kind"], s["value"]) for s in find_signals(text, signals)}
    return [s for s in find_signals(plain, signals) if (s["kind"], s["value"]) not in said]


def _locate(lowered: str, phrase: str,
            signal: Mapping[str, Any]) -> tuple[int, int] | None:
    """Where `phrase` (of `signal`) first occurs in `lowered` with no negation right before
    it nor hedge around it: (start, end), or None. A gapped phrase ("开始…试用") needs its
    parts in order, each at most MAX_GAP characters after the one before."""
    parts = [p for p in phrase.split(GAP) if p]
    if not parts:
        return None
    start = lowered.find(parts[0])
    while start >= 0:
        end = _rest(lowered, start + len(parts[0]), parts[1:])
        if end is not None and not _blocked(lowered, start, end, signal):
            return start, end
        start = lowered.find(parts[0], start + 1)
    return None


def _rest(lowered: str, at: int, parts: list[str]) -> int | None:
    """The end of `parts` matched in order from `at`, each within MAX_GAP characters of the
    one before, in the same clause, and not negated: "用量…增加" is not "用量小，不考虑增加"
    (the gap runs over a comma, and 不考虑 denies the 增加)."""
    for part in parts:
        found = lowered.find(part, at, at + MAX_GAP + len(part))
        if found < 0 or GAP_BREAK.search(lowered, at, found):
            return None
        at = found + len(part)
    return at


def stage_readings(signals: list[dict[str, Any]], stage: str | None) -> list[dict[str, Any]]:
    """The note's signals with each decline phrase also read as the stage it names, for a
    customer who could be falling back (at trial or adoption): "换回了老药" says a customer
    in trial is back to weighing it up. For one not diagnosed yet, or at an earlier stage,
    low use says nothing of where he stands ("用得少了，不想再加病人" is no 评估): no stage."""
    readings = list(signals)
    if stage in FALLS_BACK_FROM:
        readings += [{**s, "kind": "stage", "value": s["stage"]} for s in signals
                     if s["kind"] == "decline" and s.get("stage")]
    return readings


FALLS_BACK_FROM = ("trial", "adoption")
#: the confidence of a stage read from a note (coach/actions/stage_correction.py knows a
#: hint the rep may still correct by it)
NOTE_HINT_CONFIDENCE = 0.5
SINGLE = ("stage", "role", "style")  # a customer has one of each: the last mentioned wins


def one_of_each(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """"送了亚组数据，他说准备开始试用" hints at evaluation and at trial: the customer is at
    one stage, the later words in the note tell where he is now."""
    latest: dict[str, dict[str, Any]] = {}
    for signal in signals:
        if signal["kind"] in SINGLE:
            kept = latest.get(signal["kind"])
            if kept is None or signal.get("at", 0) >= kept.get("at", 0):
                latest[signal["kind"]] = signal
    return [s for s in signals if s["kind"] not in SINGLE or latest[s["kind"]] is s]


def signal_name(turn: Turn, kind: str, value: str) -> str:
    """A signal's value as the rep reads it: 试用, 决策者, 学术, 分析型, 仿制药."""
    if kind == "stage":
        return turn.library.stage_name(value, turn.locale) or value
    if kind == "style":
        return turn.library.style_name(value, turn.locale) or value
    group = {"role": "roles", "need": "needs", "objection": "objections"}.get(kind)
    return (turn.library.label(group, value, turn.locale) or value) if group else value


def differs(account: Account | None, signal: Mapping[str, Any]) -> bool:
    """Whether a stage, role, need or style signal would change what we hold."""
    if account is None:
        return True
    kind, value = signal["kind"], signal["value"]
    current = {"stage": account.stage, "role": account.role, "style": account.style}
    if kind in current:
        return bool(current[kind] != value)
    if kind == "need":
        return value not in (account.needs or [])
    return False


def apply_update(turn: Turn, account: Account, signal: Mapping[str, Any]) -> None:
    """The rep confirmed a signal from their note: record it on the customer. A stage read
    from a note gets a modest confidence; /stage refines it."""
    kind, value = signal["kind"], signal["value"]
    if kind == "stage":
        turn.store.add_stage(account, value, NOTE_HINT_CONFIDENCE, [str(signal.get("phrase", ""))],
                             turn.playbook.version, turn.now)
    elif kind == "role":  # one more role (seed 003: a person may hold several)
        held = account.held_roles()
        account.roles = held if value in held else [*held, value]
        account.role = account.roles[0]
    elif kind == "need":
        account.needs = sorted({*(account.needs or []), value})
    elif kind == "style":
        account.style, account.style_confidence = value, 0.3
    account.updated_at = turn.now


_GUARD_WORDS = re.compile(r"\{\{(\w+)\}\}")
# signals match lowercased text: a define's letters are lowered, its escapes (\S, \b) kept
_LETTERS = re.compile(r"(\\.)|([A-Z]+)")


def _lowered(match: re.Match[str]) -> str:
    return match.group(1) or match.group(2).lower()


def with_guard_words(playbook: Playbook, defines: Mapping[str, str]
                     ) -> list[tuple[tuple[Any, ...], str]]:
    """Write the guard's word lists into `playbook`'s signal patterns and hedges, in place:
    `{{ev_zh}}` in a pattern is every harm the compliance rules know (rules.yaml `defines`),
    so a worry about any of them ("担心尿路感染", "怕酮症酸中毒") is a safety concern, from the
    one list the adverse-event guard keeps. Returns (path, name) for each name the rules do
    not define, for the loader to report."""
    unknown: list[tuple[tuple[Any, ...], str]] = []
    for index, signal in enumerate(playbook.content.get("signals") or []):
        if not isinstance(signal, dict):
            continue
        given = signal.get("hedges")
        hedges: Mapping[str, Any] = given if isinstance(given, dict) else {}
        lists = [(("patterns",), signal.get("patterns")),
                 *((("hedges", side), hedges.get(side)) for side in ("before", "after"))]
        for path, patterns in lists:
            if not isinstance(patterns, list):
                continue
            for at, pattern in enumerate(patterns):
                if not isinstance(pattern, str) or "{{" not in pattern:
                    continue

                def fragment(match: re.Match[str], where: tuple[Any, ...] = (
                        "content", "signals", index, *path, at)) -> str:
                    name = match.group(1)
                    if name not in defines:
                        unknown.append((where, name))
                        return "(?!)"
                    return _LETTERS.sub(_lowered, defines[name])

                patterns[at] = _GUARD_WORDS.sub(fragment, pattern)
    return unknown
