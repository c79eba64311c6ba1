"""The customer's pronoun as the rep writes it: a tactic's text says 他 / he by default;
when the rep's latest note that names the customer with a pronoun says 她 / she, the tip
says 她 / she too, so coaching about 李医生 does not call her 他.

The cues (which words in a note say she or he) and the swaps (他 → 她, him → her …) are
language data in the next playbook's `content.pronouns`; this module only applies them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from coach.capture.people import find_people
from coach.capture.tellers import told_parts
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

NOTES_READ = 5  # the customer's latest notes: the newest one with a pronoun decides
# within the look-back the turn's other readers share (coach.context.NOTES_WINDOW_DAYS):
# the notes are then read once a turn (tests/test_turn_statements.py counts it)
NOTES_DAYS = 180


def _count(patterns: list[str], text: str) -> int:
    return sum(len(re.findall(str(p), text, re.IGNORECASE)) for p in patterns)


def customers_words(turn: Turn, account: Account, text: str) -> str:
    """The parts of `text` where a pronoun speaks of `account`: a pronoun speaks of the
    person named last before it, so what follows another person ("另外吴医生也在，她说…",
    "旁边护士长林姐说…，她…", trial F) is left out; before anyone is named, the customer."""
    lexicon = turn.library.lexicon
    mentions = [(p.span.start, p.name == account.name or account.name in p.span.value)
                for p in find_people(lexicon, text, [], [account.name])]
    mentions += [(part.start, False) for part in told_parts(lexicon, text, [account.name])]
    if all(customer for _, customer in mentions):
        return text
    pieces: list[str] = []
    position, theirs = 0, True
    for start, customer in sorted(mentions):
        if theirs:
            pieces.append(text[position:start])
        position, theirs = start, customer
    if theirs:
        pieces.append(text[position:])
    return "\n".join(pieces)


def written_pronoun(turn: Turn, account: Account, spec: Mapping[str, Any]) -> str | None:
    """"she" or "he" as the rep's newest note on `account` that holds either says (more
    of one than the other) in the customer's own parts (`customers_words`), else None."""
    cues = spec.get("cues") or {}
    for note in turn.recent_notes([account.id], NOTES_DAYS, limit=NOTES_READ):
        text = customers_words(turn, account, note.text)
        she, he = _count(cues.get("she") or [], text), _count(cues.get("he") or [], text)
        if she != he:
            return "she" if she > he else "he"
    return None


def as_written(turn: Turn, account: Account, text: str, spec: Mapping[str, Any]) -> str:
    """`text` (a tactic's, written with 他 / he) with the pronoun the rep uses for
    `account`: the playbook's `swaps` for the rep's language when that is "she"."""
    if not spec or written_pronoun(turn, account, spec) != "she":
        return text
    for swap in (spec.get("swaps") or {}).get(turn.locale) or []:
        text = re.sub(str(swap["from"]), str(swap["to"]), text)
    return text


def as_customer_written(turn: Turn, text: str) -> str:
    """A step's `text` that speaks of the current customer as 他 / he (a step marked
    `pronoun: true`: the /stage questions, the prompt to log a visit), with the pronoun
    the rep writes for that customer; as it is without a customer or a pronoun spec."""
    account = turn.account()
    spec = next((p.content["pronouns"] for p in turn.library.playbooks.values()
                 if isinstance(p.content.get("pronouns"), Mapping)), None)
    return as_written(turn, account, text, spec) if account is not None and spec else text
