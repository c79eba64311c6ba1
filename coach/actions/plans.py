"""The customer development plan (客户发展计划书), goals, and the case library (案例复盘).

The plan is assembled from the store — analysis, goal, resources, communication, evaluation —
and rendered by the playbook's HTML template. Each generated plan keeps its facts, so the next
one can say what changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.keyaccounts import _matrix_rules, quadrant_of, roles_of
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.regression import at_risk
from coach.actions.tactics import (
    TacticView,
    blocked_tactics,
    describe_first,
    rank_tactics,
    tactic_playbook,
    undiagnosed_fit,
)
from coach.playbook import STAGES, Playbook
from coach.shown_notes import shown_note
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

REVIEW_AFTER = timedelta(days=90)
TRACKED = ("stage", "style", "tier", "quadrant", "goal_stage", "goal_date", "notes", "roles",
           "objections")


@action("set_goal", provides=("goal",))
def set_goal(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Store the goal for the current customer: `target_stage` by `target_date` (optional);
    `goal` holds stage, stage_name and date, or none when no stage was chosen."""
    account = turn.require_account()
    stage = turn.vars.get("target_stage")
    if stage not in STAGES:
        turn.vars["goal"] = None
        return
    date = turn.vars.get("target_date")
    if not date and turn.vars.get("date_choice") != "clear":
        # a skipped date keeps the one set before; only "不设日期" clears it
        earlier = turn.store.latest_goal(account)
        date = earlier.target_date if earlier is not None else None
    turn.store.add_goal(account, str(stage), str(date) if date else None, turn.now)
    turn.vars["goal"] = {"stage": stage, "stage_name": turn.library.stage_name(stage,
                                                                                turn.locale),
                         "date": date}


@action("read_goal", provides=("current_goal",))
def read_goal(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`current_goal`: the customer's latest goal (`stage`, `stage_name`, `date`), or none,
    so "keep the current goal" is offered only when there is one."""
    goal = turn.store.latest_goal(turn.require_account())
    turn.vars["current_goal"] = None if goal is None else {
        "stage": goal.target_stage, "date": goal.target_date,
        "stage_name": turn.library.stage_name(goal.target_stage, turn.locale)}


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
        "roles": sorted(f"{a.name}:{r}" for a in colleagues for r in roles_of(a)),
        "objections": sorted({o.kind for o in turn.store.open_objections(account)}),
    }


def _check_plan(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("document",), ("filename",), ("change_names",),
                               ("change_line",), ("change_person",),
                               ("change_unset", "default"))(playbook)


def _change_in_words(turn: Turn, content: Mapping[str, Any], change: dict[str, Any]) -> str:
    """One line of "what changed since the last plan", in words (`content.change_line`):
    names and labels for keys, what was added or removed for lists, and a word for a value
    that was not set ("未筛选"), never the stored data (None, "张主任:decision_maker")."""
    library, locale, what = turn.library, turn.locale, str(change["what"])
    groups = {"stage": "stages", "goal_stage": "stages", "quadrant": "quadrants"}

    def item(value: Any) -> str:
        if what == "roles":  # "张主任:decision_maker" -> 张主任（决策者）
            name, _, role = str(value).partition(":")
            return turn.render(str(content["change_person"]), name=name,
                               role=library.label("roles", role, locale))
        return str(library.label("objections", value, locale)) if what == "objections" \
            else str(value)

    def word(value: Any) -> Any:
        if value is None:
            return None
        if what == "style":
            return library.style_name(value, locale)
        return library.label(groups[what], value, locale) if what in groups else value

    before, after = change["before"], change["after"]
    listed = isinstance(before, list) or isinstance(after, list)
    unset = content["change_unset"]
    words = {
        "name": content["change_names"].get(what, what),
        "unset": unset.get(what, unset["default"]),
        "listed": listed,
        "before": None if listed else word(before),
        "after": None if listed else word(after),
        "added": [item(v) for v in after or [] if v not in (before or [])] if listed else [],
        "removed": [item(v) for v in before or [] if v not in (after or [])] if listed else [],
        "what": what,
    }
    return turn.render(str(content["change_line"]), **words)


def _each_why_once(tactics: list[TacticView]) -> list[TacticView]:
    """The tactics with a reason already given above left without it: three role tactics
    share one reason (his roles in the decision), and the plan says it once."""
    said: set[str] = set()
    shown: list[TacticView] = []
    for tactic in tactics:
        shown.append({**tactic, "why": "" if tactic["why"] in said else tactic["why"]})
        said.add(tactic["why"])
    return shown


@action("build_plan", provides=("plan",), content_check=_check_plan)
def build_plan(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The customer development plan for the current customer as an HTML document
    (`content.document`, `content.filename`): facts, what changed since the last plan, ranked
    tactics; `plan` holds what it says and the plan is stored."""
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
    tactics: list[TacticView] = []
    source = tactic_playbook(library)
    if source is not None:
        blocked, penalised, _ = blocked_tactics(turn, source, account)
        ranked = rank_tactics(turn, source, account, blocked, penalised,
                              at_risk(turn, account))
        if not account.stage:
            ranked = [t for t in ranked if undiagnosed_fit(t)]
        tactics = _each_why_once(describe_first(turn, source, account, ranked, 3))
    reviewed = account.reviewed_at or account.created_at
    content = library.content(turn.playbook, locale)
    for change in changes:
        change["text"] = _change_in_words(turn, content, change)
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
        # placeholders never read as content (coach/shown_notes.py)
        "notes": [{"date": turn.local_date(n.created_at), "text": shown_note(turn, n.text)}
                  for n in turn.store.recent_notes(account, 5)],
        # each person once, with every role he holds: 王主任（决策者、影响者）
        "colleagues": [{"name": a.name,
                        "roles": [library.label("roles", r, locale) for r in roles_of(a)]}
                       for a in turn.store.active_accounts()
                       if account.hospital and a.hospital == account.hospital and roles_of(a)],
        "tactics": tactics,
        "objections": [{"name": library.label("objections", o.kind, locale),
                        "phrase": shown_note(turn, o.phrase),
                        "date": turn.local_date(o.created_at)}
                       for o in turn.store.open_objections(account)],
        # what is already booked with him, soonest first (the card and /today list it too)
        "followups": [{"due": f.due_date, "action": f.action}
                      for f in turn.store.open_followups(account)],
        "review_by": turn.local_date(reviewed + REVIEW_AFTER),
        "changes": changes,
        "previous_date": turn.local_date(previous.created_at) if previous else None,
        "generated": turn.local_date(turn.now),
    }
    turn.store.add_plan(account, facts, turn.now)
    turn.vars["plan"] = plan
    turn.document(str(content["document"]), turn.render(str(content["filename"]), plan=plan),
                  "plan.html", plan=plan)


@action("add_lesson", args={"kind": ("stage_change", "lost", "win", "other")})
def add_lesson(turn: Turn, args: Mapping[str, Any]) -> None:
    """Keep the lesson the rep typed (`lesson`, up to 500 characters) on the current customer,
    filed under `kind`, so /cases finds it later; an empty answer keeps nothing."""
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
