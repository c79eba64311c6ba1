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
from coach.names import hospital_key, is_chinese, pinyin_of

__all__ = ["find_departments", "find_hospitals", "handed_to"]

MAX_HOSPITAL_CORE = 12
_CITY_ENDS = frozenset("省市州县区")
_DATE_WORD = re.compile(r"(?:下下?|这|本|上)?个?(?:周|星期|礼拜)[一二三四五六日天]?"
                        r"|[明今后昨前]天|大后天")
_GENERIC = ("医院", "卫生院", "诊所", "保健院", "社区")
_COUNTED = re.compile(r"^[一二三四五六七八九十几两多0-9]+家$")  # "跑了三家医院"
_GENERIC_DEPARTMENT = re.compile(r"[\u4e00-\u9fff]{1,3}科")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _name_char(char: str) -> bool:
    return is_cjk(char) or (char.isascii() and char.isalnum())


def _grow_left(text: str, end_of_core: int, stops: Sequence[str], generic: bool) -> int:
    """Where a hospital name that ends (before its suffix) at `end_of_core` starts."""
    start = end_of_core
    while start > 0 and end_of_core - start < MAX_HOSPITAL_CORE and _name_char(text[start - 1]):
        core = end_of_core - start
        stop = ends_with_any(text[:start], stops)
        if stop == "科" and text.startswith("大", start):
            stop = None  # 昆明医科大学第一附属医院: a university, not a department
        if stop is not None and (core >= 2 or not generic):
            break
        start -= 1
    return start


def find_hospitals(lexicon: Lexicon, text: str, known: Sequence[str] = ()) -> list[Span]:
    """Every hospital named in `text`, in order. `known` are hospitals the rep's customers
    are at: written without their suffix ("泰山李主任") they are still recognised."""
    found: list[Span] = []
    stops = tuple(sorted((*lexicon.hospital_stop, *lexicon.titles, *lexicon.departments, "科"),
                         key=len, reverse=True))
    for suffix in lexicon.hospital_suffixes:
        if suffix not in text:
            continue
        for match in re.finditer(re.escape(suffix), text):
            at, end = match.start(), match.end()
            if overlaps(found, at, end):
                continue
            generic = suffix in _GENERIC
            start = _grow_left(text, at, stops, generic)
            while start < at and text[start] in lexicon.hospital_not_in_names:
                start += 1  # "吴科长说医院": the name cannot hold 说
            core = text[start:at]
            if any(ch in lexicon.hospital_not_in_names for ch in core):
                start += max(i for i, ch in enumerate(core)
                             if ch in lexicon.hospital_not_in_names) + 1
                core = text[start:at]
            if generic and (len(core) == 0 or core in lexicon.hospital_not_names
                            or _COUNTED.match(core)):
                continue
            found.append(Span(start, end, text[start:end]))
    for pattern in lexicon.hospital_short:
        for match in pattern.finditer(text):
            start = _trim_left(lexicon, text, match.start(), match.end())
            core = text[start:match.end()]
            cut = max((core.rfind(t) + len(t) for t in lexicon.titles if t in core), default=0)
            start += cut  # "田主任贵医附院": the person is no part of the hospital
            if text[start:start + 1] in _CITY_ENDS:  # 赣州|市人医, 柳|州人医: the city too
                start = _grow_left(text, start, stops, False)
                start = _trim_left(lexicon, text, start, match.end())
            if start < match.end() and not overlaps(found, start, match.end()):
                found.append(Span(start, match.end(), text[start:match.end()]))
    for suffix in lexicon.hospital_latin_suffixes:
        # capitalised words right before the suffix: "at Taishan Hospital" is Taishan's
        for match in re.finditer(r"((?:[A-Z][\w'’-]*\s+){1,4})(?i:" + re.escape(suffix)
                                 + r")\b", text):
            words = match.group(1).split()
            while len(words) > 1 and words[0].lower() in _NOT_HOSPITAL_WORDS:
                words.pop(0)
            start = match.start() + match.group(0).index(words[0])
            if words and not overlaps(found, start, match.end()):
                found.append(Span(start, match.end(), text[start:match.end()]))
    for pattern in lexicon.hospital_latin_forms:
        for match in pattern.finditer(text):
            if match.group().strip() and not overlaps(found, *match.span()):
                found.append(Span(match.start(), match.end(), match.group().strip()))
    lowered = text.lower()
    latin_text = any(ch.isascii() and ch.isalpha() for ch in text)
    for name in (*known, *lexicon.known_hospitals):
        variants = {name, hospital_key(name)} if is_cjk(name[:1]) else {name}
        if latin_text and name in known and is_chinese(hospital_key(name)):
            variants.add(pinyin_of(hospital_key(name)))  # 泰山医院 written "Taishan"
        for variant in sorted(variants, key=len, reverse=True):
            if len(variant) < 2:
                continue
            at = lowered.find(variant.lower())
            if at < 0 or overlaps(found, at, at + len(variant)):
                continue
            if variant.isascii() and not _whole_word(lowered, at, at + len(variant)):
                continue
            end = at + len(variant)
            if not variant.isascii():
                at, end = _widen_known(lexicon, text, at, end, found)
                # "华西附二院": the 附二院 found alone is the known name's, one hospital
                found = [s for s in found if not (at <= s.start and s.end <= end)]
            value = name if (name in known and variant.isascii() == name.isascii()
                             and end - at == len(variant)) else text[at:end]
            found.append(Span(at, end, value))
            break
    return sorted(found)


def _trim_left(lexicon: Lexicon, text: str, start: int, end: int) -> int:
    """A pattern that may start a word early ("见了郑大一附院") starts after the words that
    end what came before, including one it starts inside of ("今|天去了广医二院")."""
    start = _after_straddling(lexicon, text, start, end)
    while start < end:
        stop = next((w for w in lexicon.hospital_stop if text.startswith(w, start)), None)
        when = _DATE_WORD.match(text, start)
        if stop is not None and start + len(stop) < end:
            start += len(stop)
        elif when is not None and when.end() < end:
            start = when.end()  # "下周二省人医内分泌科室会"
        elif text[start] in lexicon.hospital_not_in_names:
            start += 1  # "tmr 再去市人民"
        else:
            return start
    return start


def _after_straddling(lexicon: Lexicon, text: str, start: int, end: int) -> int:
    """`start`, moved past a stop or date word that begins before it and ends after it:
    a pattern's first characters may be the tail of such a word (今天 → "天去了…")."""
    longest = max((len(w) for w in lexicon.hospital_stop), default=0)
    for back in range(1, max(longest, 3)):
        begin = start - back
        if begin < 0:
            break
        word = next((w for w in lexicon.hospital_stop
                     if text.startswith(w, begin) and start < begin + len(w) < end), None)
        when = _DATE_WORD.match(text, begin)
        if when is not None and start < when.end() < end:
            return when.end()
        if word is not None:
            return begin + len(word)
    return start


def _widen_known(lexicon: Lexicon, text: str, start: int, end: int,
                 found: Sequence[Span]) -> tuple[int, int]:
    """A known name is only part of a hospital when a city stands before it or an ordinal
    after it: 福建协和 is not 北京协和, 湘雅二院 is not 湘雅医院."""
    place = ends_with_any(text[:start], lexicon.hospital_places)
    if place is not None and not overlaps(found, start - len(place), start):
        start -= len(place)
    tail = lexicon.hospital_ordinal_tail
    if tail is not None:
        more = tail.match(text[end:])
        # an ordinal found alone ("附二院") is still this hospital's tail; one that reaches
        # past it is a hospital of its own
        if more is not None and not any(s.start < end + more.end() and end < s.end
                                        and not (end <= s.start and s.end <= end + more.end())
                                        for s in found):
            end += more.end()
    return start, end


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (
        after.isascii() and after.isalnum())


def find_departments(lexicon: Lexicon, text: str, taken: Sequence[Span] = ()) -> list[Span]:
    """Every department named in `text`, in order, as its full name."""
    found: list[Span] = []

    def add(start: int, end: int, value: str) -> None:
        if not overlaps(found, start, end) and not overlaps(taken, start, end) \
                and not _inside_word(lexicon, text, start, taken):
            found.append(Span(start, end, value))

    for name in lexicon.departments:
        if name not in text:
            continue
        for match in re.finditer(re.escape(name), text):
            add(*match.span(), name)
    aliases = [(alias, full, False) for alias, full in lexicon.department_aliases.items()]
    aliases += [(alias, full, True) for alias, full in
                lexicon.department_aliases_at_boundary.items()]
    lowered = text.lower()
    for alias, full, at_boundary in sorted(aliases, key=lambda a: -len(a[0])):
        if (alias.lower() not in lowered) if alias.isascii() else (alias not in text):
            continue
        for match in re.finditer(re.escape(alias), text, re.IGNORECASE if alias.isascii()
                                 else 0):
            start, end = match.span()
            if alias.isascii() and not _whole_word(text, start, end):
                continue
            if at_boundary and (not _alias_ends(lexicon, text, end)
                                or text[:start].endswith(lexicon.department_not_after)):
                continue
            add(start, end, full)
    for match in _GENERIC_DEPARTMENT.finditer(text):
        begin = _department_start(text, match.start(), match.end(), [*taken, *found])
        if begin is None:
            continue
        start, end = begin, match.end()
        core = text[start:end - 1]
        if not core or overlaps(found, start, end) or overlaps(taken, start, end):
            continue
        if any(ch in lexicon.not_given or ch in lexicon.hospital_not_in_names for ch in core):
            continue
        if any(w in text[start:end + 2] for w in lexicon.not_departments):
            continue
        if len(core) == 1 and core in lexicon.surnames and "科" in lexicon.short_titles:
            continue  # "药剂科张科": 张科 is 张科长, a person
        add(start, end, text[start:end])
    for key, full in lexicon.department_latin.items():
        if key.isalpha():
            continue  # "ob/gyn", "pain clinic": written as more than one word
        for match in re.finditer(r"(?<![a-z])" + re.escape(key) + r"(?![a-z])", lowered):
            add(match.start(), match.end(), full)
    for match in _LATIN_WORD.finditer(text):
        word = match.group()
        latin = lexicon.department_latin.get(word.lower())
        if latin is None:
            continue
        if word.lower() in _AMBIGUOUS_LATIN and not word.isupper():  # "er" is a word, ER a ward
            continue
        add(match.start(), match.end(), word if word.lower() == latin.lower() else latin)
    return sorted(found)


def _inside_word(lexicon: Lexicon, text: str, start: int, taken: Sequence[Span]) -> bool:
    """Whether a department at `start` begins inside a word that is not one ("另|外科里" is
    另外 + 科里); right after a hospital it begins a word of its own ("人民医院|内科")."""
    if any(span.end == start for span in taken):
        return False
    return any(text.startswith(word, begin) and begin + len(word) > start
               for word in lexicon.department_not_inside
               for begin in range(max(0, start - len(word) + 1), start))


_AMBIGUOUS_LATIN = frozenset({"er", "gi", "gp", "icu", "ccu"})
_NOT_HOSPITAL_WORDS = frozenset({"saw", "met", "visited", "at", "the", "dr", "prof", "went",
                                 "today", "yesterday", "from", "in"})


def _department_start(text: str, start: int, end: int, spans: Sequence[Span]) -> int | None:
    """Where a department written "X科" that is not in the list begins: right after a
    hospital, a space or the start of the note; None when nothing marks its start."""
    for at in range(start, end - 1):
        if at == 0 or not is_cjk(text[at - 1]) or any(s.end == at for s in spans):
            return at
    return None


def _alias_ends(lexicon: Lexicon, text: str, end: int) -> bool:
    """A short form that is also a word ("呼吸") is a department only when the word ends
    there: followed by nothing, a non-Chinese character, a name, a title, or a word that
    goes with departments (的, 科室, 门诊, 病房, 新来的 …)."""
    rest = text[end:]
    if not rest or not is_cjk(rest[0]):
        return True
    if rest.startswith(("的", "那", "这", "里", "科室", "门诊", "病房", "新", "主任", "护士",
                        "医生", "大夫", "再", "也", "又", "今天", "明天", "下周", "等")):
        return True
    if rest.startswith(lexicon.titles):
        return True
    head = next((c for c in lexicon.compound_surnames if rest.startswith(c)), rest[0])
    after = rest[len(head):]
    return head in lexicon.compound_surnames or (
        head in lexicon.surnames and any(after[i:].startswith(lexicon.titles) or
                                         (i > 0 and (len(after) == i or not is_cjk(after[i])))
                                         for i in range(0, 3)))


# what may stand between a hand-over word and the department: "交给|药剂科", "递交|一下|药学部"
_BETWEEN_HAND_OVER = re.compile(r"(?:一下|直接|先|再|给|到|去)?\s*$")
# between the department and 签字 / 盖章: "找医务科|那边|签字", "医保办|去|盖章"
_BEFORE_SIGNING = re.compile(r"^\s*(?:那边|那里|那儿|去|来|的人)?\s*")
# "找药剂科|主任|签字": someone there signs, when the rep is to go to them for it
_SIGNER = re.compile(r"^(?:的)?(?:领导|主任|科长|处长|老师)")
_GO_TO = ("找", "请", "去")
_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\n]")
_TO_THE = re.compile(r"\bto\s+(?:the\s+)?$", re.IGNORECASE)


def handed_to(lexicon: Lexicon, text: str, department: Span) -> bool:
    """Whether `department` is where something is handed, not whose department it is:
    "把申请表交药剂科", "提交到药学部", "报给医务处", "找医务科签字", "submit the form to
    pharmacy". Such a department gives the customer no department and no role hint."""
    before = _CLAUSE_BREAK.split(text[:department.start])[-1].lower()
    words = lexicon.department_handed_to_before
    if before.rstrip().endswith(words) or _BETWEEN_HAND_OVER.sub("", before).endswith(words):
        return True
    after = _BEFORE_SIGNING.sub("", _CLAUSE_BREAK.split(text[department.end:])[0].lower(),
                                count=1)
    signer = _SIGNER.match(after) if before.rstrip().endswith(_GO_TO) else None
    if after[signer.end() if signer else 0:].startswith(lexicon.department_handed_to_after):
        return True
    if not _TO_THE.search(before):
        return False
    return any(re.search(r"\b" + re.escape(verb) + r"\b", before)
               for verb in lexicon.department_handed_to_verbs)
