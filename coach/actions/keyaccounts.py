"""Key-account management (大客户管理): screening, the potential × support matrix, needs,
roles in the decision chain, adopter categories and diffusion in an institution.

The rules (tier thresholds, class conditions, matrix cut-offs, critical mass) are content:
they live in the playbooks' YAML and are evaluated here. Nothing here asks for or stores
prescription counts (统方): potential and volume are bands, and volume is institution-level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coach.actions.common import scores
from coach.actions.crisis import leaving
from coach.actions.reasons import known_reason
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.supporters import supporters
from coach.actions.usage import USING, usage
from coach.charts import can_draw_chinese, potential_support_matrix
from coach.messages import Attachment
from coach.names import hospitals_match
from coach.playbook import Playbook
from coach.store.models import Account
from coach.templating import evaluate

if TYPE_CHECKING:
    from coach.context import Turn

CRITERIA = ("scale", "influence", "cooperation", "recognition")
ROLES = ("decision_maker", "influencer", "user", "purchaser", "recommender")
ADOPTERS = ("innovator", "early_adopter", "early_majority", "late_majority", "laggard")
ATTITUDES = ("support", "neutral", "opposed", "unknown")
NEEDS = ("academic", "interest", "emotional")
QUADRANTS = ("invest", "develop", "maintain", "minimise")


def _check_screen(playbook: Playbook) -> Iterable[ContentIssue]:
    if sorted(playbook.dimensions) != sorted(CRITERIA):
        yield (("dimensions",), "bad-dimensions",
               f"screen_account needs `dimensions: {list(CRITERIA)}`")
    yield from require_content(("tiers",), ("classes",), ("potential",), ("bands",),
                               ("unclassified", "id"), ("unclassified", "rule"))(playbook)
    for index, klass in enumerate(playbook.content.get("classes") or []):
        if not isinstance(klass, Mapping) or "rule" not in klass:
            yield (("content", "classes", index), "missing-rule",
                   "each class needs the `rule` that tells the rep why a customer is in it")
        elif str(klass.get("when", "")).strip().lower() in ("true", "1", ""):
            yield (("content", "classes", index, "when"), "catch-all-class",
                   "a class is earned by its rule, never a default: a customer no class "
                   "fits is `unclassified`")


@dataclass(frozen=True)
class Placement:
    """Where the screening answers put a customer, and the rules that put him there."""

    tier: str
    klass: str
    key: bool  # one of the classes; not `unclassified`
    potential: int  # band 1..3
    rule: Any  # the class's (or `unclassified`'s) rule text, {zh, en}
    tier_rule: Any
    also: tuple[str, ...]  # other classes whose rule holds too
    context: dict[str, Any]


def place(content: Mapping[str, Any], rated: Mapping[str, int],
          role: str | None) -> Placement:
    """Seed 004's classes by their rules, then tier and potential from the class: the first
    class whose rule holds places the customer; none holding means no key account."""
    context: dict[str, Any] = {**rated, "total": sum(rated.values()), "role": role}
    fitting = [c for c in content["classes"] if evaluate(str(c["when"]), context)]
    chosen = fitting[0] if fitting else content["unclassified"]
    context["key"] = bool(fitting)
    tier = next((t for t in content["tiers"] if evaluate(str(t["when"]), context)), None)
    if tier is None:
        raise ValueError(f"no tier rule holds for {context}")
    potential = round(float(evaluate(str(content["potential"]), context)))
    return Placement(tier=str(tier["tier"]), klass=str(chosen["id"]), key=bool(fitting),
                     potential=max(1, min(3, potential)), rule=chosen["rule"],
                     tier_rule=tier.get("rule", ""),
                     also=tuple(str(c["id"]) for c in fitting[1:]), context=context)


def _check_matrix(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("matrix", "high_potential"), ("matrix", "high_support"),
                               *[("quadrants", q, "name") for q in QUADRANTS])(playbook)


def _matrix_rules(turn: Turn) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The matrix cut-offs and quadrant texts, from whichever playbook defines them."""
    for playbook in turn.library.playbooks.values():
        if "matrix" in playbook.content and "quadrants" in playbook.content:
            content = turn.library.content(playbook, turn.locale)
            return content["matrix"], content["quadrants"]
    raise LookupError("no playbook defines content.matrix and content.quadrants")


def quadrant_of(account: Account, cutoffs: Mapping[str, Any]) -> str | None:
    if account.potential is None or account.support is None:
        return None
    high_potential = account.potential >= float(cutoffs["high_potential"])
    high_support = account.support >= float(cutoffs["high_support"])
    if high_potential:
        return "develop" if high_support else "invest"
    return "maintain" if high_support else "minimise"




@action("screen_account", provides=("screening",), content_check=_check_screen)
def screen_account(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Rate a customer on the four criteria; class (with the rule that placed him), tier
    and matrix position follow from the playbook's rules."""
    account = turn.require_account()
    rated = {k: int(v) for k, v in scores(turn).items()}
    placed = place(turn.playbook.content, rated, account.role)
    support = turn.vars.get("support")
    account.potential = placed.potential
    account.support = int(support) if isinstance(support, int) else account.support
    account.influence = rated.get("influence")
    account.tier, account.klass = placed.tier, placed.klass
    account.reviewed_at = account.updated_at = turn.now
    turn.store.add_screening(account, rated, placed.tier, placed.klass, turn.now)
    cutoffs, quadrants = _matrix_rules(turn)
    quadrant = quadrant_of(account, cutoffs)
    localized = turn.library.content(turn.playbook, turn.locale)
    names = localized.get("class_names", {})
    bands = localized.get("bands", {})
    words = {"band": {k: bands.get(k, {}).get(v, v) for k, v in rated.items()},
             "role_name": turn.library.label("roles", account.role, turn.locale) or "",
             "total": placed.context["total"],
             # the advice follows the rule that placed him and what he does with the product:
             # a large department volume of the drug class is not yet results of ours
             "using": account.stage in USING,
             "trial": account.stage == "trial",  # a small trial is not the main source yet
             "stage_name": turn.library.stage_name(account.stage, turn.locale) or "",
             # not diagnosed is not "never used": the notes may say he used it
             "used_phrase": usage(turn, account).phrase}
    turn.vars["screening"] = {
        "tier": placed.tier, "klass": placed.klass, "key": placed.key,
        "klass_name": names.get(placed.klass, placed.klass),
        "rule": turn.render(placed.rule, **words),
        "tier_rule": turn.render(placed.tier_rule, **words) if placed.tier_rule else "",
        "advice": turn.render(localized.get("class_advice", {}).get(placed.klass, ""), **words),
        "also": [turn.library.label("classes", c, turn.locale) for c in placed.also],
        "scores": rated, "potential": account.potential, "support": account.support,
        "quadrant": quadrant,
        "quadrant_name": quadrants[quadrant]["name"] if quadrant else None,
        "quadrant_advice": quadrants[quadrant].get("advice") if quadrant else None,
    }


@action("list_key_accounts", provides=("key_accounts",))
def list_key_accounts(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Screened customers ranked: tier first, then potential, then support."""
    screened = [a for a in turn.store.active_accounts() if a.tier]
    screened.sort(key=lambda a: (a.tier or "Z", -(a.potential or 0), -(a.support or 0), a.name))
    turn.vars["key_accounts"] = [
        {**(turn.account_view(a) or {}), "tier": a.tier, "klass": a.klass,
         "potential": a.potential, "support": a.support} for a in screened
    ]


@action("potential_matrix", provides=("matrix",), content_check=_check_matrix)
def potential_matrix(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Every rated customer in a quadrant, as a picture and as lists with advice."""
    cutoffs, quadrants = _matrix_rules(turn)
    placed: dict[str, list[Account]] = {q: [] for q in QUADRANTS}
    for account in turn.store.active_accounts():
        quadrant = quadrant_of(account, cutoffs)
        if quadrant is not None:
            placed[quadrant].append(account)
    turn.vars["matrix"] = {
        "count": sum(len(v) for v in placed.values()),
        "quadrants": [
            {"key": q, "name": quadrants[q]["name"], "advice": quadrants[q].get("advice", ""),
             "names": [a.name for a in placed[q]]}
            for q in QUADRANTS
        ],
    }
    if turn.vars["matrix"]["count"]:
        locale = turn.locale if turn.locale == "en" or can_draw_chinese() else "en"
        names = turn.library.content(turn.playbook, locale)
        png = potential_support_matrix(
            [(a.name, a.potential or 0, a.support or 0) for q in QUADRANTS for a in placed[q]],
            {q: names["quadrants"][q]["name"] for q in QUADRANTS},
            names.get("axis_labels", {}), cutoffs)
        turn.attachments.append(Attachment("potential-support-matrix.png", "image/png", png,
                                           kind="photo"))


@action("record_needs", provides=("needs",))
def record_needs(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Which needs dominate (学术/利益/情感): those the rep rated strong this time."""
    account = turn.require_account()
    rated = scores(turn)
    strong = [n for n in NEEDS if rated.get(n, 0) >= 2]
    account.needs = strong
    account.updated_at = turn.now
    turn.vars["needs"] = strong


def roles_of(account: Account) -> list[str]:
    """Every role the person holds (seed 003), the first one recorded first."""
    return account.held_roles()


def holds(account: Account, role: str) -> bool:
    """Whether the person holds `role` (/chain; several are possible), a doctor with none
    recorded counting as 使用者: seed 003's user is the prescribing doctor."""
    recorded = roles_of(account)
    return role in recorded or (not recorded and role == "user" and account.kind == "doctor")


@action("held_roles", provides=("held_roles",))
def held_roles(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The roles recorded for the customer a flow brings along (/adopter's 看决策链): none
    when no customer came, so /chain asks whom to map."""
    account = turn.account()
    turn.vars["held_roles"] = roles_of(account) if account is not None else []


@action("set_role", args={"role": ROLES})
def set_role(turn: Turn, args: Mapping[str, Any]) -> None:
    """Add a role: a person can hold several (a head of department decides and prescribes)."""
    account = turn.require_account()
    role = str(args["role"])
    account.roles = [*[r for r in roles_of(account) if r != role], role] \
        if role not in roles_of(account) else roles_of(account)
    account.role = account.roles[0]
    account.updated_at = turn.now


@action("drop_roles")
def drop_roles(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Start the person's roles afresh (the role question then sets the first)."""
    account = turn.require_account()
    account.roles, account.role = [], None


@action("set_attitude", args={"attitude": ATTITUDES})
def set_attitude(turn: Turn, args: Mapping[str, Any]) -> None:
    """Where the person stands on the product, as the rep judges it (支持/中立/反对)."""
    account = turn.require_account()
    attitude = str(args["attitude"])
    account.attitude = None if attitude == "unknown" else attitude
    account.updated_at = turn.now


@action("set_adopter", args={"category": ADOPTERS})
def set_adopter(turn: Turn, args: Mapping[str, Any]) -> None:
    """Set the current customer's adopter category (innovator .. laggard), as the rep judges it."""
    account = turn.require_account()
    account.adopter = str(args["category"])
    account.updated_at = turn.now


def _institution(turn: Turn) -> tuple[str | None, list[Account]]:
    account = turn.account()
    hospital = (account.hospital if account else None) or turn.vars.get("hospital")
    if not hospital:
        return None, []
    return str(hospital), [a for a in turn.store.active_accounts() if a.kind != "hospital"
                           and a.hospital and hospitals_match(a.hospital, str(hospital))]


@action("decision_chain", provides=("chain",),
        content_check=require_content(("attitudes", "named")))
def decision_chain(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Who holds each role at the institution, which roles nobody covers, and who fits the
    supporter profile: an opinion leader close to the top decision maker, open to new things."""
    hospital, people = _institution(turn)
    attitudes = turn.library.content(turn.playbook, turn.locale).get("attitudes", {})
    gone = leaving(turn, {a.id: a for a in people})

    def shown(a: Account) -> str:
        return turn.render(attitudes["named"], name=a.name,
                           attitude=attitudes.get(a.attitude or "", ""),
                           leaving=attitudes.get("leaving", "") if a.id in gone else "")

    # read as the hospital plan reads them (`holds`): a doctor with no role is a 使用者
    roles = {role: [shown(a) for a in people if holds(a, role)] for role in ROLES}
    # one definition with /hospital's (coach/actions/supporters.py); the decision maker
    # himself brings no plan to the decision maker
    backing = supporters(turn, people)
    carriers = [a.name for a in backing if not holds(a, "decision_maker")]
    turn.vars["chain"] = {"hospital": hospital, "roles": roles,
                          "gaps": [r for r in ROLES if not roles[r]],
                          "supporters": [a.name for a in backing], "carriers": carriers,
                          "people": len(people)}


@action("diffusion", provides=("diffusion",),
        content_check=require_content(("critical_mass", "low"), ("critical_mass", "high")))
def diffusion(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The institution's share of doctors in 采纳 (adoption)
    against the critical mass; below it, the chasm."""
    hospital, people = _institution(turn)
    # the prescribers: a pharmacy director or a vice-president is in the chain, not a user;
    # whoever the rep tagged with a category here is counted too (he is the one she asked
    # about), and the reply names who was counted and who not (trial G: "3 位医生" unnamed)
    doctors = [a for a in people if holds(a, "user") or a.adopter]
    adopted = [a for a in doctors if a.stage == "adoption"]
    categories = {c: [a.name for a in doctors if a.adopter == c] for c in ADOPTERS}
    share = round(100 * len(adopted) / len(doctors)) if doctors else 0
    mass = turn.playbook.content.get("critical_mass", {})
    low, high = int(mass.get("low", 10)), int(mass.get("high", 20))
    lonely = [a.name for a in adopted if a.adopter in ("innovator", "early_adopter")]
    cooling = [a for a in doctors if a.adopter in ("innovator", "early_adopter")
               and a.stage not in (None, "adoption", "trial")]
    turn.vars["diffusion"] = {
        "hospital": hospital, "doctors": len(doctors), "adopted": [a.name for a in adopted],
        # who was counted, with the category where tagged, and who was not
        "counted": [{"name": a.name, "category": turn.library.label("adopters", a.adopter,
                                                                    turn.locale)}
                    for a in doctors],
        "others": [a.name for a in people if a not in doctors],
        "share_pct": share, "categories": categories,
        "below_critical_mass": share < low,
        "in_critical_zone": low <= share <= high,
        "lonely_early_adopters": lonely if len(adopted) <= 2 else [],
        "cooling": [a.name for a in cooling],
        # why each cooled, where the rep recorded it: advice answers it instead of asking
        "cooling_reasons": [{"name": a.name, "reason": r["name"]} for a in cooling
                            if (r := known_reason(turn, a)) is not None],
    }
