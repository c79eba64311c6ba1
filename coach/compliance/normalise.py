"""Text as every rule reads it: NFKC, invisible characters removed.

NFKC makes full-width digits and letters ASCII and ① a 1; format characters (zero-width
spaces and joiners, BOM, bidi marks: Unicode category Cf) and other controls are removed, as
they split words invisibly and defeat every rule; new lines and tabs stay. Chinese punctuation
stays as typed (，。：？ are part of a rep's note) except inside an identifier, where NFKC's
ASCII form is what the rules must see: abc＠qq．com, 138－1234－5678.

The door applies it to every typed text; the guard applies it again to whatever it is given
(it is idempotent), so no caller can hand the rules a text they cannot read.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_text"]

_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_KEPT_CONTROLS = frozenset("\n\t")
# Full-width punctuation of Chinese typing, kept as typed between words.
_CJK_PUNCTUATION = frozenset(
    [chr(c) for c in (*range(0xFF01, 0xFF10), *range(0xFF1A, 0xFF21), *range(0xFF3B, 0xFF41),
                      *range(0xFF5B, 0xFF66))] + ["\u2026", "\u2014", "\u00b7"])


# Characters NFKC leaves alone and that are never dropped: a text made only of these (most
# notes) is returned as it is, without the per-character work.
_STABLE = re.compile(r"[\n\t\u0020-\u007e\u4e00-\u9fff\u3001-\u303f]*")


def _identifier_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def normalise_text(text: str) -> str:
    """`text` as the rules read it (see the module docstring); not stripped."""
    if _STABLE.fullmatch(text):
        return text
    kept = [ch for ch in text
            if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in _DROPPED]
    out: list[str] = []
    for index, char in enumerate(kept):
        if char in _CJK_PUNCTUATION:
            before = unicodedata.normalize("NFKC", kept[index - 1]) if index else ""
            after = unicodedata.normalize("NFKC", kept[index + 1]) if index + 1 < len(kept) else ""
            if not (before[-1:] and _identifier_char(before[-1])
                    and after[:1] and _identifier_char(after[:1])):
                out.append(char)
                continue
        out.append(unicodedata.normalize("NFKC", char))
    return "".join(out)
