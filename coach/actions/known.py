"""What the rep has already found out about a customer's hospital, so advice does not send
him to find it out again: a formulary committee (药事会) with a date ahead in the notes
(coach/actions/events.py), or the product already listed there ("已经在华康进院了").

A tactic or an objection answer that asks for such a fact names it in `unless_known`
(`formulary_date`, `listed`) and is skipped once the fact is known. The listing phrases are
the tactic playbook's `content.known_facts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.actions.events import Person, hospital_events
from coach.actions.signals import find_signals
from coach.names import hospitals_match
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn
    from coach.playbook import Playbook

FACTS = ("formulary_date", "listed")
LOOKBACK_DAYS = 180
FORMULARY = "formulary"  # the hospital playbook's event kind for the 药事会
EVENTS_PLAYBOOK = "hospital"


def known_facts(turn: Turn, playbook: Playbook, account: Account) -> set[str]:
    """The FACTS the notes of everyone at `account`'s hospital (his own when no hospital
    is recorded) already tell."""
    people: list[Person] = [account]
    if account.hospital:  # names and places only: a few columns, read once a turn
        people = [a for a in turn.store.account_entries()
                  if a.hospital and hospitals_match(a.hospital, account.hospital)] or people
    known: set[str] = set()
    events_playbook = turn.library.playbooks.get(EVENTS_PLAYBOOK)
    events = (events_playbook.content.get("events") or {}) if events_playbook else {}
    if FORMULARY in events and any(
            e.kind == FORMULARY for e in hospital_events(turn, people,
                                                         {FORMULARY: events[FORMULARY]})):
        known.add("formulary_date")
    phrases = (playbook.content.get("known_facts") or {}).get("listed")
    if phrases:
        signal = {"kind": "listed", "phrases": phrases}
        if any(find_signals(note.text, [signal])
               for note in turn.recent_notes([a.id for a in people], LOOKBACK_DAYS)):
            known.add("listed")
    return known
