"""Regression: a customer moving back (seed 002, the Dr. Li story).

Dr. Li was the first to prescribe; when a generic arrived and colleagues had not followed, he
cooled, and sales fell. The course's lesson: catch it early, ask why, and answer with peer
sharing, KOL support, recognition at hospital level and care for the relationship, not with
the generic tactics of an earlier stage.

Evidence, from the last RECENT_DAYS:
- a stage diagnosed lower than the one before it;
- an open generic or competitor objection from a customer at evaluation or later;
- a note with a decline phrase (用得少了, 新进了仿制药, 一动不动 …) about a customer who is
  at evaluation or later, or not diagnosed yet (the phrase itself says they used it);
- a note hinting at an earlier stage than the one on record, written after that stage was
  recorded (the notes from before it are the way there, not a way back).

Each piece of evidence has a key; the rep is alerted once per episode (while any evidence
already shown is still recent, new evidence adds no second alert; `Account.risk_alerted`);
the customer stays at risk, with regression tactics first and no daily cap on suggestions,
as long as the evidence is recent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.signals import find_signals
from coach.playbook import STAGES
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

RECENT_DAYS = 30
REGRESSION_OBJECTIONS = ("generic", "competitor")
ADVANCED = ("evaluation", "trial", "adoption")  # stages a customer can fall back from
MAX_NOTES = 200  # the recent notes read for signs, newest first
REMEMBERED_ALERTS = 50  # evidence keys kept per customer

Evidence = dict[str, Any]


def note_signals(turn: Turn, kinds: tuple[str, ...]) -> list[Mapping[str, Any]]:
    """The log playbook's signals of the given kinds (its `content.signals`)."""
    free_text = turn.library.playbooks.get(turn.library.catalog.free_text.playbook)
    found = free_text.content.get("signals", []) if free_text is not None else []
    return [s for s in found if isinstance(s, Mapping) and s.get("kind") in kinds]


def _may_fall_back(account: Account) -> bool:
    return account.stage is None or account.stage in ADVANCED


def regressions(turn: Turn, accounts: Mapping[int, Account]) -> dict[int, list[Evidence]]:
    """Each customer of `accounts` moving back, with every piece of evidence, newest first.
    An item is {"key", "before", "after"} for a stage that went down, or {"key", "phrase"}
    for words the rep wrote."""
    since = turn.now - timedelta(days=RECENT_DAYS)
    order = {stage: index for index, stage in enumerate(STAGES)}
    ids = list(accounts)
    found: dict[int, list[Evidence]] = {}

    def add(account_id: int, evidence: Evidence) -> None:
        items = found.setdefault(account_id, [])
        if all(e["key"] != evidence["key"] for e in items):  # every item has every field
            items.append({"before": None, "after": None, "phrase": None, **evidence})

    recorded: dict[int, datetime] = {}  # when each customer's stage was last recorded
    for change in turn.store.stage_changes(ids):  # newest first
        recorded.setdefault(change.account_id, change.created_at)
        if change.created_at < since:
            continue
        before, after = order.get(change.previous_stage or ""), order.get(change.stage)
        if before is not None and after is not None and after < before:
            add(change.account_id, {
                "key": f"s{change.id}",
                "before": turn.library.stage_name(change.previous_stage, turn.locale),
                "after": turn.library.stage_name(change.stage, turn.locale)})
    for objection in turn.store.open_objections_of(ids):
        if (objection.kind in REGRESSION_OBJECTIONS and objection.created_at >= since
                and accounts[objection.account_id].stage in ADVANCED):
            add(objection.account_id, {"key": f"o{objection.id}", "phrase": objection.phrase})
    stage_signs = note_signals(turn, ("stage",))
    decline_signs = note_signals(turn, ("decline",))
    for note in turn.recent_notes(ids, RECENT_DAYS, limit=MAX_NOTES):
        account = accounts[note.account_id]
        if not _may_fall_back(account):
            continue
        for signal in find_signals(note.text, decline_signs):
            add(account.id, {"key": f"n{note.id}", "phrase": signal["phrase"]})
        last = recorded.get(account.id)
        if account.stage is None or (last is not None and note.created_at <= last):
            continue
        for signal in find_signals(note.text, stage_signs):
            if order[signal["value"]] < order[account.stage]:
                add(account.id, {"key": f"n{note.id}", "phrase": signal["phrase"]})
    return found


def at_risk(turn: Turn, account: Account) -> list[Evidence]:
    """The evidence that `account` is moving back (empty: not at risk)."""
    return regressions(turn, {account.id: account}).get(account.id, [])


def risk_words(turn: Turn, evidence: list[Evidence]) -> str:
    """The evidence as the rep reads it: 「用得少了」、阶段从采纳退回评估 (words that say
    the same thing twice, 仿制品 and 新进了仿制品, once)."""
    shown: list[Evidence] = []
    for item in evidence:
        phrase = item.get("phrase") or ""
        if phrase and any(p and (phrase in p or p in phrase)
                          for p in (s.get("phrase") for s in shown)):
            continue
        shown.append(item)
    return turn.message("regression_evidence", evidence=shown[:3])


def not_yet_alerted(turn: Turn, account: Account, evidence: list[Evidence]) -> list[Evidence]:
    """The evidence to alert the rep to: all of it when this is a new episode of moving
    back, none while the rep already knows of one (some of the recent evidence was shown
    before). Either way, everything now counts as shown."""
    seen = list(account.risk_alerted or [])
    fresh = [e for e in evidence if e["key"] not in seen]
    if fresh:
        account.risk_alerted = [*seen, *(e["key"] for e in fresh)][-REMEMBERED_ALERTS:]
    known_episode = any(e["key"] in seen for e in evidence)
    return [] if known_episode else fresh
