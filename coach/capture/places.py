"""Hospitals and departments in a note: 泰山医院, 市一院, 省人医, "Renji Hospital"; 心内科,
心内 (→ 心内科), ICU, cardiology.

A hospital name is found from its end (医院, 卫生院, 中心医院 …) and grown to the left until a
word that cannot be part of it ("刚见完|泰山医院", "在|协和医院"); a bare suffix needs a real
name before it ("去医院的路上" names no hospital). Departments come from a list of names and
the short forms reps type; a short form counts only when no longer word continues it
("呼吸困难" is a symptom, not 呼吸科).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from coach.capture.lexicon import Lexicon
from coach.capture.spans import Span, ends_with_any, is_cjk, overlaps
from coach.names import hospital_key

__all__ = ["find_departments", "find_hospitals"]

MAX_HOSPITAL_CORE = 12
_GENERIC = ("医院", "卫生院", "诊所", "保健院")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _name_char(char: str) -> bool:
    return is_cjk(char) or (char.isascii() and char.isalnum())


def _grow_left(text: str, end_of_core: int, stops: Sequence[str], generic: bool) -> int | None:
    """Where a hospital name that ends (before its suffix) at `end_of_core` starts."""
    start = end_of_core
    while start > 0 and end_of_core - start < MAX_HOSPITAL_CORE and _name_char(text[start - 1]):
        core = end_of_core - start
        stop = ends_with_any(text[:start], stops)
        if stop is not None and (core >= 2 or not generic):
            break
        start -= 1
    return start


def find_hospitals(lexicon: Lexicon, text: str, known: Sequence[str] = ()) -> list[Span]:
    """Every hospital named in `text`, in order. `known` are hospitals the rep's customers
    are at: written without their suffix ("泰山李主任") they are still recognised."""
    found: list[Span] = []
    stops = (*lexicon.hospital_stop, *lexicon.titles, *lexicon.departments, "科")
    for suffix in lexicon.hospital_suffixes:
        for match in re.finditer(re.escape(suffix), text):
            at, end = match.start(), match.end()
            if overlaps(found, at, end):
                continue
            generic = suffix in _GENERIC
            start = _grow_left(text, at, sorted(stops, key=len, reverse=True), generic)
            if start is None:
                continue
            core = text[start:at]
            if generic and (len(core) == 0 or core in lexicon.hospital_not_names
                            or (len(core) == 1 and ends_with_any(core, lexicon.hospital_stop))):
                continue
            found.append(Span(start, end, text[start:end]))
    for pattern in lexicon.hospital_short:
        for match in pattern.finditer(text):
            if not overlaps(found, *match.span()):
                found.append(Span(match.start(), match.end(), match.group()))
    for suffix in lexicon.hospital_latin_suffixes:
        for match in re.finditer(r"((?:[A-Z][\w'’-]*\s+){1,4})" + re.escape(suffix) + r"\b",
                                 text, re.IGNORECASE):
            words = match.group(1).split()
            while words and not words[0][:1].isupper():
                words.pop(0)
            if words and not overlaps(found, *match.span()):
                start = match.start() + match.group(0).index(words[0])
                found.append(Span(start, match.end(), text[start:match.end()]))
    lowered = text.lower()
    for name in (*known, *lexicon.known_hospitals):
        variants = {name, hospital_key(name)} if is_cjk(name[:1]) else {name}
        for variant in sorted(variants, key=len, reverse=True):
            if len(variant) < 2:
                continue
            at = lowered.find(variant.lower())
            if at < 0 or overlaps(found, at, at + len(variant)):
                continue
            if variant.isascii() and not _whole_word(lowered, at, at + len(variant)):
                continue
            value = name if name in known else text[at:at + len(variant)]
            found.append(Span(at, at + len(variant), value))
            break
    return sorted(found)


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (
        after.isascii() and after.isalnum())


def find_departments(lexicon: Lexicon, text: str, taken: Sequence[Span] = ()) -> list[Span]:
    """Every department named in `text`, in order, as its full name."""
    found: list[Span] = []
    blocked = [Span(m.start(), m.end(), word) for word in lexicon.not_departments
               for m in re.finditer(re.escape(word), text)]
    for name in lexicon.departments:
        for match in re.finditer(re.escape(name), text):
            span = match.span()
            if overlaps(found, *span) or overlaps(taken, *span) or overlaps(blocked, *span):
                continue
            found.append(Span(*span, name))
    for alias, full in sorted(lexicon.department_aliases.items(), key=lambda a: -len(a[0])):
        for match in re.finditer(re.escape(alias), text, re.IGNORECASE if alias.isascii()
                                 else 0):
            start, end = match.span()
            if overlaps(found, start, end) or overlaps(taken, start, end):
                continue
            if alias.isascii() and not _whole_word(text, start, end):
                continue
            if not alias.isascii() and not _alias_ends(lexicon, text, end):
                continue
            found.append(Span(start, end, full))
    for match in _LATIN_WORD.finditer(text):
        word = match.group()
        latin = lexicon.department_latin.get(word.lower())
        if latin is None or overlaps(found, *match.span()) or overlaps(taken, *match.span()):
            continue
        if len(word) <= 3 and not word.isupper():  # "er", "gi" are words; "ER", "GI" wards
            continue
        found.append(Span(match.start(), match.end(), latin))
    return sorted(found)


def _alias_ends(lexicon: Lexicon, text: str, end: int) -> bool:
    """A short form ("心内") is a department only when the word ends there: followed by
    nothing, a non-Chinese character, a name with a title, or 的."""
    rest = text[end:]
    if not rest or not is_cjk(rest[0]):
        return True
    if rest[0] in "的那这里" or rest.startswith(lexicon.titles):
        return True
    if rest[0] in lexicon.surnames and any(rest[1:4].startswith(t) or rest[2:5].startswith(t)
                                           for t in lexicon.titles):
        return True
    return rest.startswith(("主任", "医生", "大夫", "护士", "病房", "门诊"))
