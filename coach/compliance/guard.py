"""The guard: one pure, fast pass over a visit note before it is stored.

`Guard.check(text)` returns the note with personal data and per-doctor prescription numbers
replaced by placeholders, plus what was found. Nothing it returns holds a redacted value:
redactions carry kind and offsets only, and every phrase quoted in a flag is itself redacted.

Order of work, all on regexes compiled once at load:
1. personal data, in the order of `redact:` in rules.yaml (earlier rules win overlaps). Each
   accepted span is masked with a neutral character and the redact rules run again, so a
   number that was rejected only because it touched another redacted number is still caught
   (and a second check of the stored text finds nothing new);
2. issue rules on the masked text. A `quantity` rule (per-doctor prescriptions) starts from
   the numbers, looks back for its trigger, redacts the numbers of the statement and flags only
   when there is a number. Rules are skipped when a literal their pattern needs is absent
   (`prefilter.py`);
3. the redacted text is assembled from the input; offsets in `Redaction`/`Flag` refer to it.

Matching runs on a view of the note in which full-width digits and letters are ASCII (same
length), so １３８… is a phone number too.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coach.compliance.config import (
    CATEGORIES,
    NEARBY,
    CompiledRules,
    Rule,
    Scope,
    Suppressor,
    load_rules,
)
from coach.compliance.normalise import normalise_text
from coach.compliance.prefilter import Needs, at_word_boundary, fold

#: Stands in for a redacted character while later rules run: not a digit, letter or
#: punctuation, so it neither matches a pattern nor satisfies one's neighbour conditions.
MASK = "\ue000"

#: An adverse event is named by its clause, cut to this many characters.
MAX_PHRASE = 80
#: A clause shorter than this ("洗胃了") says what was done, not what happened: the report is
#: named from the clause before it in the same sentence too ("一次吃了十几片我们的药，洗胃了").
MIN_PHRASE = 8
#: A benefit given beside a promise is one exchange across the sentence: no step comes from
#: any clause of it (`Guard.flagged_clauses`); other flags cut at their clause.
SCOPE_OF_NO_STEP: dict[str, Scope] = {"kickback": "sentence", "gift": "sentence"}
RECENT_VERDICTS = 64  # texts whose verdict `Guard.check` keeps (see `Guard._recent`)

#: Full-width digits and letters (and ＋ ＠), typed with Chinese input methods, are matched as
#: their ASCII forms: character for character, so offsets do not move.
_WIDE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff20]")
_NARROW = {code: code - 0xFEE0 for code in
           [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B), 0xFF0B, 0xFF20]}


def _view(text: str) -> str:
    return text.translate(_NARROW) if _WIDE.search(text) else text


#: Chinese numerals as a number is read out digit by digit (一三八…, 幺 for 1 on the phone).
_NUMERALS = str.maketrans("零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖",
                          "001234567891123456789")
_SEPARATOR = " .\\-\u2014\u2013_\u00b7"
#: A run of at least 7 digits, written in digits or numerals, with separators between them.
_DIGIT = "0-9零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖"
_DIGIT_RUN = re.compile(f"[{_DIGIT}](?:[{_SEPARATOR}]?[{_DIGIT}]){{6,}}")


def _digits_view(text: str) -> str:
    """`text` with numerals in long digit runs read as digits (same length): "一三八 一二三四
    五六七八" is a phone number to the rules, "一二三期" stays words."""
    if not any(ch in text for ch in "零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖"):
        return text
    return _DIGIT_RUN.sub(lambda m: m.group().translate(_NUMERALS), text)


@dataclass(frozen=True, slots=True)
class Redaction:
    """One replaced span of the input text; the original value is deliberately not kept."""

    kind: str
    placeholder: str
    start: int
    end: int
    category: str = "personal_data"


@dataclass(frozen=True, slots=True)
class Flag:
    """A compliance issue in the note. `phrase` is the matched text, already redacted."""

    category: str
    rule: str
    phrase: str
    start: int
    end: int
    #: The match and the context that made it an issue (its `requires`: the promise of
    #: more prescriptions beside a dinner), which may lie in another clause.
    reach: tuple[int, int] | None = None

    @property
    def extent(self) -> tuple[int, int]:
        """From the first to the last character that made this an issue."""
        return self.reach if self.reach is not None else (self.start, self.end)


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """The note mentions a possible adverse event: the reporting clock starts now."""

    phrases: tuple[str, ...]
    rules: tuple[str, ...]
    #: The words that named the event (皮疹, Hb升高, 不良反应), redacted; the exposure cues
    #: (用药后出现) left out: what tells one event from another (coach/turn/typed_reason.py).
    terms: tuple[str, ...] = field(default=(), compare=False)

    @property
    def kind(self) -> str:
        """What the safety team triages by: "death", a special situation (from the rule ids,
        special_<situation>_…), or "event"."""
        if any(rule.startswith("ae_death") for rule in self.rules):
            return "death"
        for rule in self.rules:
            if rule.startswith("special_"):
                name = rule.removeprefix("special_")
                for situation in SPECIAL_SITUATIONS:
                    if name.startswith(situation):
                        return situation
        return "event"


#: Situations reportable without harm, as rules.yaml names them (special_<situation>_…).
SPECIAL_SITUATIONS = ("pregnancy", "breastfeeding", "overdose", "misuse", "medication_error",
                      "lack_of_effect", "off_label_use", "quality_complaint",
                      "infection_transmission")



@dataclass(frozen=True, slots=True)
class GuardResult:
    redacted: str
    redactions: tuple[Redaction, ...] = ()
    flags: tuple[Flag, ...] = ()
    adverse_event: AdverseEvent | None = None
    #: An event term with a specific patient but nothing tying it to the product: the rep is
    #: asked. Set only when `adverse_event` is None.
    possible_event: AdverseEvent | None = None

    @property
    def has_issues(self) -> bool:
        return bool(self.redactions or self.flags or self.adverse_event)

    @property
    def categories(self) -> frozenset[str]:
        """Every category found: personal_data, adverse_event and the flag categories."""
        found = {r.category for r in self.redactions} | {f.category for f in self.flags}
        if self.adverse_event is not None:
            found.add("adverse_event")
        return frozenset(found)

    @property
    def redacted_kinds(self) -> frozenset[str]:
        return frozenset(r.kind for r in self.redactions)


@dataclass(frozen=True, slots=True, order=True)
class _Span:
    start: int
    end: int
    kind: str = field(compare=False)
    placeholder: str = field(compare=False)
    category: str = field(compare=False)


class _Scan:
    """A text under examination, with its clause/sentence boundaries computed on demand."""

    __slots__ = ("_breaks", "rules", "text")

    def __init__(self, text: str, rules: CompiledRules) -> None:
        self.text = text
        self.rules = rules
        self._breaks: dict[Scope, tuple[list[int], list[int]]] = {}

    def bounds(self, start: int, end: int, scope: Scope) -> tuple[int, int]:
        """The clause, sentence or nearby text around text[start:end], or that text."""
        if scope == "match":
            return start, end
        if scope == "nearby":
            text = self.text
            lo = max(text.rfind("\n", 0, start) + 1, start - NEARBY)
            newline = text.find("\n", end)
            hi = min(len(text) if newline < 0 else newline, end + NEARBY)
            return lo, hi
        breaks = self._breaks.get(scope)
        if breaks is None:
            regex = self.rules.clause_break if scope == "clause" else self.rules.sentence_break
            found = [m.span() for m in regex.finditer(self.text)]
            breaks = ([s for s, _ in found], [e for _, e in found])
            self._breaks[scope] = breaks
        starts, ends = breaks
        i = bisect_right(ends, start)
        lo = ends[i - 1] if i else 0
        j = bisect_left(starts, end)
        hi = starts[j] if j < len(starts) else len(self.text)
        return lo, max(hi, end)

    def event_bounds(self, start: int, end: int) -> tuple[int, int]:
        """What names an event found at text[start:end]: its clause, with the clauses before
        it in the sentence while it is shorter than MIN_PHRASE characters."""
        lo, hi = self.bounds(start, end, "clause")
        first = self.bounds(start, end, "sentence")[0]
        while lo > first and len(self.text[lo:hi].strip(" ，,。.;；")) < MIN_PHRASE:
            lo = self.bounds(lo - 1, lo - 1, "clause")[0]
        return lo, hi

    def suppressed(self, suppressors: tuple[Suppressor, ...], start: int, end: int) -> bool:
        text = self.text
        for sup in suppressors:
            if sup.mode == "before":
                lo = max(self.bounds(start, end, sup.scope)[0], start - sup.window)
                # searched in place, not on a slice: a lookbehind (能不能 is no negation)
                # sees what comes before the window
                hit = sup.regex.search(text, lo, start) is not None
            elif sup.mode == "after":
                hi = min(self.bounds(start, end, sup.scope)[1], end + sup.window)
                hit = sup.regex.match(text[end:hi]) is not None
            elif sup.mode == "inside":
                hit = sup.regex.search(text, start, end) is not None
            else:
                lo, hi = self.bounds(start, end, sup.scope)
                if sup.near_window is not None:
                    lo, hi = max(lo, start - sup.near_window), min(hi, end + sup.near_window)
                hit = sup.regex.search(text, lo, hi) is not None
            if not hit:
                continue
            if sup.unless is not None:
                lo, hi = self.bounds(start, end, sup.unless_scope)
                if sup.unless.search(text, lo, hi) is not None:
                    continue
            return True
        return False

    def has(self, rule: Rule, start: int, end: int) -> bool:
        return self.context(rule, start, end) is not None

    def context(self, rule: Rule, start: int, end: int) -> tuple[int, int] | None:
        """Where the rule's required context is found around text[start:end], if it is."""
        assert rule.requires is not None
        lo, hi = self.bounds(start, end, rule.requires_scope)
        found = rule.requires.search(self.text, lo, hi)
        return None if found is None else found.span()

    def statements(self, rule: Rule, taken: list[_Span]) -> list[tuple[int, int, list[_Span]]]:
        """Statements of a quantity rule: (start, end, numbers to redact).

        Numbers are rarer than doctors, so the search starts from them: for each number not yet
        redacted, a trigger (doctor … verb) must end within `reach` characters before it in the
        same clause; then that number and every later one in the sentence are redacted
        ("from 20 boxes up to 35 boxes").
        """
        q = rule.quantity
        assert q is not None
        category = self.rules.kinds[q.kind].category
        text = self.text
        found: list[tuple[int, int, list[_Span]]] = []
        redacted: list[_Span] = []
        for number in q.regex.finditer(text):
            first = number.start()
            s, e = number.span("value")
            if s < 0 or _overlaps(taken, s, e) or _overlaps(redacted, s, e):
                continue
            trigger = self._trigger(rule, first, q.reach)
            if trigger is None:
                continue
            sentence_end = self.bounds(first, first, "sentence")[1]
            numbers: list[_Span] = []
            last = first
            for match in q.regex.finditer(text, first, sentence_end):
                s, e = match.span("value")
                if s < 0 or s == e or _overlaps(taken, s, e) or _overlaps(redacted, s, e):
                    continue
                numbers.append(_Span(s, e, q.kind, q.placeholder, category))
                redacted.append(numbers[-1])
                last = max(last, match.end())
            if numbers:
                found.append((trigger, last, numbers))
        return found

    def _trigger(self, rule: Rule, number: int, reach: int) -> int | None:
        """Start of a trigger ending at most `reach` before `number`, in its clause."""
        clause_start = self.bounds(number, number, "clause")[0]
        pos = self.bounds(number, number, "sentence")[0]
        while (match := rule.regex.search(self.text, pos, number)) is not None:
            start, end = match.span()
            pos = start + 1
            if start == end or end < clause_start or number - end > reach:
                continue
            if rule.requires is not None and not self.has(rule, start, end):
                continue
            if rule.suppressors and self.suppressed(rule.suppressors, start, end):
                continue
            return start
        return None


def _add_phrase(named: list[str], phrase: str, known: list[str]) -> None:
    """Add `phrase` to `named` unless it is already said (in `named` or `known`); a phrase
    it contains is replaced, where it stood: the report is named once, by the longer text."""
    if any(phrase in other for other in (*known, *named)):
        return
    inside = [i for i, other in enumerate(named) if other in phrase]
    if inside:
        named[inside[0]] = phrase
        named[:] = [other for i, other in enumerate(named) if i not in inside[1:]]
    else:
        named.append(phrase)


def _overlaps(spans: list[_Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _mask(text: str, spans: list[_Span]) -> str:
    pieces: list[str] = []
    pos = 0
    for span in sorted(spans):
        pieces.append(text[pos:span.start])
        pieces.append(MASK * (span.end - span.start))
        pos = span.end
    pieces.append(text[pos:])
    return "".join(pieces)


def _render(text: str, spans: list[_Span], start: int, end: int) -> str:
    """text[start:end] with every redacted span inside (or touching) it replaced."""
    pieces: list[str] = []
    pos = start
    for span in spans:  # sorted
        if span.end <= start or span.start >= end:
            continue
        if span.start > pos:
            pieces.append(text[pos:span.start])
        pieces.append(span.placeholder)
        pos = max(pos, span.end)
    if pos < end:
        pieces.append(text[pos:end])
    return "".join(pieces)


class _Gate:
    """Answers "can this pattern match this note at all?" cheaply, once per note.

    It looks at the original note: masking only removes characters, so a literal found in
    the masked text is also in the original, and the answer stays sound for every pass.
    """

    __slots__ = ("_folded", "_known", "enabled", "text")

    def __init__(self, text: str, enabled: bool) -> None:
        self.text = text
        self.enabled = enabled
        self._folded: str | None = None
        self._known: dict[int, bool] = {}

    def folded(self) -> str:
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    def open_all(self, needs: tuple[Needs, ...]) -> bool:
        return all(self.open(one) for one in needs)

    def open(self, needs: Needs | None) -> bool:
        """False when none of the literals the pattern needs is in the note."""
        if needs is None or not self.enabled:
            return True
        known = self._known.get(id(needs))
        if known is None:
            folded = self.folded() if needs.folded else None
            known = self._known[id(needs)] = needs.met(self.text, folded)
        return known


@dataclass(frozen=True)
class Guard:
    """Compiled compliance rules. Build with `load_guard(path)`; `check` is pure.

    `prefilter=False` scans every pattern on every text: same results, slower (for tests).
    """

    rules: CompiledRules
    prefilter: bool = True
    #: The verdicts on the texts checked last. A note is checked at the door and again
    #: when it is read (its flagged clauses give no step), and a proposal's answer reads
    #: it once more; `check` is pure, so the second look costs a dictionary read.
    _recent: dict[str, GuardResult] = field(default_factory=dict, init=False, repr=False,
                                            compare=False)

    @property
    def categories(self) -> tuple[str, ...]:
        return CATEGORIES

    @property
    def placeholders(self) -> dict[str, str]:
        """Kind -> placeholder, e.g. {"mobile": "[手机号/phone]", ...}."""
        return {kind: spec.placeholder for kind, spec in self.rules.kinds.items()}

    def explanation(self, category: str, locale: str) -> str:
        """Why a category matters and what to do, in `zh` or `en` (any other locale: zh)."""
        text = self.rules.explanations[category]
        return text.en if locale == "en" else text.zh

    def check(self, text: str) -> GuardResult:
        """Offsets and the redacted text refer to `text` normalised (coach.compliance.
        normalise): callers that pass the door's text get it back unchanged."""
        known = self._recent.get(text)
        if known is not None:
            return known
        result = self._check(text)
        if len(self._recent) >= RECENT_VERDICTS:
            self._recent.clear()  # a bound, not a cache policy: a turn needs the last few
        self._recent[text] = result
        return result

    def _check(self, text: str) -> GuardResult:
        text = normalise_text(text)
        spans: list[_Span] = []
        view = _digits_view(_view(text))
        if "[" in view:  # a placeholder already in the text ("record no.") is no word
            view = self.rules.placeholders.sub(lambda m: MASK * len(m.group()), view)
        gate = _Gate(view, self.prefilter)
        masked = view
        while self._redact_pass(masked, spans, gate):
            masked = _mask(view, spans)

        scan = _Scan(masked, self.rules)
        folded_masked = fold(masked) if masked is not view else None
        hits: list[tuple[Rule, int, int]] = []
        reaches: dict[tuple[str, int], tuple[int, int]] = {}
        for rule in self.rules.rules:
            if not gate.open_all(rule.needs):
                continue
            if rule.quantity is not None:
                for start, end, numbers in scan.statements(rule, spans):
                    spans.extend(numbers)
                    hits.append((rule, start, end))
                continue
            if rule.folded:
                subject = gate.folded() if folded_masked is None else folded_masked
            else:
                subject = masked
            pos = 0
            while (match := rule.regex.search(subject, pos)) is not None:
                start, end = match.span()
                # A match that does not count is retried from its next character, so that
                # "主任说科室…，他这个月开了…" still finds the second doctor.
                pos = start + 1
                if start == end or (rule.word_start and not at_word_boundary(subject, start)):
                    continue
                context = None if rule.requires is None else scan.context(rule, start, end)
                if rule.requires is not None and context is None:
                    continue
                if rule.suppressors and scan.suppressed(rule.suppressors, start, end):
                    continue
                hits.append((rule, start, end))
                if context is not None:
                    reaches[rule.id, start] = (min(start, context[0]), max(end, context[1]))
                pos = end

        if not spans and not hits:
            return GuardResult(text)
        spans.sort()
        redacted = _render(text, spans, 0, len(text))
        flags: list[Flag] = []
        events: dict[bool, tuple[list[str], list[str]]] = {False: ([], []), True: ([], [])}
        terms: dict[bool, list[str]] = {False: [], True: []}
        cues: dict[bool, list[str]] = {False: [], True: []}
        # at one start the longest statement first: a count with its numbers wins over the
        # shorter question it contains
        for rule, start, end in sorted(hits, key=lambda h: (h[1], -h[2])):
            phrase = _render(text, spans, start, end)
            if rule.category == "adverse_event":
                # the report is named by what happened: the whole clause, not the cue
                lo, hi = scan.event_bounds(start, end)
                phrase = _render(text, spans, lo, hi).strip(" ，,。.;；")[:MAX_PHRASE]
                phrases, ae_rules = events[rule.possible]
                # "用药后出现，皮疹很严重": the report is named by 皮疹很严重, not by the cue
                named = cues[rule.possible] if rule.cue else phrases
                term = _render(text, spans, start, end).strip()
                if not rule.cue and term not in terms[rule.possible]:
                    terms[rule.possible].append(term)
                _add_phrase(named, phrase, phrases)
                if rule.id not in ae_rules:
                    ae_rules.append(rule.id)
                continue
            lo, hi = scan.bounds(start, end, "sentence")
            if any(f.category == rule.category and f.start < hi and lo < f.end
                   for f in flags):
                continue  # the same statement (sentence) found by a second rule
            flags.append(Flag(rule.category, rule.id, phrase, start, end,
                              reaches.get((rule.id, start))))
        for doubt, (phrases, _) in events.items():
            phrases += [p for p in cues[doubt] if p not in phrases]
        sure, unsure = events[False], events[True]
        adverse = AdverseEvent(tuple(sure[0]), tuple(sure[1]), tuple(terms[False])) \
            if sure[0] else None
        possible = AdverseEvent(tuple(unsure[0]), tuple(unsure[1]), tuple(terms[True])) \
            if unsure[0] and adverse is None else None
        redactions = tuple(Redaction(s.kind, s.placeholder, s.start, s.end, s.category)
                           for s in spans)
        return GuardResult(redacted, redactions, tuple(flags), adverse, possible)

    def flagged_clauses(self, text: str) -> list[tuple[int, int]]:
        """The clauses of `text` that a flag (kickback, gift, off-label, 统方) rests on, the
        context that made it one included: what a note says there is no step to propose
        ("上次给他科室送了购物卡，他答应下个月多开" is no follow-up to be reminded of). For a
        benefit given (kickback, gift) the whole sentence: "请他吃了顿饭，他说下个月多用，让我
        1月5号再找他" is one exchange, and its date is the quid pro quo's, not a visit to plan.
        Offsets refer to `text` normalised (coach.compliance.normalise), as in `check`."""
        result = self.check(text)
        if not result.flags:
            return []
        scan = _Scan(normalise_text(text), self.rules)
        return sorted(scan.bounds(*flag.extent, SCOPE_OF_NO_STEP.get(flag.category, "clause"))
                      for flag in result.flags)

    def _redact_pass(self, masked: str, spans: list[_Span], gate: _Gate) -> bool:
        added = False
        folded: str | None = None
        for redactor in self.rules.redactors:
            if not gate.open(redactor.needs):
                continue
            if redactor.folded:
                folded = fold(masked) if folded is None else folded
                subject = folded
            else:
                subject = masked
            pos = 0
            while (match := redactor.regex.search(subject, pos)) is not None:
                pos = match.end() if match.end() > match.start() else match.start() + 1
                if redactor.word_start and not at_word_boundary(subject, match.start()):
                    pos = match.start() + 1
                    continue
                start, end = match.span(redactor.group)
                if start < 0 and "value2" in redactor.regex.groupindex:
                    start, end = match.span("value2")  # the other alternative's value
                if start < 0 or start == end or _overlaps(spans, start, end):
                    continue
                if redactor.validator is not None and not redactor.validator(masked[start:end]):
                    continue
                if redactor.not_after is not None and redactor.not_after.search(
                        masked, max(0, start - redactor.not_after_window), start):
                    continue
                spans.append(_Span(start, end, redactor.kind, redactor.placeholder,
                                   redactor.category))
                added = True
        return added


def load_guard(path: Path, products: Sequence[str] = ()) -> Guard:
    """Load and compile rules.yaml (and the company's products.yaml beside it, plus
    `products`); raises GuardConfigError listing every problem as an Issue (file, line, code)."""
    return Guard(load_rules(path, products))
