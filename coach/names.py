"""Fuzzy lookup of a customer among one rep's own accounts.

A rep in a corridor types "李医生" and means the 李主任 at 泰山医院 they logged last week, or
types "Dr Li" for the "Li Wei" they created in English. The caller has already loaded this
rep's few dozen live accounts, so everything here is pure string work: no database, no
global index, and no cleverness that would be surprising on fifty rows.

* `name_key` reduces a name to what identifies the person: titles and honorifics (医生, 主任,
  Dr., …) go, as do spaces and punctuation, and Latin letters are lowercased. 李医生, 李主任,
  "李 主任" and 李主任医师 all become "李"; "Dr. Li" becomes "li". The key is stored in
  `accounts.name_key`, so changing it needs a data migration.
* `parse_customer_text` splits what the rep typed into a name, a hospital and a department.
* `rank_candidates` scores accounts against that query, best first.

Decision on Latin names: a query that is a single Latin word ("Dr Li" → "li") matches an
account whose name contains that word as a whole word ("Li Wei", "Wei Li"), scored like a
Chinese surname-only match, because pinyin names are written in either order and reps
address doctors by surname. It does not match inside a word ("li" does not find "Lisa").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeVar

__all__ = [
    "MIN_SCORE",
    "CustomerQuery",
    "departments_match",
    "hospital_key",
    "hospitals_compatible",
    "hospitals_match",
    "is_chinese",
    "latin_words",
    "name_key",
    "parse_customer_text",
    "pinyin_of",
    "rank_candidates",
    "surname_of",
    "written_alike",
]

T = TypeVar("T")

MIN_SCORE = 0.55
"""Candidates scoring below this are dropped: a list of weak guesses is worse than "not
found, create it?", which is what the picker offers when nothing is left."""

# Longest first, so 副主任医师 is removed whole rather than leaving 副 or 医师 behind.
_CN_TITLES: tuple[str, ...] = tuple(sorted(
    {
        "副主任医师", "主任医师", "主治医师", "住院医师", "副主任", "主任", "副院长", "院长",
        "副教授", "教授", "医生", "大夫", "医师", "药剂科", "药师", "老师", "科长", "护士长",
        "博士", "先生", "女士", "主治", "住院医", "住院总", "规培", "护士", "专家",
        "进修医生", "研究生", "博士后", "实习医生", "规培生", "助理",
    },
    key=len,
    reverse=True,
))
# Titles that end the name part of run-together text ("泰山医院李主任心内科"). 药剂科 is
# left out: in a query it is a department, not an honorific.
_SPLIT_TITLES = tuple(t for t in _CN_TITLES if t != "药剂科")
_LATIN_TITLES = re.compile(
    r"\b(?:dr|doctor|prof|professor|director|mr|mrs|ms|miss|president|dean|chief|"
    r"head nurse|nurse|pharmacist|resident|attending|fellow|vp)\b\.?", re.IGNORECASE
)
_PUNCTUATION_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)
_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟",
    "公孙", "长孙", "宇文", "独孤", "端木", "南宫", "西门", "轩辕", "申屠", "澹台", "百里",
})

_HOSPITAL_SUFFIXES = ("卫生院", "医院", "诊所", "中心", "院")
_HOSPITAL_WORDS = ("hospital", "clinic", "center", "centre")
_DEPARTMENT_SUFFIXES = ("科", "室")
_DEPARTMENT_WORDS = ("department", "dept", "dept.", "ward")
# English specialty names reps type for a department ("Dr Li, Taishan Hospital, Cardiology").
_SPECIALTY_ENDINGS = ("ology", "iatrics", "iatry", "surgery", "medicine", "pharmacy", "icu",
                      "emergency", "radiotherapy", "orthopedics", "orthopaedics")
_SEPARATORS = re.compile(r"[,，、;；|/\n\t]+")

# Score components, tuned so that the picker's "sure" threshold (0.9) is reached by an exact
# name key, or by a surname-only match confirmed by the hospital.
_EXACT = 1.0
_SURNAME_ONLY = 0.8  # the query is just a surname ("李医生") and the account's name starts with it
_QUERY_LONGER = 0.7  # the account has just a surname ("李主任") and the query a full name
_LATIN_TYPO = 0.8  # minimum difflib ratio for a one-word Latin query to count as a typo
_HOSPITAL_MATCH_GAIN = 0.6  # closes this share of the gap to 1.0
_HOSPITAL_MISMATCH = 0.6
_HOSPITAL_UNKNOWN = 0.9
_DEPARTMENT_MATCH_GAIN = 0.2
_DEPARTMENT_MISMATCH = 0.85


@dataclass(frozen=True)
class CustomerQuery:
    """What a rep typed to name a customer; empty `name` means nothing usable was typed."""

    name: str
    hospital: str | None = None
    department: str | None = None


def _normalise(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII) and lowercase, trimmed."""
    return unicodedata.normalize("NFKC", text).lower().strip()


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


@functools.lru_cache(maxsize=32768)
def name_key(name: str) -> str:
    """The comparable core of a person's name: no titles, spaces or punctuation, lowercase.

    A familiar prefix in a two-character name (老李, 小王) is dropped too. If stripping would
    leave nothing (an account literally named "药剂科" or "主任"), the name itself, minus
    spaces and punctuation, is the key, so department and hospital accounts stay findable.
    """
    text = _normalise(name)
    plain = _PUNCTUATION_OR_SPACE.sub("", text)
    stripped = _LATIN_TITLES.sub(" ", text)
    for title in _CN_TITLES:
        stripped = stripped.replace(title, " ")
    key = _PUNCTUATION_OR_SPACE.sub("", stripped)
    if len(key) == 2 and key[0] in "老小" and _is_cjk(key[1]):
        key = key[1]
    return key or plain


def written_alike(one: str, other: str) -> bool:
    """林芳 and 林芳主任, 张建国主任 and 张主任, 张科 and 张科长: one family name, one name
    written inside the other; most likely one person within one note."""
    a, b = name_key(one), name_key(other)
    return bool(a and b) and (a == b or (a[:1] == b[:1] and (a in b or b in a)))


def latin_words(name: str) -> list[str]:
    """The Latin words of a name after titles are removed ("Dr. Li Wei" → ["li", "wei"])."""
    return re.findall(r"[a-z]+", _LATIN_TITLES.sub(" ", _normalise(name)))


_HOSPITAL_SHORTHAND = (("附属", "附"), ("人民医院", "人医"), ("第", ""))
_ORDINAL_PEOPLE = re.compile(r"(?<=[一二三四五六七八九十0-9])人(?=医?$)")


def pinyin_of(text: str, surnames: dict[str, str] | None = None) -> str:
    """Chinese characters as toneless pinyin, run together ("王军" → "wangjun"), the family
    name read as a family name (单 → shan). Lets 王军 match an account written "Wang Jun"
    and 仁济 match "Renji". pypinyin is imported on first use: most reps never need it."""
    from pypinyin import lazy_pinyin

    surnames = surnames or {}
    head = ""
    for length in (2, 1):
        if text[:length] in surnames:
            head, text = surnames[text[:length]], text[length:]
            break
    return head + "".join(lazy_pinyin(text)).lower()


_CHINESE = re.compile("[\u3400-\u9fff\uf900-\ufaff]+")


def is_chinese(text: str) -> bool:
    """Whether `text` is all Chinese characters (a regex: asked of every customer's name
    for every note, so it must not be a Python loop over characters)."""
    return _CHINESE.fullmatch(text) is not None


def hospital_key(hospital: str) -> str:
    """A hospital name reduced for comparison: no spaces/punctuation, no generic suffix,
    and the shorthand reps type folded in: 市第一人民医院, 市一院 and 市一医院 share the key
    "市一"; 省人民医院 and 省人医 share "省人"; 附属第二医院 and 附二院 share "附二"."""
    key = _PUNCTUATION_OR_SPACE.sub("", _normalise(hospital))
    whole = key
    for long, short in _HOSPITAL_SHORTHAND:
        key = key.replace(long, short)
    key = _ORDINAL_PEOPLE.sub("", key)
    if key.endswith("人民") and len(key) > 2:
        key = key[:-2] + "人医"  # 市人民 is 市人民医院
    for suffix in (*_HOSPITAL_SUFFIXES, "人医", "医", *_HOSPITAL_WORDS):
        if key.endswith(suffix):
            key = key[: -len(suffix)] or key
            break
    return key or whole


def _ends_with_any(text: str, suffixes: Sequence[str]) -> bool:
    return any(text.endswith(s) for s in suffixes)


def _kind(token: str) -> str:
    """"name", "hospital" or "department" for one piece of the rep's text."""
    low = _normalise(token)
    if _ends_with_any(low, _SPLIT_TITLES) or _LATIN_TITLES.fullmatch(low):
        return "name"
    words = low.split()
    if _ends_with_any(low, _HOSPITAL_SUFFIXES) or (words and words[-1] in _HOSPITAL_WORDS):
        return "hospital"
    if _ends_with_any(low, _DEPARTMENT_SUFFIXES) or any(w in _DEPARTMENT_WORDS for w in words):
        return "department"
    if words and all(w.isascii() for w in words) and words[-1].endswith(_SPECIALTY_ENDINGS):
        return "department"
    return "name"


def _split_run_together(token: str) -> list[str]:
    """Split Chinese text typed without spaces: "泰山医院心内科李主任" → 3 pieces.

    A title ends the name ("李主任|泰山医院"); a hospital suffix followed by more text ends
    the hospital ("泰山医院|心内科"); and a name with a title may be preceded by a hospital
    or department ("心内科|李主任"), the name core then being one to four characters.
    """
    for title in _SPLIT_TITLES:
        at = token.find(title)
        if at > 0 and at + len(title) < len(token):
            end = at + len(title)
            return _split_run_together(token[:end]) + _split_run_together(token[end:])
    if _ends_with_any(token, _SPLIT_TITLES):
        title = next(t for t in _SPLIT_TITLES if token.endswith(t))
        head = token[: -len(title)]
        for core in range(1, min(4, len(head) - 1) + 1):
            prefix = head[:-core]
            if _ends_with_any(prefix, ("医院", "卫生院", "诊所", "中心", *_DEPARTMENT_SUFFIXES)):
                return [*_split_run_together(prefix), token[len(prefix):]]
        return [token]
    match = re.match(r"^(.+(?:卫生院|医院|诊所|中心))(.+)$", token)
    if match:
        return [match[1], *_split_run_together(match[2])]
    return [token]


def _merge_latin(words: list[str]) -> list[str]:
    """Join "Taishan Hospital" and "Cardiology Dept": a suffix word takes the word before it."""
    merged: list[str] = []
    for word in words:
        low = word.lower()
        if merged and (low in _HOSPITAL_WORDS or low in _DEPARTMENT_WORDS) and _kind(
            merged[-1]
        ) == "name" and not _LATIN_TITLES.fullmatch(merged[-1].lower()):
            merged[-1] = f"{merged[-1]} {word}"
        else:
            merged.append(word)
    return merged


def parse_customer_text(text: str) -> CustomerQuery:
    """Split "李主任 泰山医院 心内科" (any order, any separator) into name/hospital/department.

    Pieces are told apart by their endings: 医院/院/中心/卫生院/诊所/hospital make a
    hospital, 科/室/department/dept a department, a title makes a name, and anything else is
    part of the name. The first hospital and department win; a second hospital-like piece
    becomes the department if none was given ("检验中心"). Without any name piece, the
    department (else the hospital) is the name, so department and hospital accounts can be
    looked up too. Multi-word English hospitals are best separated by commas.
    """
    names: list[str] = []
    hospital: str | None = None
    department: str | None = None
    chunks = _SEPARATORS.split(unicodedata.normalize("NFKC", text))
    separated = len([c for c in chunks if c.strip()]) > 1
    for chunk in chunks:
        chunk = chunk.strip()
        if not chunk:
            continue
        first_word = chunk.split()[0].lower()
        if (chunk.isascii() and separated and _kind(chunk) != "name"
                and not _LATIN_TITLES.fullmatch(first_word)):
            pieces = [chunk]  # "Taishan People's Hospital" given between commas
        else:
            pieces = []
            for word in _merge_latin(chunk.split()):
                pieces.extend(_split_run_together(word) if not word.isascii() else [word])
        for piece in pieces:
            kind = _kind(piece)
            if kind == "hospital" and hospital is not None and _weak_hospital(hospital) \
                    and not _weak_hospital(piece):
                # "检验中心 泰山医院": the 医院 is the hospital, the 中心 a department in it
                hospital, piece, kind = piece, hospital, "department"
            if kind == "hospital" and hospital is None:
                hospital = piece
            elif kind in ("hospital", "department"):
                department = piece if department is None else department
            else:
                names.append(piece)
    name = _join_name(names)
    if not name and department is not None:
        name, department = department, None
    elif not name and hospital is not None:
        name, hospital = hospital, None
    return CustomerQuery(name=name, hospital=hospital, department=department)


def _weak_hospital(piece: str) -> bool:
    """A 中心 or bare 院 may be a unit inside a hospital rather than the hospital itself."""
    low = _normalise(piece)
    return not _ends_with_any(low, ("医院", "卫生院", "诊所", *_HOSPITAL_WORDS))


def _join_name(pieces: list[str]) -> str:
    """Chinese pieces join without a space ("李" + "主任"), Latin ones with one."""
    name = ""
    for piece in pieces:
        if name and (name[-1].isascii() and piece[0].isascii()):
            name += " "
        name += piece
    return name


def surname_of(key: str) -> str:
    """The surname at the start of a Chinese name key (compound surnames whole)."""
    if key[:2] in _COMPOUND_SURNAMES:
        return key[:2]
    return key[:1]


def _name_score(query_name: str, query_key: str, name: str) -> float:
    key = name_key(name)
    if not key:
        return 0.0
    if key == query_key:
        return _EXACT
    if _is_cjk(query_key[0]) and _is_cjk(key[0]):
        if query_key == surname_of(key):
            return _SURNAME_ONLY
        if key == surname_of(query_key):
            return _QUERY_LONGER
        if surname_of(query_key) != surname_of(key):
            return 0.0  # another family (司马 is not 马): never a candidate
        return SequenceMatcher(None, query_key, key).ratio()
    query_words = latin_words(query_name)
    words = latin_words(name)
    if len(query_words) == 1 and words:
        # One word ("Dr Li"): a whole word of the name, allowing a typo ("zhnag"), but not a
        # prefix ("li" must not find "Lisa").
        best = max(SequenceMatcher(None, query_words[0], word).ratio() for word in words)
        if best == 1.0:
            return _SURNAME_ONLY
        return best * _SURNAME_ONLY if best >= _LATIN_TYPO else 0.0
    if len(words) == 1 and words[0] in query_words:
        return _QUERY_LONGER
    return SequenceMatcher(None, query_key, key).ratio()


_ORDINAL_TAIL = re.compile(r"(?:附([一二三四五六七八九十])|([一二三四五六七八九十])附?)$")


def _ordinal(key: str) -> str | None:
    """The number a hospital key ends with (湘雅二 → 二, 郑大一附 → 一), None for none."""
    found = _ORDINAL_TAIL.search(key) if len(key) > 1 else None
    return (found.group(1) or found.group(2)) if found else None


def _ordinals_differ(ka: str, kb: str) -> bool:
    """湘雅二院 is not 湘雅医院, nor 市一院 市二院: a number that differs, or stands on one
    side only, makes two hospitals of one name."""
    return is_chinese(ka[:1]) and is_chinese(kb[:1]) and _ordinal(ka) != _ordinal(kb)


@functools.lru_cache(maxsize=32768)  # pure; a turn compares the same few names many times
def hospitals_match(a: str, b: str) -> bool:
    ka, kb = hospital_key(a), hospital_key(b)
    if not ka or not kb or _ordinals_differ(ka, kb):
        return False
    if is_chinese(ka) != is_chinese(kb) and ka.isascii() != kb.isascii():
        ka, kb = (pinyin_of(k) if is_chinese(k) else k for k in (ka, kb))
    if ka == kb or (min(len(ka), len(kb)) >= 2 and (ka in kb or kb in ka)):
        return True
    return SequenceMatcher(None, ka, kb).ratio() >= 0.75


def hospitals_compatible(a: str, b: str) -> bool:
    """Whether two hospital names may name one hospital: they match, or one is written as
    a shorthand of the other (中肿 of 中山大学肿瘤防治中心: its characters in order)."""
    if hospitals_match(a, b):
        return True
    ka, kb = sorted((hospital_key(a), hospital_key(b)), key=len)
    if not ka or not is_chinese(ka) or not is_chinese(kb) or _ordinals_differ(ka, kb):
        return False
    rest = iter(kb)
    return all(char in rest for char in ka)


def departments_match(a: str, b: str) -> bool:
    ka = _PUNCTUATION_OR_SPACE.sub("", _normalise(a))
    kb = _PUNCTUATION_OR_SPACE.sub("", _normalise(b))
    return bool(ka and kb) and (ka == kb or ka in kb or kb in ka)


def rank_candidates(
    query: CustomerQuery,
    candidates: Sequence[T],
    key: Callable[[T], tuple[str, str | None, str | None]],
) -> list[tuple[T, float]]:
    """Candidates that plausibly are the customer the rep meant, with scores, best first.

    The name decides (exact key 1.0, surname-only 0.8, otherwise a difflib ratio; two Chinese
    names of different families are never candidates for each other); a hospital given in
    the query then pulls agreeing candidates up and disagreeing ones down, and a department
    nudges the same way more gently. Scores are in 0..1, those below `MIN_SCORE` are
    dropped, and ties keep the caller's order (the caller passes accounts most recent
    first).
    """
    query_key = name_key(query.name)
    if not query_key:
        return []
    scored: list[tuple[T, float]] = []
    for candidate in candidates:
        name, hospital, department = key(candidate)
        score = _name_score(query.name, query_key, name or "")
        if score <= 0.0:
            continue
        if query.hospital:
            if not hospital:
                score *= _HOSPITAL_UNKNOWN
            elif hospitals_match(query.hospital, hospital):
                score += (1.0 - score) * _HOSPITAL_MATCH_GAIN
            else:
                score *= _HOSPITAL_MISMATCH
        if query.department and department:
            if departments_match(query.department, department):
                score += (1.0 - score) * _DEPARTMENT_MATCH_GAIN
            else:
                score *= _DEPARTMENT_MISMATCH
        score = round(min(max(score, 0.0), 1.0), 4)
        if score >= MIN_SCORE:
            scored.append((candidate, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored
