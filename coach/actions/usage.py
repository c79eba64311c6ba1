"""Whether a customer has used our product, from what the rep recorded: his stage (试用,
采纳), or a note that says so — a decline phrase that implies earlier use ("最近用我们的少了",
the log playbook's decline signals that name a stage) or a stage phrase of trial or adoption
("开始试用", "已经在用"). Advice that assumes use (share your experience at a department
meeting) or its absence (he has never used it) asks here first, so it never claims either
without grounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from coach.actions.regression import note_signals
from coach.actions.signals import find_signals
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

USING = ("trial", "adoption")  # stages at which a customer uses the product
LOOKBACK_DAYS = 180  # the notes read for words saying he used it
MAX_NOTES = 50


@dataclass(frozen=True)
class Usage:
    """What the record says about his use: `used` when anything says he used it; `phrase`
    the rep's words that say so (empty when his stage says it)."""

    used: bool
    phrase: str = ""


def usage(turn: Turn, account: Account) -> Usage:
    """See the module: his stage first, then his recent notes, newest first."""
    if account.stage in USING:
        return Usage(True)
    said = [s for s in note_signals(turn, ("decline",)) if s.get("stage")] + [
        s for s in note_signals(turn, ("stage",)) if s.get("value") in USING]
    if not said:
        return Usage(False)
    for note in turn.recent_notes([account.id], LOOKBACK_DAYS, limit=MAX_NOTES):
        found = find_signals(note.text, said)
        if found:
            return Usage(True, str(found[0]["phrase"]))
    return Usage(False)
