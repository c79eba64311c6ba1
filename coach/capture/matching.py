"""Which of the rep's customers a note is about: sure, ask, or new. Never a guess.

Filing a visit under the wrong doctor is worse than asking: the note, the follow-up and the
stage all land on someone else, and the rep rarely notices. So a customer is taken without
asking only when it is the same person's name, said the same way:

* the names are equal apart from the title (李主任 = "李 主任"; 王军 = "Wang Jun" through
  pinyin), and
* nothing contradicts it: not another hospital or department, not another kind of person
  (a 药师 and a 主任 of one surname are two people), and
* the title is the same rank (a note calling 李主任 "李医生" may mean someone else: asked), and
* no one else could be meant: another customer of that surname at that hospital is a rival
  unless the note calls the person by exactly the title on record.

A different given name is a different person (李晓明 ≠ 李主任, even at the same hospital):
such customers are offered as candidates beside "add 李晓明", never chosen for the rep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from coach.capture.lexicon import Lexicon, kind_of, rank_of, same_department, title_in
from coach.names import (
    CustomerQuery,
    departments_match,
    hospitals_compatible,
    hospitals_match,
    is_chinese,
    latin_words,
    name_key,
    pinyin_of,
    rank_candidates,
    surname_of,
)

__all__ = ["Mention", "Resolution", "resolve"]

T = TypeVar("T")

MAX_CANDIDATES = 20  # the picker shows five a page, "更多" for the rest
Fields = Callable[[T], tuple[str, str | None, str | None, str | None]]


@dataclass(frozen=True)
class Mention:
    """A customer as a note names them."""

    name: str  # as written, title included: 李主任, 王建国, Dr. Wang
    hospital: str | None = None
    department: str | None = None
    title: str | None = None

    @property
    def key(self) -> str:
        return name_key(self.name)

    def query(self) -> CustomerQuery:
        return CustomerQuery(self.name, self.hospital, self.department)


@dataclass(frozen=True)
class Resolution(Generic[T]):
    status: Literal["known", "ambiguous", "new"]
    account: T | None = None
    candidates: list[T] = field(default_factory=list)


@dataclass(frozen=True)
class _Row(Generic[T]):
    item: T
    name: str
    key: str
    hospital: str | None
    department: str | None
    title: str | None


class _Names:
    """Name comparisons across scripts: a Chinese key is compared with a Latin one in
    pinyin (王军 ~ wangjun); two Chinese keys are compared as characters (张 is not 章)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._pinyin: dict[str, str] = {}

    def latin(self, key: str) -> str:
        if not is_chinese(key):
            return key
        if key not in self._pinyin:
            self._pinyin[key] = pinyin_of(key, self.lexicon.surname_pinyin)
        return self._pinyin[key]

    def same(self, a: str, b: str) -> bool:
        if is_chinese(a) == is_chinese(b):
            return a == b
        return self.latin(a) == self.latin(b)

    def surname(self, key: str, name: str) -> str:
        if is_chinese(key):
            return surname_of(key)
        words = latin_words(name)
        return words[0] if words else key

    def same_surname(self, a: _Row[T] | Mention, b: _Row[T]) -> bool:
        sa, sb = self.surname(a.key, a.name), self.surname(b.key, b.name)
        if is_chinese(sa) == is_chinese(sb):
            return sa == sb
        return self.latin(sa) == self.latin(sb)


def _same_script(a: str, b: str) -> bool:
    """Two hospital or department names that can be compared word for word: "仁济医院" and
    "Renji Hospital" can (pinyin), "省人民医院" and "Provincial People's" cannot; those are
    neither a match nor a contradiction."""
    return a.isascii() == b.isascii() or hospitals_match(a, b)


def _conflicts(lexicon: Lexicon, mention: Mention, row: _Row[T]) -> bool:
    if mention.hospital and row.hospital and _same_script(mention.hospital, row.hospital) \
            and not hospitals_compatible(mention.hospital, row.hospital):
        return True
    if mention.department and row.department:
        same = same_department(lexicon, mention.department, row.department)
        if same is False or (same is None and mention.department.isascii()
                             == row.department.isascii()
                             and not departments_match(mention.department, row.department)):
            return True
    ours, theirs = kind_of(lexicon, mention.title), kind_of(lexicon, row.title)
    return ours is not None and theirs is not None and ours != theirs


def _surname_only(mention: Mention) -> bool:
    """李主任 or "Dr. Li": a name that says only the family, not which member of it."""
    key = mention.key
    if is_chinese(key):
        return key == surname_of(key)
    return len(latin_words(mention.name)) <= 1


def resolve(mention: Mention, accounts: Sequence[T], fields: Fields[T],
            lexicon: Lexicon) -> Resolution[T]:
    """Decide who `mention` is among `accounts` (most recent first). `fields` gives an
    account's (name, hospital, department, title)."""
    key = mention.key
    if not key:
        return Resolution("new")
    names = _Names(lexicon)
    # Two Chinese names of different families are never one person, nor rivals (司马 is not
    # 马): those rows are passed over before any work, which a rep with thousands of
    # customers would otherwise pay on every note.
    family = surname_of(key) if is_chinese(key) else None
    rows = []
    for item in accounts:
        name, hospital, department, title = fields(item)
        row_key = name_key(name)
        if family is not None and is_chinese(row_key) and surname_of(row_key) != family:
            continue
        rows.append(_Row(item, name, row_key, hospital, department,
                         title or title_in(lexicon, name)))
    exact = [r for r in rows if names.same(key, r.key) and not _conflicts(lexicon, mention, r)]
    ranked = [r for r, _ in rank_candidates(mention.query(), rows,
                                            lambda r: (r.name, r.hospital, r.department))]
    ranked += [r for r in rows if r not in ranked and names.same_surname(mention, r)
               and not _conflicts(lexicon, mention, r)]
    if len(exact) == 1:
        chosen = exact[0]
        ours, theirs = rank_of(lexicon, mention.title), rank_of(lexicon, chosen.title)
        rivals = [r for r in rows if r is not chosen and names.same_surname(mention, r)
                  and not _conflicts(lexicon, mention, r)
                  and (chosen.hospital is None or r.hospital is None
                       or hospitals_match(chosen.hospital, r.hospital))]
        same_rank = ours is None or theirs is None or ours == theirs
        if same_rank and (not _surname_only(mention) or not rivals
                          or (ours is not None and ours == theirs)):
            return Resolution("known", chosen.item)
    ordered = exact + [r for r in ranked if r not in exact]
    if ordered:
        return Resolution("ambiguous", None, [r.item for r in ordered][:MAX_CANDIDATES])
    return Resolution("new")
