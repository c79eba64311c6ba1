"""Spans of a note and the character classes the note reader works with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
    """The first of `words` (pass them longest first) that `text` ends with."""
    for word in words:
        if word and text.endswith(word):
            return word
    return None
