"""Next-step suggestions: the stage's tactics, fitted to the customer's style, flexed against
the rep's own, each with its why; capped per day and never repeating a dismissed one soon.

Dismiss reasons are data: a tactic dismissed as `not_fit` lowers tactics aimed at the same
style for that customer (the style hypothesis may be off); one dismissed as `done` is retired
for that customer; any other dismissal rests for `dismiss_cooldown_days`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from coach.actions.crisis import leaving
from coach.actions.keyaccounts import NEEDS
from coach.actions.known import FACTS, known_facts, read_hospital_notes
from coach.actions.pronoun import as_written
from coach.actions.reasons import check_reasons, cooling_reason, fits_reason
from coach.actions.registry import (
    ContentIssue,
    action,
    check_item_keys,
    check_item_values,
    check_unique_ids,
    require_content,
)
from coach.actions.regression import Evidence, at_risk, risk_words
from coach.playbook import STAGES, STYLES, Playbook
from coach.store.models import Account
from coach.templating import TemplateProblem

if TYPE_CHECKING:
    from coach.context import Turn
    from coach.library import Library

REGRESSION = "regression"  # tactics for a customer moving back, whatever the stage on record
LEAVING = "leaving"  # tactics for a key person leaving or gone (seed 004 危机预警)
ROLE = "role"  # tactics for a role in the buying decision (seed 003), whatever the stage
NOT_A_FIT = "not_fit"
MAX_LATER_DAYS = 90
ALREADY_DONE = "done"
LOG = logging.getLogger(__name__)


TACTIC_KEYS = ("id", "stage", "text", "why")
TACTIC_OPTIONAL_KEYS = ("styles", "needs", "roles", "reason", "unless_known", "when_known",
                        "more_use")
# while a safety report about the customer is open: the playbook's `open_report` advice comes
# first, every time, and no tactic or answer marked `more_use` (more patients, more volume,
# more colleagues using it) is offered until the report is closed (domain.md: adverse events)
OPEN_REPORT = "safety_open_report"


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("tactics",))(playbook)
    answers = playbook.content.get("objections", {})
    if not isinstance(answers, dict) or not all(
            isinstance(a, dict) and {"text", "why"} <= set(a) for a in answers.values()):
        yield (("content", "objections"), "bad-tactic",
               "each objection answer needs text and why")
    for kind, answer in answers.items() if isinstance(answers, dict) else ():
        if isinstance(answer, dict):
            yield from check_item_values(answer, ("content", "objections", kind),
                                         "unless_known", FACTS, "bad-tactic")
            yield from _check_when_known(answer, ("content", "objections", kind))
    advice = playbook.content.get("open_report")
    if advice is not None and not (isinstance(advice, dict) and {"text", "why"} <= set(advice)):
        yield (("content", "open_report"), "bad-tactic",
               "the advice while a safety report is open needs text and why")
    tactics = playbook.content.get("tactics")
    if not isinstance(tactics, list):
        return
    for index, tactic in enumerate(tactics):
        path = ("content", "tactics", index)
        if not isinstance(tactic, dict):
            yield (path, "bad-tactic", "a tactic is a mapping with id, stage, text and why")
            continue
        yield from check_item_keys(tactic, path, f"tactic {tactic.get('id', index + 1)}",
                                   TACTIC_KEYS, TACTIC_OPTIONAL_KEYS)
        if "stage" not in tactic:
            continue
        yield from check_item_values(tactic, path, "stage", (*STAGES, REGRESSION, ROLE, LEAVING),
                                     "bad-tactic")
        yield from check_item_values(tactic, path, "styles", STYLES, "bad-tactic")
        yield from check_item_values(tactic, path, "needs", NEEDS, "bad-tactic")
        yield from check_item_values(tactic, path, "unless_known", FACTS, "bad-tactic")
        yield from _check_when_known(tactic, path)
        if tactic["stage"] == ROLE and not tactic.get("roles"):
            yield ((*path, "roles"), "bad-tactic", "a role tactic names the roles it is for")
    yield from check_unique_ids(tactics, ("content", "tactics"), "tactic", "duplicate-tactic")
    yield from check_reasons(playbook)


def _check_when_known(item: Mapping[str, Any], path: tuple[Any, ...]
                      ) -> Iterator[ContentIssue]:
    """`when_known` maps a fact (FACTS) to the variant said once the notes tell it: a
    mapping with `text` and, if the reason changes too, `why`."""
    variants = item.get("when_known")
    if variants is None:
        return
    if not isinstance(variants, dict):
        yield ((*path, "when_known"), "bad-tactic",
               "when_known maps a fact to a variant with text (and why)")
        return
    yield from check_item_values({"when_known": list(variants)}, path, "when_known", FACTS,
                                 "bad-tactic")
    for fact, variant in variants.items():
        if not isinstance(variant, dict) or "text" not in variant or not set(variant) <= {
                "text", "why"}:
            yield ((*path, "when_known", fact), "bad-tactic",
                   f"when_known.{fact} is a variant with text (and why), nothing else")


def tactic_playbook(library: Library) -> Playbook | None:
    """The playbook that holds the tactics (the `next` playbook by convention)."""
    for playbook in library.playbooks.values():
        if isinstance(playbook.content.get("tactics"), list):
            return playbook
    return None


OBJECTION_PREFIX = "obj_"


def objection_tactics(turn: Turn, playbook: Playbook, account: Account,
                      blocked: set[str], *, held_back: bool = False) -> list[dict[str, Any]]:
    """Answers to the customer's open objections, newest first: a concern raised at a visit
    is answered before the stage's next move (the playbook's `content.objections`); while a
    safety report is open (`held_back`), none that asks for more use."""
    answers = turn.library.content(playbook, turn.locale).get("objections") or {}
    found: list[dict[str, Any]] = []
    known: dict[str, Any] | None = None
    for objection in turn.store.open_objections(account):
        answer = answers.get(objection.kind)
        tactic_id = OBJECTION_PREFIX + objection.kind
        if answer is None or tactic_id in blocked or any(t["id"] == tactic_id for t in found):
            continue
        if held_back and answer.get("more_use"):
            continue
        if answer.get("unless_known") or answer.get("when_known"):
            known = known_facts(turn, playbook, account) if known is None else known
            if set(known) & set(answer.get("unless_known") or ()):
                continue  # it asks for what the notes already tell
            answer = as_known(answer, known)
        found.append({"id": tactic_id, "text": answer["text"], "why": answer["why"],
                      "known": answer.get("known") or {},
                      "objection": {"kind": objection.kind, "phrase": objection.phrase,
                                    "name": turn.library.label("objections", objection.kind,
                                                               turn.locale)}})
    return found


def as_known(tactic: Mapping[str, Any], known: Mapping[str, Any]) -> Mapping[str, Any]:
    """`tactic` worded for the first fact of its `when_known` the notes already tell (its
    text, and its why when the variant has one), with the facts for its templates
    (`known.formulary_date`): advice that still holds once the 药事会 date is known, said
    with it instead of asking for it again. As it is when none is known."""
    for fact, variant in (tactic.get("when_known") or {}).items():
        if fact in known:
            return {**tactic, "text": variant["text"], "why": variant.get("why", tactic["why"]),
                    "known": dict(known)}
    return tactic


def undiagnosed_fit(tactic: Mapping[str, Any]) -> bool:
    """What may be suggested before a customer's stage is diagnosed: the answer to an open
    objection, the advice while a safety report is open, for one moving back or leaving
    (the note said so), or for his role; nothing that assumes a stage."""
    return str(tactic["id"]).startswith(OBJECTION_PREFIX) or tactic["id"] == OPEN_REPORT or (
        tactic.get("stage") in (REGRESSION, ROLE, LEAVING))


ROLE_FIT = 3  # a tactic for one of the person's roles comes before the stage's general moves


def prescribes(playbook: Playbook, roles: list[str]) -> bool:
    """Whether a person with `roles` uses the product himself: no role recorded (assume a
    doctor), or one of the playbook's `prescribing_roles`. A pharmacy director, a
    vice-president or the insurance office (决策者 or 采购者 only) does not, so the stage
    tactics about his patients do not fit him."""
    prescribing = set(playbook.content.get("prescribing_roles") or [])
    return not roles or bool(prescribing & set(roles))


def rank_tactics(turn: Turn, playbook: Playbook, account: Account,
                 blocked: set[str], penalised_styles: str,
                 evidence: list[Evidence]) -> list[dict[str, Any]]:
    """Answers to open objections first; for a customer moving back (`evidence`, from
    `at_risk`, computed once per turn by the caller), the regression tactics next (seed
    002), each with the evidence and, once the rep recorded why he cooled, fitted to that
    reason instead of asking for it; then the tactics for the person's role(s) in the buying
    decision (seed 003) with the stage's tactics, the role's first; a person who does not
    prescribe (a pharmacy director, a vice-president) gets the role's only. Within a group,
    best fit first (file order breaks ties). A person a recent note says is leaving gets
    the leaving tactics only: winning him over for the hospital no longer helps."""
    gone = account.id in leaving(turn, {account.id: account})
    stage = account.stage or STAGES[0]
    style = account.style or ""
    localized = turn.library.content(playbook, turn.locale)["tactics"]
    roles = account.held_roles()
    user = prescribes(playbook, roles)
    evidence = evidence if user else []  # moving back is about his own use of the product
    risk = risk_words(turn, evidence) if evidence else ""
    reason = cooling_reason(turn, playbook, account) if evidence else None
    scored = []
    known: dict[str, Any] | None = None
    for position, tactic in enumerate(localized):
        if tactic["id"] in blocked:
            continue
        if tactic.get("unless_known") or tactic.get("when_known"):
            known = known_facts(turn, playbook, account) if known is None else known
            if set(known) & set(tactic.get("unless_known") or ()):
                continue  # it asks for what the notes already tell
            tactic = as_known(tactic, known)
        for_role = tactic["stage"] == ROLE and bool(set(tactic["roles"]) & set(roles))
        if gone != (tactic["stage"] == LEAVING):
            continue
        if gone or (tactic["stage"] == REGRESSION and evidence
                    and fits_reason(tactic, reason)):
            group = 0
        elif for_role or (tactic["stage"] == stage and user):
            group = 1
        else:
            continue
        fits = set(tactic.get("styles") or [])
        needs = set(tactic.get("needs") or []) & set(account.needs or [])
        score = 2 * len(fits & set(style)) - len(fits & set(penalised_styles)) + len(needs)
        if tactic.get("reason") not in (None, "unknown"):
            score += 10  # the answer to the known reason before the general moves
        if for_role:
            score += ROLE_FIT
        scored.append((group, -score, position, {**tactic, "risk": risk, "reason": reason}))
    ranked = [item[3] for item in sorted(scored, key=lambda item: item[:3])]
    safety = safety_first(turn, playbook, account)
    if safety is not None:
        ranked = [t for t in ranked if not t.get("more_use")]
    return ([safety] if safety is not None else []) + objection_tactics(
        turn, playbook, account, blocked, held_back=safety is not None) + ranked


def safety_first(turn: Turn, playbook: Playbook, account: Account) -> dict[str, Any] | None:
    """The advice for a customer with a safety report still open (the playbook's
    `open_report`, with the oldest open report), or None when none is open."""
    advice = turn.library.content(playbook, turn.locale).get("open_report")
    reports = turn.store.open_reports(account) if advice else []
    if not reports:
        return None
    report = reports[0]
    return {"id": OPEN_REPORT, "text": advice["text"], "why": advice["why"],
            "report": {"phrase": report.phrase, "deadline": turn.local_time(report.deadline),
                       "count": len(reports),
                       # a quality complaint has no patient to ask after (trial G)
                       "kind": turn.message(f"report_kind_{report.kind}"),
                       "patient": report.kind != "quality_complaint"}}


class TacticView(TypedDict):
    """`tactic` in a template, after `suggest_tactic`."""

    id: str
    text: str
    why: str
    flex: str
    same_style: str
    stage_based: bool


class TacticExtras(TypedDict):
    """The names a tactic's (or an objection answer's) `text` and `why` may read besides the
    playbook's own: `coach.validate` checks content templates against these keys."""

    stage_name: str | None
    style_name: str
    objection: dict[str, Any] | None
    risk: str
    reason: dict[str, Any] | None
    report: dict[str, Any] | None
    role_names: list[str]
    tactic_roles: list[str]
    role_cares: list[str]  # what each role he holds cares about (`content.role_cares`)
    fits: bool
    known: dict[str, Any]  # what the notes already tell, for a `when_known` variant


def describe(turn: Turn, playbook: Playbook, account: Account,
             tactic: Mapping[str, Any]) -> TacticView:
    """The tactic as the rep sees it: text, why, and how to flex from the rep's style."""
    content = turn.library.content(playbook, turn.locale)
    cares = content.get("role_cares") or {}
    extra = TacticExtras(
        stage_name=turn.library.stage_name(account.stage or STAGES[0], turn.locale),
        style_name=turn.library.style_name(account.style, turn.locale) or "",
        objection=tactic.get("objection"),
        risk=tactic.get("risk", ""),
        reason=tactic.get("reason") if isinstance(tactic.get("reason"), dict) else None,
        report=tactic.get("report"),
        # the person's roles as the rep reads them (药剂科主任 → 采购者), for a role tactic's why
        role_names=[turn.library.label("roles", r, turn.locale) or r
                    for r in account.held_roles()],
        tactic_roles=[r for r in tactic.get("roles") or [] if r in account.held_roles()],
        role_cares=[str(cares[r]) for r in account.held_roles() if r in cares],
        # a reason speaks of a style only when the customer was assessed as one it fits
        fits=bool(set(account.style or "") & set(tactic.get("styles") or [])),
        known=dict(tactic.get("known") or {}),
    )
    rep_style = turn.store.quiz_style()
    flex = same = ""
    customer = (account.style or "")[:1]
    if rep_style and customer and rep_style != customer:
        flex = content.get("flex", {}).get(rep_style, {}).get(customer, "")
    elif rep_style and customer:  # alike: coached straight into a shared blind spot
        same = content.get("same_style", {}).get(customer, "")
    pronouns = playbook.content.get("pronouns") or {}
    return TacticView(
        id=tactic["id"],
        text=as_written(turn, account, turn.render(tactic["text"], **extra), pronouns),
        why=as_written(turn, account, turn.render(tactic["why"], **extra), pronouns),
        flex=turn.render(flex, **extra) if flex else "",
        same_style=turn.render(same, **extra) if same else "",
        stage_based=tactic.get("stage") in STAGES,  # assumes a stage (awareness if none)
    )


def describe_first(turn: Turn, playbook: Playbook, account: Account,
                   ranked: list[dict[str, Any]], count: int = 1) -> list[TacticView]:
    """The first `count` of `ranked` as the rep sees them, skipping a tactic whose text does
    not render (a template mistake validation missed, or one only the data reveals): it is
    logged with its file and line and the next one is offered, so the rep still gets advice
    and their message is kept."""
    described: list[TacticView] = []
    for tactic in ranked:
        if len(described) >= count:
            break
        try:
            described.append(describe(turn, playbook, account, tactic))
        except TemplateProblem as exc:
            where = turn.library.place(playbook.id, _tactic_path(playbook, tactic["id"]))
            LOG.error("%s: tactic %r skipped: its text does not render: %s",
                      where, tactic["id"], exc)
    return described


def fresh_first(ranked: list[dict[str, Any]], tips: list[str]) -> list[dict[str, Any]]:
    """`ranked` with the tactics not yet shown as a tip (`tips`: newest first) ahead, in
    their order, then the ones shown, the longest ago first: the tip after each logged
    visit is another one until the fitting ones run out. The advice for an open safety
    report stays first: it is said until the report is closed."""
    shown = {tactic_id: age for age, tactic_id in enumerate(tips)}
    return sorted(ranked, key=lambda t: (t["id"] != OPEN_REPORT,
                                         t["id"] in shown, -shown.get(t["id"], 0)))


def _tactic_path(playbook: Playbook, tactic_id: str) -> tuple[Any, ...]:
    """Where tactic `tactic_id` sits in the playbook's YAML (an objection answer's or a
    `content.tactics` item's)."""
    if tactic_id.startswith(OBJECTION_PREFIX):
        return ("content", "objections", tactic_id[len(OBJECTION_PREFIX):])
    for index, tactic in enumerate(playbook.content.get("tactics") or []):
        if isinstance(tactic, Mapping) and tactic.get("id") == tactic_id:
            return ("content", "tactics", index)
    return ("content",)


class Rest(NamedTuple):
    """What the suggestions for one customer must respect (see `blocked_tactics`)."""

    blocked: set[str]
    penalised: str
    offered_today: int  # the rep's suggestions today, any customer: the daily cap


def blocked_tactics(turn: Turn, playbook: Playbook, account: Account) -> Rest:
    """What every path that suggests must respect for `account` (/next, the tip after a
    logged visit, the plan): tactics dismissed within the cooldown, accepted and being worked
    on, offered today, or put off until a time still ahead, and those dismissed as already
    done, for good; plus the styles of tactics dismissed as not a fit (ranked lower), and
    how many suggestions the rep had today."""
    settings = turn.settings
    history = turn.store.tactic_history(
        account, turn.now - timedelta(days=settings.dismiss_cooldown_days), turn.day_start(),
        turn.now)
    blocked = set(history.blocked)
    styles_of = {t["id"]: "".join(t.get("styles") or [])
                 for t in turn.library.content(playbook, turn.locale).get("tactics", [])}
    penalised = ""
    for tactic_id, reason in history.dismissals:
        if reason == ALREADY_DONE:
            blocked.add(tactic_id)
        elif reason == NOT_A_FIT:
            penalised += styles_of.get(tactic_id, "")
    return Rest(blocked, penalised, history.offered)


@action("suggest_tactic", provides=("tactic", "cap_reached"), content_check=_check,
        shapes={"tactic": TacticView},
        content_names={key: TacticExtras
                       for key in ("tactics", "objections", "flex", "same_style",
                                   "open_report")})
def suggest_tactic(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Pick the next step for the current customer from `content.tactics` by stage and style,
    answering open objections first and resting dismissed tactics: `tactic` holds id, text,
    why and flex (or none when nothing fits); `cap_reached` when the daily limit is used."""
    account = turn.require_account()
    settings = turn.settings
    turn.vars["tactic"] = None
    read_hospital_notes(turn, account)  # for the readers below: one round trip
    evidence = at_risk(turn, account)  # once per turn: the cap and the ranking both use it
    blocked, penalised, offered_today = blocked_tactics(turn, turn.playbook, account)
    # a customer moving back, or with a safety report open, is never left without advice
    # for want of today's quota
    turn.vars["cap_reached"] = (offered_today >= settings.suggestions_per_day and not evidence
                                and not turn.store.open_reports(account))
    if turn.vars["cap_reached"]:
        return
    ranked = rank_tactics(turn, turn.playbook, account, blocked, penalised, evidence)
    described = describe_first(turn, turn.playbook, account, ranked)
    if not described:
        return
    chosen = described[0]
    suggestion = turn.store.add_suggestion(account, chosen["id"], turn.now)
    turn.vars["_suggestion_id"] = suggestion.id
    turn.vars["tactic"] = chosen


@action("record_feedback", args={"status": ("accepted", "later", "dismissed")},
        provides=("later_until",))
def record_feedback(turn: Turn, args: Mapping[str, Any]) -> None:
    """The rep's answer to a suggestion. "Later" puts it off until the day the rep chose
    (`later_days` from the start of today, Beijing time): no path offers it before then."""
    status = str(args["status"])
    reason = turn.vars.get("dismiss_reason") if status == "dismissed" else None
    reason_text = str(reason) if reason is not None else None
    note = str(turn.vars.get("dismiss_note") or "").strip()
    if reason_text and note:  # "other", in the rep's words: kept with the dismissal
        reason_text = f"{reason_text}: {note}"
    until = None
    turn.vars["later_until"] = None
    if status == "later":
        days = turn.vars.get("later_days")
        days = days if isinstance(days, int) and 0 < days <= MAX_LATER_DAYS else 1
        until = turn.day_start() + timedelta(days=days)
        day = turn.local_now.date() + timedelta(days=days)
        turn.vars["later_until"] = {"iso": day.isoformat(), "month": day.month, "day": day.day}
    turn.store.answer_suggestion(turn.vars.get("_suggestion_id"), status, reason_text, turn.now,
                                 snoozed_until=until)
    turn.vars.pop("dismiss_reason", None)
    turn.vars.pop("dismiss_note", None)
    turn.vars.pop("later_days", None)
