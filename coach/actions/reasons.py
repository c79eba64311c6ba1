"""Why a customer cooled, once the rep has recorded it (seed 002: 先弄清原因，再对症处理).

The course's first step with a customer moving back is to find the cause. Once the rep
knows it, asking again wastes the visit: advice, alerts and crisis responses use it. The
cause is read from what the rep recorded for the customer lately (RECENT_DAYS): an open
objection of a kind that explains cooling (仿制药, 竞品, 价格, 安全性), or a phrase in a note
or a one-line lesson (竞品代表天天去, 医保限额, 担心副作用, 一个病人效果不好 …), or the words
the rep typed turning a suggestion down ("他不是担心仿制药质量，是科里有集采用量考核"). The newest
wins. The reasons and their phrases are the tactic playbook's `content.cooling_reasons`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from coach.actions.registry import ContentIssue
from coach.actions.regression import RECENT_DAYS
from coach.actions.signals import find_signals
from coach.store.models import Account, Lesson, Suggestion

if TYPE_CHECKING:
    from coach.context import Turn
    from coach.playbook import Playbook

UNKNOWN = "unknown"  # a regression tactic for when no reason is recorded: ask for it
MAX_READ = 50  # recent notes and lessons read per customer

Reason = dict[str, Any]


def check_reasons(playbook: Playbook) -> Iterable[ContentIssue]:
    """Every reason has a name and phrases in both languages; a tactic's `reason` names one."""
    reasons = playbook.content.get("cooling_reasons", {})
    if not isinstance(reasons, dict):
        yield (("content", "cooling_reasons"), "bad-reason", "cooling_reasons is a mapping")
        return
    for kind, reason in reasons.items():
        phrases = reason.get("phrases") if isinstance(reason, dict) else None
        if not isinstance(reason, dict) or "name" not in reason or not isinstance(
                phrases, dict) or not all(isinstance(phrases.get(k), list) for k in ("zh", "en")):
            yield (("content", "cooling_reasons", kind), "bad-reason",
                   "a reason needs a name and phrases with zh and en lists")
    for index, tactic in enumerate(playbook.content.get("tactics") or []):
        wanted = tactic.get("reason") if isinstance(tactic, dict) else None
        if wanted is not None and wanted != UNKNOWN and wanted not in reasons:
            yield (("content", "tactics", index, "reason"), "bad-reason",
                   f"reason must be {UNKNOWN!r} or one of {sorted(reasons)}")


def cooling_reason(turn: Turn, playbook: Playbook, account: Account) -> Reason | None:
    """The newest recorded reason `account` cooled: {"kind", "name", "phrase"}, or None."""
    reasons = playbook.content.get("cooling_reasons") or {}
    if not reasons:
        return None
    since = turn.now - timedelta(days=RECENT_DAYS)
    session, rep_id = turn.store.session, turn.rep.id
    found: list[tuple[datetime, int, str, str]] = []
    for objection in turn.store.open_objections_of([account.id]):
        if objection.kind in reasons and objection.created_at >= since:
            found.append((objection.created_at, 0, objection.kind, objection.phrase))
    signals = [{"kind": "reason", "value": kind, "phrases": reason["phrases"]}
               for kind, reason in reasons.items()]
    texts: list[tuple[datetime, str]] = [
        (note.created_at, note.text)
        for note in turn.recent_notes([account.id], RECENT_DAYS, limit=MAX_READ)]
    # the rep's own words when turning a suggestion down ("其他": 是科里有集采用量考核)
    texts += [(suggestion.answered_at or suggestion.offered_at,
               (suggestion.reason or "").partition(": ")[2])
              for suggestion in session.execute(
                  select(Suggestion).where(Suggestion.rep_id == rep_id,
                                           Suggestion.account_id == account.id,
                                           Suggestion.status == "dismissed",
                                           Suggestion.reason.contains(": "),
                                           Suggestion.offered_at >= since)
                  .order_by(Suggestion.offered_at.desc()).limit(MAX_READ)).scalars()]
    texts += [(lesson.created_at, lesson.text) for lesson in session.execute(
        select(Lesson).where(Lesson.rep_id == rep_id, Lesson.account_id == account.id,
                             Lesson.created_at >= since)
        .order_by(Lesson.created_at.desc()).limit(MAX_READ)).scalars()]
    for created, text in texts:
        for hit in find_signals(text, signals):  # the later words of a text win a tie
            found.append((created, hit["at"], str(hit["value"]), str(hit["phrase"])))
    if not found:
        return None
    _, _, kind, phrase = max(found, key=lambda item: (item[0], item[1]))
    name = turn.library.content(playbook, turn.locale)["cooling_reasons"][kind]["name"]
    return {"kind": kind, "name": name, "phrase": phrase}


def fits_reason(tactic: Mapping[str, Any], reason: Reason | None) -> bool:
    """Whether a regression tactic belongs with what is known: the one that asks why only
    while no reason is recorded, one for a reason only for that reason, others always."""
    wanted = tactic.get("reason")
    if wanted is None:
        return True
    if wanted == UNKNOWN:
        return reason is None
    return reason is not None and reason["kind"] == wanted


def known_reason(turn: Turn, account: Account) -> Reason | None:
    """`cooling_reason` from the playbook that lists the reasons, for the paths that speak
    of moving back outside the tactics (the alert after a visit, /today, 危机预警)."""
    for playbook in turn.library.playbooks.values():
        if playbook.content.get("cooling_reasons"):
            return cooling_reason(turn, playbook, account)
    return None
