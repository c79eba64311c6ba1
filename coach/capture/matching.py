"""Which of the rep's customers a note is about: sure, ask, or new. Never a guess.

Filing a visit under the wrong doctor is worse than asking: the note, the follow-up and the
stage all land on someone else, and the rep rarely notices. So a customer is taken without
asking only when the name is the same person's name:

* the name keys are equal (titles and spaces aside: 李医生 = 李主任, "Dr. Li" = "Li"), and
* nothing contradicts it: not another hospital or department, not another kind of title
  (a 药师 is not a 主任), and
* no one else could be meant: another customer of that surname at that hospital is a
  rival unless the note calls the person by exactly the title on record.

A different given name is a different person (李晓明 ≠ 李主任, even at the same hospital):
such customers are offered as candidates beside "add 李晓明", never chosen for the rep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from coach.names import (
    CustomerQuery,
    departments_match,
    hospitals_match,
    latin_words,
    name_key,
    rank_candidates,
    surname_of,
)

__all__ = ["Mention", "Resolution", "resolve", "title_group"]

T = TypeVar("T")

MAX_CANDIDATES = 5

# Titles by kind of person: two titles of different groups are two different people.
_GROUPS: dict[str, tuple[str, ...]] = {
    "doctor": ("主任医师", "副主任医师", "主治医师", "住院医师", "副主任", "主任", "主治", "住院医",
               "规培", "医生", "大夫", "医师", "教授", "博士", "老师", "专家", "dr", "doctor",
               "prof", "professor", "director"),
    "pharmacist": ("药剂科主任", "药剂科", "药学部", "药师", "pharmacist"),
    "nurse": ("护士长", "护士", "nurse"),
    "leader": ("副院长", "院长", "书记", "处长", "科长", "部长", "president", "dean"),
}


def title_group(title: str | None) -> str | None:
    """"doctor", "pharmacist", "nurse", "leader", or None for no or unknown title."""
    if not title:
        return None
    low = title.lower().strip(". ")
    for group, titles in _GROUPS.items():
        if any(low == t or low.endswith(t) for t in titles):
            return group
    return None


def title_in(name: str) -> str | None:
    """The title a stored name carries at its end ("李主任" → "主任"), if any."""
    low = name.lower()
    found = [t for titles in _GROUPS.values() for t in titles if low.endswith(t)]
    return max(found, key=len) if found else None


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


def _conflicts(mention: Mention, row: _Row[T]) -> bool:
    if mention.hospital and row.hospital and not hospitals_match(mention.hospital, row.hospital):
        return True
    if mention.department and row.department and not departments_match(mention.department,
                                                                        row.department):
        return True
    ours, theirs = title_group(mention.title), title_group(row.title)
    return ours is not None and theirs is not None and ours != theirs


def _surname_only(mention: Mention) -> bool:
    """李主任 or "Dr. Li": a name that says only the family, not which member of it."""
    key = mention.key
    if key and _is_cjk(key[0]):
        return key == surname_of(key)
    return len(latin_words(mention.name)) <= 1


def _same_surname(key: str, other: str) -> bool:
    if key and other and _is_cjk(key[0]) and _is_cjk(other[0]):
        return surname_of(key) == surname_of(other)
    return (bool(key) and other.startswith(key)) or other.endswith(key)


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def resolve(mention: Mention, accounts: Sequence[T],
            fields: Callable[[T], tuple[str, str | None, str | None, str | None]]
            ) -> Resolution[T]:
    """Decide who `mention` is among `accounts` (most recent first). `fields` gives an
    account's (name, hospital, department, title)."""
    key = mention.key
    if not key:
        return Resolution("new")
    rows = []
    for item in accounts:
        name, hospital, department, title = fields(item)
        rows.append(_Row(item, name, name_key(name), hospital, department,
                         title or title_in(name)))
    exact = [r for r in rows if r.key == key and not _conflicts(mention, r)]
    ranked = [item for item, _ in rank_candidates(
        mention.query(), rows, lambda r: (r.name, r.hospital, r.department))]
    candidates = [r.item for r in ranked][:MAX_CANDIDATES]
    if len(exact) == 1:
        chosen = exact[0]
        rivals = [r for r in rows if r is not chosen and _same_surname(key, r.key)
                  and not _conflicts(mention, r)
                  and (chosen.hospital is None or r.hospital is None
                       or hospitals_match(chosen.hospital, r.hospital))]
        same_title = bool(mention.title) and (mention.title or "").lower() == (
            chosen.title or "").lower()
        if not _surname_only(mention) or not rivals or same_title:
            return Resolution("known", chosen.item)
    if exact:
        ordered = [r.item for r in exact] + [c for c in candidates
                                             if all(c is not r.item for r in exact)]
        return Resolution("ambiguous", None, ordered[:MAX_CANDIDATES])
    if candidates:
        return Resolution("ambiguous", None, candidates)
    return Resolution("new")
