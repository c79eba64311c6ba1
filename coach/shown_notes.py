"""A visit note as a plan document shows it (客户发展计划书, 医院客户计划, 辅导报告).

The store keeps a note as the compliance guard left it: personal data and per-doctor
prescription numbers replaced by placeholders (`[处方数/Rx count]`, `[患者姓名/patient name]`),
and sometimes a flagged (统方) statement. Printed as it is, a placeholder reads as if it were
the content. So a document shows the note without the clauses the guard removed something
from or flagged, followed by one short mark that content was removed for compliance
(system message `note_trimmed`); a note with nothing left is that mark alone. Every document
calls `shown_note`, so they all read the same.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.context import Turn

#: A clause with the punctuation that ends it (the last one may end the text instead).
CLAUSE = re.compile(r"[^，。；！？,;!?\n]+[，。；！？,;!?\n]*")
#: Punctuation that would dangle at the end once later clauses are left out.
TRAILING = "，,；;、：: \n"


def trimmed(turn: Turn, text: str) -> tuple[str, bool]:
    """`text` without the clauses holding a placeholder or a flagged phrase, and whether
    anything was left out. Without a compliance guard there is nothing to know: unchanged."""
    guard = turn.library.guard
    if guard is None or not text:
        return text, False
    flagged = [(f.start, f.end) for f in guard.check(text).flags]
    kept: list[str] = []
    left_out = False
    for match in CLAUSE.finditer(text):
        start, end = match.span()
        if guard.rules.placeholders.search(match.group()) or any(
                s < end and start < e for s, e in flagged):
            left_out = True
            continue
        kept.append(match.group())
    if not left_out:
        return text, False
    shown = "".join(kept).rstrip(TRAILING)
    return shown, True


def shown_note(turn: Turn, text: str) -> str:
    """The note (or a phrase quoted from one) as a document prints it: see the module."""
    shown, left_out = trimmed(turn, text)
    return turn.message("note_trimmed", text=shown) if left_out else shown
