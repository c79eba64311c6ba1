"""The parts of a note told by someone other than the customer who has no name to log a
visit for (trial F finding 2): "…旁边护士长林姐说有个病人用了以后一直头晕", "科里一个护士说…",
"their pharmacist mentioned a patient with a rash".

What they told is not the customer's words: a safety report in it is not filed under the
customer (coach/actions/visits.py), and their 她 / she does not make the customer 她
(coach/actions/pronoun.py). A part runs from the words that introduce the person
(lexicon `told_by`) to the end of the sentence, or to the customer's name said again.
Words that name the customer ("林护士长说" when 林护士长 is the customer) are no other person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coach.capture.lexicon import Lexicon

__all__ = ["Told", "told_parts"]

_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")


@dataclass(frozen=True)
class Told:
    start: int
    end: int
    who: str  # the person as written: 护士长林姐, 科里一个护士, their pharmacist


def _mentions(text: str, names: Sequence[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for name in names:
        if name:
            spans += [m.span() for m in re.finditer(re.escape(name), text, re.IGNORECASE)]
    return sorted(spans)


_SAID = re.compile(r"说|讲|提到|提了|反映|告诉|聊到|\b(?:said|says|mentioned|told)\b",
                   re.IGNORECASE)


def _relayed(text: str, start: int, named: Sequence[tuple[int, int]]) -> bool:
    """Whether the customer, named earlier in the same sentence, is the one telling what
    the other person said ("周主任说他们科一个护士反映…")."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    sentence = ends[-1] if ends else 0
    return any(sentence <= s and e <= start and _SAID.search(text, e, start)
               for s, e in named)


def told_parts(lexicon: Lexicon, text: str, customer: Sequence[str]) -> list[Told]:
    """The parts of `text` told by another person with no name; `customer`: the ways the
    note may name the customer (周主任, Dr. Zhou)."""
    named = _mentions(text, customer)
    parts: list[Told] = []
    for pattern in lexicon.told_by:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(s < end and start < e for s, e in named):
                continue  # the customer's own title (林护士长说)
            if _relayed(text, start, named):
                continue  # "周主任说他们科一个护士反映…": the customer tells it
            if any(p.start <= start < p.end for p in parts):
                continue
            stop = _SENTENCE_END.search(text, end)
            hi = stop.start() if stop else len(text)
            hi = min([hi, *(s for s, _ in named if s >= end)])
            who = (match.group("who") if "who" in pattern.groupindex else None) or match.group()
            parts.append(Told(start, hi, who.strip()))
    return sorted(parts, key=lambda p: p.start)
