"""Spans of a note and the character classes the note reader works with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Span", "ends_with_any", "is_cjk", "overlaps"]


@dataclass(frozen=True, order=True)
class Span:
    """text[start:end] of the note, and the value it stands for (a department written 心内
    stands for 心内科)."""

    start: int
    end: int
    value: str


def is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def overlaps(spans: Iterable[Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def ends_with_any(text: str, words: Iterable[str]) -> str | None:
    """The first of `words` (pass them longest first) that `text` ends with. Word lists
    given as tuples (the lexicon's) are looked up by suffix: a note is read against them
    thousands of times."""
    if isinstance(words, tuple):
        lengths, known = _suffixes(words)
        for length in lengths:
            if len(text) >= length and text[-length:] in known:
                return text[-length:]
        return None
    for word in words:
        if word and text.endswith(word):
            return word
    return None


@lru_cache(maxsize=256)
def _suffixes(words: tuple[str, ...]) -> tuple[tuple[int, ...], frozenset[str]]:
    """The lengths of `words`, longest first, and the words: the longest match wins, as
    when the list is scanned longest first."""
    present = [w for w in words if w]
    return tuple(sorted({len(w) for w in present}, reverse=True)), frozenset(present)
