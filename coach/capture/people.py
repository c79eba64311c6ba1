"""Customers named in a note: 李主任, 王建国主任, "李晓明 住院医", 见了王建国, Dr. Wang, Li Wei.

A name is a family name, up to two given characters and a title (李主任, 欧阳明教授), or a
full name in a place only a name can be: after 见了 / 拜访 / 和, at the start of a line, or
before 说. Given names never hold numbers, weekdays or function words, which is what keeps
"周三李主任" the 李主任 of Wednesday. Patients are not customers: a name after 患者 / 3床, or
with a 某 for a given name, is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.capture.lexicon import Lexicon
from coach.capture.spans import Span, ends_with_any, is_cjk, overlaps

__all__ = ["Person", "find_people"]

_RIGHT_OF_NAME = ("说", "讲", "表示", "提到", "觉得", "认为", "问", "反馈", "那边", "这边", "主动",
                  "答应", "同意", "希望", "打算", "准备", "一起", "聊", "沟通", "交流", "讨论",
                  "见面", "开会", "明确", "反映")
_LATIN_TITLE = r"(?P<title>{titles})\.?\s+"
_LATIN_NAME = r"(?P<name>[A-Za-z][a-z]+(?:[ -][A-Za-z][a-z]+)?)"
_VISIT_EN = re.compile(r"\b(?:saw|met|visited|meeting with|met with|called|with|and)\s+"
                       r"(?P<name>[A-Z][a-z]+ [A-Z][a-z]+)\b")
_PINYIN = re.compile(
    r"^(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?(?:a|o|e|ai|ei|ao|ou|an|en|ang|eng|ong|er|i|ia|ie|"
    r"iao|iu|ian|in|iang|ing|iong|u|ua|uo|uai|ui|uan|un|uang|ueng|v|ve|ue|van|vn)$")
_ENGLISH_WORDS = frozenset({"he", "she", "me", "an", "a", "o", "e", "bin", "men", "hen",
                            "ran", "man", "pin", "tan", "den", "ten", "can", "fan", "long",
                            "song", "hang", "ring", "sing", "zen", "yen", "yuan", "go", "no",
                            "so", "to", "wo", "ye"})


@dataclass(frozen=True)
class Person:
    span: Span  # the name as written, title included
    name: str
    title: str | None


def _syllables(word: str) -> bool:
    """Whether a Latin word is one or two pinyin syllables (Wei, Jun, Xiaoming)."""
    low = word.lower()
    if _PINYIN.match(low):
        return True
    return any(_PINYIN.match(low[:i]) and _PINYIN.match(low[i:]) for i in range(1, len(low)))


def _surname_at(lexicon: Lexicon, text: str, at: int) -> int:
    """Length of a family name starting at `at` (2 for 欧阳), or 0."""
    for compound in lexicon.compound_surnames:
        if text.startswith(compound, at):
            return len(compound)
    return 1 if at < len(text) and text[at] in lexicon.surnames else 0


def _left_boundary(lexicon: Lexicon, text: str, at: int, taken: list[Span]) -> int:
    """How clearly a name may start at `at`: 2 after punctuation, a place or a word such as
    见了, 1 at the very start, 0 in the middle of other Chinese text."""
    if at == 0:
        return 1
    if not is_cjk(text[at - 1]):
        return 2
    if any(span.end == at for span in taken):
        return 2
    return 2 if ends_with_any(text[:at], lexicon.before_name) else 0


def _is_patient(lexicon: Lexicon, text: str, start: int, end: int, given: str) -> bool:
    before = text[max(0, start - 6):start].lower().rstrip()
    if ends_with_any(before, lexicon.patient_before) or re.search(r"\d+\s*$", before):
        return True
    if given in lexicon.patient_given:
        return True
    return text[end:].lstrip().startswith(lexicon.patient_after)


def _valid_given(lexicon: Lexicon, given: str) -> bool:
    return all(is_cjk(ch) and ch not in lexicon.not_given for ch in given)


def _titled(lexicon: Lexicon, text: str, taken: list[Span]) -> list[Person]:
    """Family name + given + title, written together or with spaces before the title."""
    people: list[Person] = []
    seen: list[Span] = []
    for title in lexicon.titles:
        for match in re.finditer(re.escape(title), text):
            ts, te = match.span()
            if overlaps(seen, ts, te) or overlaps(taken, ts, te):
                continue
            name_end = ts
            while name_end > 0 and text[name_end - 1] == " ":
                name_end -= 1
            best: tuple[int, int, int] | None = None  # (boundary, -length, start)
            for length in (1, 2, 3, 4):
                start = name_end - length
                if start < 0 or overlaps(taken, start, name_end):
                    continue
                surname = _surname_at(lexicon, text, start)
                if not surname or surname > length:
                    continue
                given = text[start + surname:name_end]
                if len(given) > 2 or not _valid_given(lexicon, given):
                    continue
                if name_end != ts and length - surname < 1:
                    continue  # "李 主任" is fine written together; apart, only full names
                boundary = _left_boundary(lexicon, text, start, taken)
                if _is_patient(lexicon, text, start, te, given):
                    continue
                rank = (boundary, -length if boundary < 2 else length, start)
                if best is None or rank[:2] > best[:2]:
                    best = rank
            if best is None:
                continue
            start = best[2]
            span = Span(start, te, text[start:te].replace(" ", ""))
            seen.append(Span(ts, te, title))
            name = span.value if name_end == ts else text[start:name_end]
            people.append(Person(span, name, title))
    return people


def _full_names(lexicon: Lexicon, text: str, taken: list[Span]) -> list[Person]:
    """Full names without a title, where only a name fits: 见了王建国，… / 李晓明 泰山医院."""
    people: list[Person] = []
    for start in range(len(text)):
        surname = _surname_at(lexicon, text, start)
        if not surname or overlaps(taken, start, start + 1):
            continue
        if _left_boundary(lexicon, text, start, taken) < 1:
            continue
        for given_length in (2, 1):
            end = start + surname + given_length
            given = text[start + surname:end]
            if end > len(text) or len(given) < given_length or not _valid_given(lexicon, given):
                continue
            rest = text[end:]
            right = (not rest or not is_cjk(rest[0]) or rest.startswith(_RIGHT_OF_NAME)
                     or any(s.start == end for s in taken) or rest.startswith(lexicon.titles))
            if not right or overlaps(taken, start, end):
                continue
            if _is_patient(lexicon, text, start, end, given):
                break
            people.append(Person(Span(start, end, text[start:end]), text[start:end], None))
            break
    return people


def _latin(lexicon: Lexicon, text: str) -> list[Person]:
    people: list[Person] = []
    titles = "|".join(re.escape(t) for t in lexicon.latin_titles)
    pattern = re.compile(r"\b" + _LATIN_TITLE.format(titles=titles) + _LATIN_NAME, re.IGNORECASE)
    for match in pattern.finditer(text):
        words = match.group("name").replace("-", " ").split()
        if not (words[0][0].isupper() or _syllables(words[0])):
            continue
        keep = [words[0]]
        if len(words) > 1 and _syllables(words[1]) and words[1].lower() not in _ENGLISH_WORDS \
                and (words[1][0].isupper() == words[0][0].isupper()):
            keep.append(words[1])
        end = match.start("name") + len(" ".join(keep))
        span = Span(match.start(), end, text[match.start():end])
        people.append(Person(span, span.value, match.group("title")))
    for match in _VISIT_EN.finditer(text):
        first, second = match.group("name").split()
        if _syllables(first) and _syllables(second) and not overlaps(
                [p.span for p in people], *match.span("name")):
            span = Span(match.start("name"), match.end("name"), match.group("name"))
            people.append(Person(span, span.value, None))
    return people


def find_people(lexicon: Lexicon, text: str, taken: list[Span]) -> list[Person]:
    """Every customer-like person named in `text`, in order of appearance."""
    titled = _titled(lexicon, text, taken)
    spans = taken + [p.span for p in titled]
    full = [p for p in _full_names(lexicon, text, spans)]
    people = titled + full + _latin(lexicon, text)
    people.sort(key=lambda p: p.span.start)
    merged: list[Person] = []
    for person in people:
        if merged and overlaps([merged[-1].span], person.span.start, person.span.end):
            continue
        merged.append(person)
    return merged
