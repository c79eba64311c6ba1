"""A stage the rep corrects is not a customer moving back.

A note hint ("「用量小，不考虑增加」→ 阶段：采纳？") saved with the visit records a stage.
If the hint was wrong and the rep puts it right with /stage soon after, before any other
visit, that is a correction of what the bot read, not news about the customer: counting it
as "采纳 → 认知, 他往回退了" would raise a crisis warning, a 后退 in the manager's funnel and
a 倒退预警 in the digest for nothing.

The rule, kept simple enough to explain: the stage on record came from a note hint (saved
at the same moment as a visit note of the customer, at the note hints' confidence), it was
recorded at most CORRECTION_DAYS ago, no visit of the customer was logged after it, and the
rep's /stage answers do not themselves say use is falling (用过一阵，最近少了). Then
the rep's /stage replaces that hint's record: the history reads as if the note had said the
right stage (from the stage before the hint), so every reader of the history (regressions,
the funnel, the digest) agrees it was no move back. The note itself is kept as typed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from coach.actions.signals import NOTE_HINT_CONFIDENCE
from coach.store.models import Account, StageChange

if TYPE_CHECKING:
    from coach.context import Turn

CORRECTION_DAYS = 7


def hint_to_correct(turn: Turn, account: Account) -> StageChange | None:
    """The record of `account`'s stage when it is a note hint the rep may still correct
    (see the module's docstring), else None."""
    changes = turn.store.stage_changes([account.id])  # newest first
    if not changes or changes[0].stage != account.stage:
        return None
    hint = changes[0]
    if (hint.confidence != NOTE_HINT_CONFIDENCE
            or turn.now - hint.created_at > timedelta(days=CORRECTION_DAYS)):
        return None
    return hint if turn.store.hint_then_no_visit(account, hint.created_at) else None
