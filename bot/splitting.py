"""Splitting long replies into messages a platform accepts, on the most natural boundary.

Telegram counts characters (after HTML escaping), WeCom counts UTF-8 bytes: one splitter
serves both through `measure`. Paragraph breaks are preferred, then line breaks, then
spaces; only a single over-long word is cut, and then between characters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Measure = Callable[[str], int]
SEPARATORS: tuple[str, ...] = ("\n\n", "\n", " ")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _hard_split(text: str, limit: int, measure: Measure) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        n = measure(ch)
        if size + n > limit and current:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    if current:
        chunks.append("".join(current))
    return chunks


def _split(text: str, limit: int, separators: Sequence[str], measure: Measure) -> list[str]:
    if measure(text) <= limit:
        return [text]
    if not separators:
        return _hard_split(text, limit, measure)
    sep, finer = separators[0], separators[1:]
    sep_len = measure(sep)
    chunks: list[str] = []
    current: str | None = None
    for piece in text.split(sep):
        piece_len = measure(piece)
        if piece_len > limit:
            if current is not None:
                chunks.append(current)
                current = None
            chunks.extend(_split(piece, limit, finer, measure))
        elif current is None:
            current = piece
        elif measure(current) + sep_len + piece_len <= limit:
            current = current + sep + piece
        else:
            chunks.append(current)
            current = piece
    if current is not None:
        chunks.append(current)
    return chunks


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """Pieces of `text`, each at most `limit` by `measure`, in order; blank pieces dropped.

    Text that fits is returned unchanged. The separator at a cut and line breaks at the edges
    of a piece are dropped, since each piece becomes its own message.
    """
    if limit < 4:
        raise ValueError("limit must leave room for any character (>= 4)")
    if measure(text) <= limit:
        return [text] if text.strip() else []
    pieces = _split(text, limit, SEPARATORS, measure)
    return [p.strip("\n") for p in pieces if p.strip()]
