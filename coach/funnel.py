"""Where a team's customers stand in the adoption cycle, and how they moved.

Read-only over the store, for a manager's /funnel and the weekly digest. A customer's stage
at a moment is the last diagnosis recorded before it (`stage_history`); none recorded means
not diagnosed. Its move over a window compares the stage it started the window at (the last
diagnosis before the window, or else the first diagnosis inside it) with the stage now:
forward, back, stalled (the same stage), or new (first diagnosed inside the window and not
moved since; one first diagnosed and then moved counts as moved). This is the one definition
of a move: the funnel, the digest and the coaching report all read `moves`. Which
customers are key accounts is content (the funnel playbook's `key_tiers`, the tiers /screen
gives): the funnel counts those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.playbook import STAGES
from coach.store.models import Account, Rep, StageChange

if TYPE_CHECKING:
    from coach.library import Library

Direction = Literal["forward", "back", "stalled", "new", "none"]
#: The moves a funnel counts, in the order they are shown ("none": never diagnosed).
MOVES: tuple[Direction, ...] = ("forward", "back", "stalled", "new")
UNDIAGNOSED = "none"
_ORDER = {stage: index for index, stage in enumerate(STAGES)}


@dataclass(frozen=True)
class Move:
    """One customer: their stage at the start of the window and now."""

    account: Account
    before: str | None
    after: str | None
    #: no diagnosis before the window: `before` is the first one inside it
    first_in_window: bool = False

    @property
    def direction(self) -> Direction:
        return direction(self.before, self.after, self.first_in_window)


def direction(before: str | None, after: str | None,
              first_in_window: bool = False) -> Direction:
    if after is None:
        return "none"
    if before is None:
        return "new"
    step = _ORDER.get(after, 0) - _ORDER.get(before, 0)
    if step == 0:
        return "new" if first_in_window else "stalled"
    return "forward" if step > 0 else "back"


def team_members(session: Session, manager: Rep) -> list[Rep]:
    """The active reps of the manager's team (the manager not included), by name."""
    if not manager.team:
        return []
    return list(session.execute(
        select(Rep).where(Rep.team == manager.team, Rep.id != manager.id,
                          Rep.active.is_(True), Rep.forgotten_at.is_(None))
        .order_by(Rep.name, Rep.id)).scalars().all())


def moves(session: Session, rep_ids: Sequence[int], since: datetime,
          key_tiers: Iterable[str] | None = None) -> list[Move]:
    """Every live customer of `rep_ids` (only those in `key_tiers` when given) with the stage
    it started the window at `since` (see the module's docstring) and its stage now."""
    if not rep_ids:
        return []
    query = select(Account).where(Account.rep_id.in_(list(rep_ids)),
                                  Account.archived.is_(False))
    if key_tiers is not None:
        query = query.where(Account.tier.in_(list(key_tiers)))
    accounts = session.execute(query.order_by(Account.rep_id, Account.name, Account.id)
                               ).scalars().all()
    before = stages_at(session, rep_ids, since)
    first = first_stages_since(session, rep_ids, since)
    return [Move(a, before.get(a.id), a.stage) if a.id in before
            else Move(a, first.get(a.id), a.stage, first_in_window=a.id in first)
            for a in accounts]


def first_stages_since(session: Session, rep_ids: Sequence[int],
                       moment: datetime) -> dict[int, str]:
    """Each customer's first stage diagnosed at or after `moment`."""
    first = (select(StageChange.account_id, func.min(StageChange.id).label("id"))
             .where(StageChange.rep_id.in_(list(rep_ids)), StageChange.created_at >= moment)
             .group_by(StageChange.account_id).subquery())
    return {account_id: stage for account_id, stage in session.execute(
        select(StageChange.account_id, StageChange.stage)
        .join(first, first.c.id == StageChange.id)).all()}


def stages_at(session: Session, rep_ids: Sequence[int], moment: datetime) -> dict[int, str]:
    """Each customer's stage as last diagnosed before `moment` (customers never diagnosed
    by then are absent)."""
    last = (select(StageChange.account_id, func.max(StageChange.id).label("id"))
            .where(StageChange.rep_id.in_(list(rep_ids)), StageChange.created_at < moment)
            .group_by(StageChange.account_id).subquery())
    return {account_id: stage for account_id, stage in session.execute(
        select(StageChange.account_id, StageChange.stage)
        .join(last, last.c.id == StageChange.id)).all()}


@dataclass(frozen=True)
class Tally:
    """Counts for one group of customers (the team, one rep, one hospital)."""

    label: str
    stages: dict[str, int]  # every stage of STAGES, then UNDIAGNOSED
    moves: dict[str, int]  # every direction of MOVES

    @property
    def total(self) -> int:
        return sum(self.stages.values())


def tally(label: str, found: Iterable[Move]) -> Tally:
    stages = dict.fromkeys([*STAGES, UNDIAGNOSED], 0)
    counted: dict[str, int] = dict.fromkeys(MOVES, 0)
    for move in found:
        stages[move.after if move.after in stages else UNDIAGNOSED] += 1
        if move.direction in counted:
            counted[move.direction] += 1
    return Tally(label, stages, counted)


def by_hospital(found: Sequence[Move], unknown: str) -> list[Tally]:
    """One tally per hospital, the hospital with most customers first; customers with no
    hospital recorded under `unknown`."""
    groups: dict[str, list[Move]] = {}
    for move in found:
        groups.setdefault(move.account.hospital or unknown, []).append(move)
    ordered = sorted(groups, key=lambda name: (-len(groups[name]), name))
    return [tally(name, groups[name]) for name in ordered]


def _funnel_content(library: Library, key: str) -> object:
    """`key` of the funnel playbook's content (of any playbook that has it, without one)."""
    funnel = library.playbooks.get("funnel")
    for playbook in ([funnel] if funnel is not None else []) + list(library.playbooks.values()):
        if key in playbook.content:
            return playbook.content[key]
    return None


def window_weeks(library: Library) -> int:
    """The weeks over which moves are counted (the funnel playbook's `weeks`; 4 without)."""
    found = _funnel_content(library, "weeks")
    return found if isinstance(found, int) else 4


def key_tiers(library: Library) -> list[str]:
    """The tiers that make a key account: the `key_tiers` of the playbook that has them
    (the funnel's); tier A and B, as /screen gives them, without one."""
    found = _funnel_content(library, "key_tiers")
    if isinstance(found, list):
        return [str(tier) for tier in found]
    return ["A", "B"]
