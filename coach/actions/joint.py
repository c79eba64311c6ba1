"""Joint visits (seed 004, 团队协作（跨部门资源整合）: 协同拜访): who from the team to bring to
a key account, and what for. The suggestion follows the rules in `playbooks/joint.yaml`
from what is known of the customer (class, role, stage, needs, open objections, crisis and
moving back); the plan is a follow-up on the chosen day, reminded and listed in /today."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from coach.actions.crisis import crises
from coach.actions.dates import date_view
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.regression import at_risk
from coach.actions.visits import remind_at
from coach.playbook import Playbook
from coach.templating import evaluate

if TYPE_CHECKING:
    from coach.context import Turn

PARTNERS = ("manager", "medical", "kol", "marketing")


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(*[("partners", p) for p in PARTNERS], ("purposes",),
                               ("suggest",), ("followup",))(playbook)
    for index, rule in enumerate(playbook.content.get("suggest") or []):
        if not isinstance(rule, Mapping) or rule.get("partner") not in PARTNERS \
                or "when" not in rule or "why" not in rule:
            yield (("content", "suggest", index), "bad-suggestion",
                   f"a suggestion needs `when`, `why` and `partner` (one of {list(PARTNERS)})")


@action("joint_advice", provides=("joint",), content_check=_check)
def joint_advice(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Who to bring, by the first suggestion rule that holds for this customer, or none."""
    account = turn.require_account()
    moving_back = at_risk(turn, account)
    in_crisis = crises(turn, {account.id: account}, {account.id: moving_back})
    context = {
        "klass": account.klass, "tier": account.tier, "role": account.role,
        "stage": account.stage, "needs": list(account.needs or []),
        "objections": [o.kind for o in turn.store.open_objections(account)],
        "crisis": [e["kind"] for e in in_crisis.get(account.id, [])],
        "moving_back": bool(moving_back),
    }
    localized = turn.library.content(turn.playbook, turn.locale)
    suggested = None
    for rule, shown in zip(turn.playbook.content["suggest"], localized["suggest"], strict=True):
        if evaluate(str(rule["when"]), context):
            suggested = {"partner": rule["partner"], "why": shown["why"]}
            break
    turn.vars["joint"] = {"suggested": suggested}


@action("plan_joint_visit", provides=("planned",))
def plan_joint_visit(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The joint visit as a follow-up on the chosen day: "协同拜访（医学联络官）：…"."""
    account = turn.require_account()
    content = turn.library.content(turn.playbook, turn.locale)
    partner, purpose = str(turn.vars.get("partner")), str(turn.vars.get("purpose"))
    due = date.fromisoformat(str(turn.vars["joint_date"]))
    text = turn.render(content["followup"], who=content["partners"].get(partner, partner),
                       purpose_text=content["purposes"].get(purpose, purpose))
    followup = turn.store.add_followup(account, None, text, due.isoformat(),
                                       remind_at(due, turn.settings), turn.now)
    account.updated_at = turn.now
    turn.vars["planned"] = {"id": followup.id, "action": text,
                            "due": date_view(due, turn.local_now.date())}
