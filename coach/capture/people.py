"""Customers named in a note: 李主任, 王建国主任, 副主任王磊, "李晓明 住院医", 见了王建国,
Dr. Wang, "Huang 主任", Chen Li @ Ruijin.

A name is a family name, up to two given characters and a title (李主任, 欧阳明教授), a title
and then a full name (副主任王磊), or a full name in a place only a name can be: after 见了 /
拜访 / 和, after a hospital or department, at the start of a line, or before 说. Given names
never hold numbers, weekdays or function words, which is what keeps "周三李主任" the 李主任 of
Wednesday. Patients are not customers: a name after 患者 / 3床, or with a 某 for a given
name, is skipped. Full names the rep's customers already have are found anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coach.capture.lexicon import Lexicon
from coach.capture.spans import Span, ends_with_any, is_cjk, overlaps
from coach.names import is_chinese, pinyin_of

__all__ = ["Person", "find_people"]

_PINYIN = re.compile(
    r"^(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?(?:a|o|e|ai|ei|ao|ou|an|en|ang|eng|ong|er|i|ia|ie|"
    r"iao|iu|ian|in|iang|ing|iong|u|ua|uo|uai|ui|uan|un|uang|ueng|v|ve|ue|van|vn)$")
# English words that also read as pinyin: never taken as the second word of a name.
_ENGLISH_WORDS = frozenset({
    "he", "she", "me", "an", "a", "o", "e", "bin", "men", "hen", "ran", "man", "pin", "den",
    "ten", "can", "fan", "song", "hang", "ring", "sing", "zen", "yen", "go", "no", "so", "to",
    "wo", "ye", "new", "ok", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "dec", "jan",
    "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dan", "bo", "ba",
    "la", "na", "da", "again", "gang", "bang", "ban", "sang", "pang", "nan", "ken", "pong",
    "bong", "gong"})
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Person:
    span: Span  # the name as written, title included
    name: str
    title: str | None
    met: bool = False  # right after 见了 / saw: the person the rep actually met
    main: bool = False  # "主要跟小孙聊的": of several met, the one the visit was with


def _syllables(word: str) -> bool:
    """Whether a Latin word is one to three pinyin syllables (Wei, Jun, Xiaoming, Ouyang)."""
    low = word.lower()
    if not low.isalpha():
        return False
    if _PINYIN.match(low):
        return True
    return any(_PINYIN.match(low[:i]) and _syllables(low[i:]) for i in range(1, len(low)))


def _surname_at(lexicon: Lexicon, text: str, at: int) -> int:
    """Length of a family name starting at `at` (2 for 欧阳), or 0."""
    for compound in lexicon.compound_surnames:
        if text.startswith(compound, at):
            return len(compound)
    return 1 if at < len(text) and text[at] in lexicon.surnames else 0


def _left_boundary(lexicon: Lexicon, text: str, at: int, taken: Sequence[Span],
                   words: Sequence[str]) -> int:
    """How clearly a name may start at `at`: 2 after punctuation, a place or one of
    `words` (见了 …), 1 at the very start, 0 in the middle of other Chinese text."""
    if at == 0:
        return 1
    if not is_cjk(text[at - 1]):
        return 2
    if any(span.end == at for span in taken):
        return 2
    return 2 if ends_with_any(text[:at], words) else 0


def _is_patient(lexicon: Lexicon, text: str, start: int, end: int, given: str) -> bool:
    before = text[max(0, start - 12):start].lower().rstrip()
    if ends_with_any(before, lexicon.patient_before) or re.search(r"\d+\s*$", before):
        return True
    if given in lexicon.patient_given:
        return True
    return text[end:].lstrip().startswith(lexicon.patient_after)


def _valid_given(lexicon: Lexicon, given: str) -> bool:
    return all(is_cjk(ch) and ch not in lexicon.not_given for ch in given)


_THEIR_ROLE = re.compile(r"\s*(?:his|her|their|他的|她的|他们的|科里的|科室的)?\s*"
                         r"(?:fellow|resident|student|assistant|deputy|secretary|学生|研究生|"
                         r"博士后|进修医生|助理|秘书)?\s*$")
_TALKED_WITH_ME = re.compile(r"^\s*(?:跟我|和我|与我)\S{0,2}(?:聊|谈|说|讲|沟通)")


def _met(lexicon: Lexicon, text: str, start: int, end: int | None = None) -> bool:
    """Whether the person named at text[start:end] is the one the rep met: right after
    见了 / saw ("talked to her fellow Dr. Lu" too), or after 跟 / with when a conversation
    follows ("跟李医生聊了"), or who talked with the rep ("刘医生跟我聊的")."""
    before = _THEIR_ROLE.sub("", text[:start].lower()).rstrip()
    if ends_with_any(before, lexicon.met_before) is not None:
        return True
    if end is None:
        return False
    if _TALKED_WITH_ME.match(text[end:]):
        return True
    if ends_with_any(before, lexicon.met_with) is None:
        return False
    after = text[end:end + 8].lower()
    return any(word in after for word in lexicon.talked_after)


def _titled(lexicon: Lexicon, text: str, taken: Sequence[Span]) -> list[Person]:
    """Family name + given + title, written together or with spaces before the title."""
    people: list[Person] = []
    seen: list[Span] = []
    for title in lexicon.titles:
        if title not in text:
            continue
        for match in re.finditer(re.escape(title), text):
            ts, te = match.span()
            if overlaps(seen, ts, te) or overlaps(taken, ts, te):
                continue
            name_end = ts
            while name_end > 0 and text[name_end - 1] == " ":
                name_end -= 1
            best: tuple[int, int, int, int] | None = None  # (boundary, compound, pref, start)
            for length in (1, 2, 3, 4):
                start = name_end - length
                if start < 0 or overlaps(taken, start, name_end):
                    continue
                surname = _surname_at(lexicon, text, start)
                if not surname or surname > length:
                    continue
                if ends_with_any(text[:start + 1], lexicon.titles):
                    continue  # the 任 of 主任 starts no name ("主任助理房医生")
                given = text[start + surname:name_end]
                if len(given) > 2 or not _valid_given(lexicon, given):
                    continue
                if name_end != ts and length - surname < 1 and start > 0 \
                        and not text[start - 1].isspace():
                    continue  # apart from its title, a lone family name must stand alone too
                if _is_patient(lexicon, text, start, te, given):
                    continue
                boundary = _left_boundary(lexicon, text, start, taken, lexicon.before_name)
                common = -lexicon.surname_rank.get(text[start:start + surname], 999)
                rank = (boundary, int(surname == 2),
                        length if boundary == 2 else common * 10 - length, start)
                if best is None or rank[:3] > best[:3]:
                    best = rank
            run = _unlisted_name(lexicon, text, name_end, taken)
            if run is not None and (best is None or (best[0] < 2 and run < best[3])):
                best = (2, 0, 0, run)  # 阿不都热依木主任, 古丽米拉医生: no listed family name
            if best is None and _rare_family_name(lexicon, text, name_end, te, taken):
                best = (2, 0, 0, name_end - 1)  # "皮肤科 那主任 满族": a family name not listed
            if best is None:
                continue
            start = best[3]
            span = Span(start, te, text[start:te].replace(" ", ""))
            seen.append(Span(ts, te, title))
            name = span.value if name_end == ts else text[start:name_end]
            people.append(Person(span, name, title, _met(lexicon, text, start, te)))
    return people


def _short_titled(lexicon: Lexicon, text: str, taken: Sequence[Span]) -> list[Person]:
    """张科 (张科长), 王处 (王处长): a family name alone and a short title, standing as a word
    of its own: after a place, punctuation, a space or 见了 / 和, and followed by nothing
    Chinese or by what follows a name (说, 也, 对 …). "全科", "何处", "科室" are no names."""
    people: list[Person] = []
    for title in lexicon.short_titles:
        for match in re.finditer(re.escape(title), text):
            ts, te = match.span()
            length = next((len(c) for c in lexicon.compound_surnames
                           if text.startswith(c, ts - len(c))), 1)
            start = ts - length
            if start < 0 or _surname_at(lexicon, text, start) != length:
                continue
            if overlaps(taken, start, te) or _left_boundary(
                    lexicon, text, start, taken, lexicon.before_name) == 0:
                continue
            rest = text[te:]
            if rest and is_cjk(rest[0]) and not rest.startswith(lexicon.full_name_after):
                continue
            if _is_patient(lexicon, text, start, te, ""):
                continue
            span = Span(start, te, text[start:te])
            people.append(Person(span, span.value, title, _met(lexicon, text, start, te)))
    return people


MAX_UNLISTED = 6


def _rare_family_name(lexicon: Lexicon, text: str, name_end: int, title_end: int,
                      taken: Sequence[Span]) -> bool:
    """Whether the one character before a title is a family name the list lacks (那, 伊,
    佘): only when the name and its title stand alone on both sides ("皮肤科 那主任 满族"),
    so "那主任说" (that director said) and "老主任" are not read as names."""
    start = name_end - 1
    if start < 0 or not is_cjk(text[start]) or text[start] in lexicon.never_family:
        return False
    if overlaps(taken, start, name_end) or ends_with_any(text[:name_end], lexicon.titles):
        return False
    if _left_boundary(lexicon, text, start, taken, ()) == 0:
        return False
    return title_end == len(text) or not is_cjk(text[title_end])


def _unlisted_name(lexicon: Lexicon, text: str, name_end: int,
                   taken: Sequence[Span]) -> int | None:
    """Where a name with no listed family name starts, when the whole run of characters
    before its title stands alone (after a space, punctuation, a hospital or department):
    Uyghur, Kazakh and other names ("骨科 阿不都热依木主任"). None when it does not."""
    start = name_end
    while start > 0 and name_end - start < MAX_UNLISTED and is_cjk(text[start - 1]) and (
            text[start - 1] not in lexicon.not_given
            or text[start - 1] in lexicon.unlisted_allowed) and \
            not any(span.end == start for span in taken):
        start -= 1
    if name_end - start < 2 or overlaps(taken, start, name_end):
        return None
    if start > 0 and is_cjk(text[start - 1]) and not any(span.end == start for span in taken):
        return None  # the run goes on: not a name standing alone
    if ends_with_any(text[:name_end], lexicon.titles) or _is_patient(
            lexicon, text, start, name_end, text[start:name_end]):
        return None
    if text[start:name_end].startswith(_department_stems(lexicon)):
        return None  # 麻醉诸葛医生: a department, then a listed name
    return start


def _department_stems(lexicon: Lexicon) -> tuple[str, ...]:
    """Departments as written before a name (麻醉, 心内), computed once per lexicon."""
    cached: tuple[str, ...] | None = getattr(lexicon, "_department_stems", None)
    if cached is None:
        names = [*lexicon.departments, *lexicon.department_aliases,
                 *lexicon.department_aliases_at_boundary]
        cached = tuple({n[:-1] if n.endswith("科") and len(n) > 2 else n for n in names})
        object.__setattr__(lexicon, "_department_stems", cached)
    return cached


def _full_name_at(lexicon: Lexicon, text: str, start: int, taken: Sequence[Span],
                  strong: bool) -> int:
    """End of a full name (family name + 1-2 given) starting at `start`, or 0. After a
    strong start (a place, a title, 见了) more words may follow the name."""
    surname = _surname_at(lexicon, text, start)
    if not surname:
        return 0
    for given_length in (2, 1):
        end = start + surname + given_length
        given = text[start + surname:end]
        if end > len(text) or len(given) < given_length or not _valid_given(lexicon, given):
            continue
        if overlaps(taken, start, end):
            continue
        if text[start:end] in lexicon.hospital_places:
            continue  # 沈阳, 常州: a city, not 沈阳 the person
        rest = text[end:]
        if rest.startswith(lexicon.not_after_name):
            continue
        after = lexicon.full_name_after if strong else lexicon.full_name_after[:0] + tuple(
            w for w in lexicon.full_name_after if len(w) > 1 or w in "说讲问")
        if (not rest or not is_cjk(rest[0]) or rest.startswith(after)
                or any(s.start == end for s in taken) or rest.startswith(lexicon.titles)):
            return end
    return 0


def _familiar_at(lexicon: Lexicon, text: str, start: int, taken: Sequence[Span]) -> int:
    """End of 小何 / 老李 (familiar forms of a family name) at `start`, or 0."""
    if text[start:start + 1] not in ("小", "老"):
        return 0
    surname = _surname_at(lexicon, text, start + 1)
    end = start + 1 + surname
    if not surname or overlaps(taken, start, end):
        return 0
    rest = text[end:]
    if (not rest or not is_cjk(rest[0]) or rest.startswith(lexicon.full_name_after)
            or rest.startswith(lexicon.titles) or any(s.start == end for s in taken)):
        return end
    return 0


def _alone(lexicon: Lexicon, text: str, start: int, end: int) -> bool:
    """A family name standing by itself: between spaces ("省人医心内 王 下周 送指南"), or a
    compound one after 见了 ("见了上官 聊产品")."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if not (after.isspace() or after in ",，"):
        return False
    return before.isspace() or (end - start == 2 and _met(lexicon, text, start))


def _full_names(lexicon: Lexicon, text: str, taken: Sequence[Span]) -> list[Person]:
    """Full names without a title, where only a name fits: 见了王建国，… / 李晓明 泰山医院 /
    副主任王磊 and 主治医生小何 (a title before the name); and in a note typed as fragments,
    a family name standing alone ("心内 王 下周 送指南")."""
    people: list[Person] = []
    start = 0
    while start < len(text):
        boundary = _left_boundary(lexicon, text, start, taken, lexicon.full_name_before)
        title_before = ends_with_any(text[:start], lexicon.titles)
        strong = boundary == 2 or title_before is not None
        if boundary < 1 and title_before is None:
            start += 1
            continue
        surname = _surname_at(lexicon, text, start)
        if surname and _alone(lexicon, text, start, start + surname) and not overlaps(
                taken, start, start + surname):
            span = Span(start, start + surname, text[start:start + surname])
            people.append(Person(span, span.value, None,
                                 _met(lexicon, text, start, start + surname)))
            start += surname
            continue
        loose = _left_boundary(lexicon, text, start, taken, lexicon.before_name) == 2
        familiar = _familiar_at(lexicon, text, start, taken) if strong or loose else 0
        if familiar:
            name_start = start - len(title_before) if title_before else start
            span = Span(start, familiar, text[start:familiar])
            people.append(Person(span, text[name_start:familiar], title_before,
                                 _met(lexicon, text, name_start, familiar)))
            start = familiar
            continue
        end = _full_name_at(lexicon, text, start, taken, strong)
        if end and not _is_patient(lexicon, text, start, end, text[start + 1:end]):
            span = Span(start, end, text[start:end])
            people.append(Person(span, span.value, title_before,
                                 _met(lexicon, text, start)))
            start = end
            continue
        start += 1
    return people


def _known(lexicon: Lexicon, text: str, names: Sequence[str],
           taken: Sequence[Span]) -> list[Person]:
    """The rep's own customers' full names, wherever they are written."""
    people: list[Person] = []
    for name in names:
        # every form looked for starts with the name's first two characters: a rep with
        # thousands of customers pays one substring test for each one the note cannot name
        if len(name) < 2 or name[:2] not in text or not is_chinese(name):
            continue
        title = next((t for t in lexicon.titles if name.endswith(t) and len(name) > len(t)),
                     None)
        bare = name[:-len(title)] if title else ""
        # "古丽娜尔医生" is also written "古丽娜尔"; "李医生" is not "李"
        for form in (name, bare) if len(bare) >= 2 else (name,):
            if form not in text:  # most of a long customer list: no regex compiled
                continue
            for match in re.finditer(re.escape(form), text):
                spans = [*taken, *(p.span for p in people)]
                if not overlaps(spans, *match.span()):
                    people.append(Person(Span(*match.span(), name), name, title,
                                         _met(lexicon, text, match.start(), match.end())))
    return people


def _latin_surnames(lexicon: Lexicon) -> frozenset[str]:
    """Family names in pinyin ("li", "ouyang"), computed once, only for notes in English."""
    cached: frozenset[str] | None = getattr(lexicon, "_latin_surnames", None)
    if cached is None:
        cached = frozenset({pinyin_of(s, lexicon.surname_pinyin) for s in lexicon.surnames}
                           | {pinyin_of(s, lexicon.surname_pinyin)
                              for s in lexicon.compound_surnames})
        object.__setattr__(lexicon, "_latin_surnames", cached)
    return cached


def _latin(lexicon: Lexicon, text: str, taken: Sequence[Span]) -> list[Person]:
    """Dr. Wang, Prof Zhang, President Zhao; "Huang 主任"; Chen Li / Wang Jun / Cao where a
    name starts a line or follows saw / met / with."""
    people: list[Person] = []
    titles = "|".join(re.escape(t) for t in lexicon.latin_titles)
    titled = re.compile(r"(?<![A-Za-z])(?P<title>" + titles + r")\.?\s+(?P<name>[A-Za-z][a-z]+"
                        r"(?:[ -][A-Za-z][a-z]+(?:-[A-Za-z]?[a-z]+)?)?)", re.IGNORECASE)
    position = 0
    while (match := titled.search(text, position)) is not None:
        position = match.end()
        written = match.group("name")
        # "Qi Hong-mei": a given name may hold a hyphen; "Wang-Jun" is two words
        words = written.split(" ") if " " in written else written.replace("-", " ").split()
        if words[0].lower() in lexicon.latin_titles:  # "resident Dr. Yu": the name comes later
            position = match.start("name")
            continue
        between = text[match.end("title"):match.start("name")]
        if "." in between and match.group("title").islower():
            continue  # "…with the nurse. Try again": a sentence ends, no name follows
        if not (words[0][0].isupper() or _syllables(words[0])):
            continue
        keep = [words[0]]
        second_at = match.start("name") + len(words[0]) + 1
        if len(words) > 1 and _syllables(words[1].replace("-", "")) \
                and (words[1].lower() not in _ENGLISH_WORDS or words[1][:1].isupper()) \
                and words[1][0].isupper() == words[0][0].isupper() \
                and not overlaps(taken, second_at, second_at + len(words[1])):
            keep.append(words[1])
        end = match.start("name") + len(" ".join(keep))
        if _is_patient(lexicon, text, match.start(), end, ""):
            continue  # "Patient Mr. Zhang (bed 5)"
        span = Span(match.start(), end, text[match.start():end])
        people.append(Person(span, span.value, match.group("title"),
                             _met(lexicon, text, match.start())))
    surnames = _latin_surnames(lexicon)
    taken_all = [*taken, *(p.span for p in people)]
    for match in _LATIN_WORD.finditer(text):
        start = match.start()
        word = match.group()
        if word.lower() not in surnames or word.lower() in _ENGLISH_WORDS:
            continue
        if overlaps(taken_all, start, match.end()):
            continue
        rest = text[match.end():]
        spoken = re.match(r"\s+([A-Za-z]+)(?![A-Za-z])", rest)
        title = next((t for t in lexicon.titles if rest.lstrip().startswith(t)), None)
        if spoken and spoken.group(1).lower() in lexicon.pinyin_titles:  # "Huang zhuren"
            title = spoken.group(1)
            end = match.end() + spoken.end()
            people.append(Person(Span(start, end, text[start:end]), text[start:end], title,
                                 _met(lexicon, text, start)))
            continue
        if title is not None:  # "Huang 主任", "Chen Yu主任"
            end = match.end() + (len(rest) - len(rest.lstrip())) + len(title)
            first = re.search(r"([A-Za-z]+)\s+$", text[:start])
            if first and first.group(1).lower() in surnames and _syllables(word):
                start = first.start(1)
            people.append(Person(Span(start, end, text[start:end]), text[start:end], title,
                                 _met(lexicon, text, start)))
            continue
        before = text[:start].rstrip().lower()
        at_start = (not before or before[-1] in ",;:.，；：。\n(@"
                    or any(span.end <= start and not text[span.end:start].strip()
                           for span in taken))
        if not (at_start or _met(lexicon, text, start)):
            continue
        second = re.match(r"\s+([A-Za-z]+)", rest)
        end = match.end()
        if second and _syllables(second.group(1)) and second.group(1).lower() not in \
                _ENGLISH_WORDS and second.group(1)[0].isupper() == word[0].isupper():
            end = match.end() + second.end()
        follow = text[end:].lstrip()[:1]
        if follow and follow not in "@(,:;-" and not is_cjk(follow) and end == match.end():
            continue  # a lone word must be followed by @ ( , : to be a name
        if not word[0].isupper() and end == match.end():
            continue  # a lone lower-case word is a word; "zhou ming" (two syllables) a name
        if _is_patient(lexicon, text, start, end, ""):
            continue
        people.append(Person(Span(start, end, text[start:end]), text[start:end], None,
                             _met(lexicon, text, start)))
    return people


def find_people(lexicon: Lexicon, text: str, taken: list[Span],
                known_names: Sequence[str] = ()) -> list[Person]:
    """Every customer-like person named in `text`, in order of appearance."""
    known = _known(lexicon, text, known_names, taken)
    titled = _titled(lexicon, text, taken)
    titled += _short_titled(lexicon, text, [*taken, *(p.span for p in known),
                                            *(p.span for p in titled)])
    spans = [*taken, *(p.span for p in known), *(p.span for p in titled)]
    full = _full_names(lexicon, text, spans)
    people = known + titled + full + _latin(lexicon, text, [*spans, *(p.span for p in full)])
    people.sort(key=lambda p: (p.span.start, -p.span.end))
    merged: list[Person] = []
    for person in people:
        if merged and overlaps([merged[-1].span], person.span.start, person.span.end):
            continue
        if ends_with_any(text[:person.span.start].rstrip().lower(), lexicon.met_mainly):
            person = Person(person.span, person.name, person.title, True, True)
        merged.append(person)
    return merged
