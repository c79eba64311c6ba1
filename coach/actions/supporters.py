"""Who supports us at a hospital: one answer for /chain, /hospital and /plan.

The two tools used to decide apart (/chain: an influencer tagged 支持 or fitting the profile;
/hospital: read from the stage), so the same person was a supporter in one reply and not in
the next (trial G). Both now ask `attitude_of` and `supporters` here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.actions.regression import at_risk
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

SUPPORTER_STAGES = ("trial", "adoption")
PIONEERS = ("innovator", "early_adopter")
HIGH_INFLUENCE = 3  # /screen's top answer on influence


def attitude_of(turn: Turn, account: Account) -> str:
    """支持 / 中立 / 反对: as the rep judged it (/chain), or else read from what the rep
    recorded: at risk or refusing is opposed; trial or adoption, or the supporter profile
    (an opinion leader /screen rated of high influence whom /adopter tagged a pioneer), is
    support; anything else is neutral (unknown included)."""
    if account.attitude in ("support", "neutral", "opposed"):
        return str(account.attitude)
    objections = {o.kind for o in turn.store.open_objections(account)}
    if at_risk(turn, account) or "not_interested" in objections:
        return "opposed"
    fits_profile = (account.influence or 0) >= HIGH_INFLUENCE and account.adopter in PIONEERS
    return "support" if account.stage in SUPPORTER_STAGES or fits_profile else "neutral"


def supporters(turn: Turn, people: list[Account]) -> list[Account]:
    """The supporters among `people`, in their order."""
    return [a for a in people if attitude_of(turn, a) == "support"]
