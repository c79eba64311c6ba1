"""What the rep has already found out about a customer's hospital, so advice does not send
him to find it out again: a formulary committee (药事会) with a date ahead in the notes
(coach/actions/events.py), or the product already listed there ("已经在华康进院了").

A tactic or an objection answer that asks for such a fact names it in `unless_known`
(`formulary_date`, `listed`) and is skipped once the fact is known; one that should still be
given, worded for what is known ("药事会12月22日开：倒排申请材料"), has a variant under
`when_known`. The listing phrases are the tactic playbook's `content.known_facts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.actions.dates import date_view
from coach.actions.events import Person, hospital_events
from coach.actions.signals import find_signals
from coach.names import hospitals_match
from coach.store.models import Account
from coach.store.repo import CACHED_ACCOUNTS

if TYPE_CHECKING:
    from coach.context import Turn
    from coach.playbook import Playbook

FACTS = ("formulary_date", "listed")
LOOKBACK_DAYS = 180
FORMULARY = "formulary"  # the hospital playbook's event kind for the 药事会
EVENTS_PLAYBOOK = "hospital"


def hospital_people(turn: Turn, account: Account) -> list[Person]:
    """Everyone at `account`'s hospital (him alone when no hospital is recorded): matched
    once a turn, against the rep's accounts as names and places only (a few columns)."""
    if account.id not in turn.peers:
        people: list[Person] = [account]
        if account.hospital:
            people = [a for a in turn.store.account_entries()
                      if a.hospital and hospitals_match(a.hospital, account.hospital)] or people
        turn.peers[account.id] = people
    return list(turn.peers[account.id])


def read_hospital_notes(turn: Turn, account: Account) -> None:
    """Read the recent notes of everyone at `account`'s hospital in one round trip, before
    a coaching turn's readers ask for them: regression reads his own first, the known
    facts (events, "already listed") his colleagues' after, and would read again. Too
    many colleagues to keep per turn (`CACHED_ACCOUNTS`) are read by each reader."""
    ids = [p.id for p in hospital_people(turn, account)]
    if len(ids) <= CACHED_ACCOUNTS:
        turn.recent_notes(ids, LOOKBACK_DAYS)


def known_facts(turn: Turn, playbook: Playbook, account: Account) -> dict[str, Any]:
    """The FACTS the notes of everyone at `account`'s hospital (his own when no hospital
    is recorded) already tell, each with what a text may say of it: the 药事会's date as
    templates show dates, with how much of it the notes gave (`formulary_date`: the soonest
    ahead; `span` day, week or month), True for `listed`."""
    people = hospital_people(turn, account)
    known: dict[str, Any] = {}
    events_playbook = turn.library.playbooks.get(EVENTS_PLAYBOOK)
    events = (events_playbook.content.get("events") or {}) if events_playbook else {}
    if FORMULARY in events:
        meetings = [e for e in hospital_events(turn, people, {FORMULARY: events[FORMULARY]})
                    if e.kind == FORMULARY]  # soonest first
        if meetings:  # `span`: day, week or month, as much as the note said
            known["formulary_date"] = {**(date_view(meetings[0].day, turn.local_now.date())
                                          or {}), "span": meetings[0].span}
    phrases = (playbook.content.get("known_facts") or {}).get("listed")
    if phrases:
        signal = {"kind": "listed", "phrases": phrases}
        if any(find_signals(note.text, [signal])
               for note in turn.recent_notes([a.id for a in people], LOOKBACK_DAYS)):
            known["listed"] = True
    return known
