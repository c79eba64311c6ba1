"""The customer development plan (客户发展计划书), goals, and the case library (案例复盘).

The plan is assembled from the store — analysis, goal, resources, communication, evaluation —
and rendered by the playbook's HTML template. Each generated plan keeps its facts, so the next
one can say what changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.keyaccounts import _matrix_rules, quadrant_of
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.tactics import (
    blocked_tactics,
    describe,
    rank_tactics,
    tactic_playbook,
    undiagnosed_fit,
)
from coach.messages import Attachment, safe_filename
from coach.playbook import STAGES, Playbook
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

REVIEW_AFTER = timedelta(days=90)
TRACKED = ("stage", "style", "tier", "quadrant", "goal_stage", "goal_date", "notes", "roles",
           "objections")


@action("set_goal", provides=("goal",))
def set_goal(turn: Turn, _args: Mapping[str, Any]) -> None:
    account = turn.require_account()
    stage = turn.vars.get("target_stage")
    if stage not in STAGES:
        turn.vars["goal"] = None
        return
    date = turn.vars.get("target_date")
    turn.store.add_goal(account, str(stage), str(date) if date else None, turn.now)
    turn.vars["goal"] = {"stage": stage, "stage_name": turn.library.stage_name(stage,
                                                                                turn.locale),
                         "date": date}


def _facts(turn: Turn, account: Account) -> dict[str, Any]:
    goal = turn.store.latest_goal(account)
    quadrant = None
    try:
        cutoffs, _ = _matrix_rules(turn)
        quadrant = quadrant_of(account, cutoffs)
    except LookupError:
        pass
    colleagues = [a for a in turn.store.active_accounts()
                  if account.hospital and a.hospital == account.hospital and a.role]
    return {
        "stage": account.stage, "style": account.style, "tier": account.tier,
        "klass": account.klass, "quadrant": quadrant, "needs": list(account.needs or []),
        "goal_stage": goal.target_stage if goal else None,
        "goal_date": goal.target_date if goal else None,
        "notes": turn.store.note_count(account),
        "roles": sorted(f"{a.name}:{a.role}" for a in colleagues),
        "objections": sorted({o.kind for o in turn.store.open_objections(account)}),
    }


def _check_plan(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("document",), ("filename",))(playbook)


@action("build_plan", provides=("plan",), content_check=_check_plan)
def build_plan(turn: Turn, _args: Mapping[str, Any]) -> None:
    account = turn.require_account()
    facts = _facts(turn, account)
    previous = turn.store.latest_plan(account)
    changes: list[dict[str, Any]] = []
    if previous is not None:
        for key in TRACKED:
            before, after = previous.facts.get(key), facts.get(key)
            if before != after:
                changes.append({"what": key, "before": before, "after": after})
    library, locale = turn.library, turn.locale
    tactics: list[dict[str, Any]] = []
    source = tactic_playbook(library)
    if source is not None:
        blocked, penalised = blocked_tactics(turn, source, account)
        ranked = rank_tactics(turn, source, account, blocked, penalised)
        if not account.stage:
            ranked = [t for t in ranked if undiagnosed_fit(t)]
        tactics = [describe(turn, source, account, t) for t in ranked[:3]]
    reviewed = account.reviewed_at or account.created_at
    def named(what: str, value: Any) -> Any:
        groups = {"stage": "stages", "goal_stage": "stages", "quadrant": "quadrants"}
        if what == "style":
            return library.style_name(value, locale)
        if what == "objections":
            return "、".join(str(library.label("objections", v, locale)) for v in value or [])
        if what == "roles":  # "张主任:decision_maker" -> 张主任（决策者）
            return "、".join(f"{name}（{library.label('roles', role, locale)}）"
                            for name, _, role in (str(v).partition(":") for v in value or []))
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return library.label(groups[what], value, locale) if what in groups else value

    for change in changes:
        change["before"] = named(change["what"], change["before"])
        change["after"] = named(change["what"], change["after"])
    plan = {
        "facts": facts,
        "klass_name": library.label("classes", account.klass, locale),
        "quadrant_name": library.label("quadrants", facts["quadrant"], locale),
        "needs_names": [library.label("needs", n, locale) for n in facts["needs"]],
        "stage_name": library.stage_name(account.stage, locale),
        "style_name": library.style_name(account.style, locale),
        "goal_stage_name": library.stage_name(facts["goal_stage"], locale),
        "stage_history": [
            {"date": turn.local_date(row.created_at),
             "stage_name": library.stage_name(row.stage, locale)}
            for row in turn.store.stage_history(account, 5)],
        "notes": [{"date": turn.local_date(n.created_at), "text": n.text}
                  for n in turn.store.recent_notes(account, 5)],
        "colleagues": [{"name": a.name, "role": library.label("roles", a.role, locale)}
                       for a in turn.store.active_accounts()
                       if account.hospital and a.hospital == account.hospital and a.role],
        "tactics": tactics,
        "objections": [{"name": library.label("objections", o.kind, locale),
                        "phrase": o.phrase, "date": turn.local_date(o.created_at)}
                       for o in turn.store.open_objections(account)],
        "review_by": turn.local_date(reviewed + REVIEW_AFTER),
        "changes": changes,
        "previous_date": turn.local_date(previous.created_at) if previous else None,
        "generated": turn.local_date(turn.now),
    }
    turn.store.add_plan(account, facts, turn.now)
    turn.vars["plan"] = plan
    content = library.content(turn.playbook, locale)
    html = turn.render_html(str(content["document"]), plan=plan)
    filename = safe_filename(turn.render(str(content["filename"]), plan=plan), "plan.html")
    turn.attachments.append(Attachment(filename, "text/html", html.encode("utf-8")))


@action("add_lesson", args={"kind": ("stage_change", "lost", "win", "other")})
def add_lesson(turn: Turn, args: Mapping[str, Any]) -> None:
    text = str(turn.vars.get("lesson") or "").strip()
    if text:
        turn.store.add_lesson(turn.account(), str(args["kind"]), text[:500], turn.now)


@action("search_cases", provides=("cases",))
def search_cases(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Lessons whose text or customer matches the words asked; a manager also sees the
    lessons of their team."""
    query = str(turn.vars.get("command_args") or turn.vars.get("query") or "").strip()
    found = turn.store.search_lessons(query, include_team=turn.rep.role == "manager")
    turn.vars["cases"] = [
        {"date": turn.local_date(lesson.created_at), "text": lesson.text, "kind": lesson.kind,
         "customer": customer, "author": author}
        for lesson, customer, author in found
    ]
