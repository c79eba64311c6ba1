"""A manager's coaching report on one rep of their team, like a ride-along report.

What it shows, all read from the rep's own records (never changed): the rep's thinking
profile (their latest quiz) next to the styles of their customers, and where the rep has to
flex (seed 005's advice, the same text the rep's suggestions carry); the stages of their key
accounts (the funnel's `key_tiers`, the same key accounts /funnel counts; when none is
screened yet, the customers touched most recently, shown as such and never called key
accounts); their moves over the funnel's window (coach/funnel.py `moves`, the one
definition); the rep's open adverse events and recent compliance flags; how they answered
the coach's suggestions and why they dismissed them; and two or three coaching points. The points
are content: `content.points` in coaching.yaml, each a condition on the facts here and a
text, the first `max_points` that hold, in order. A manager sees only reps of their own team.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from sqlalchemy import func, select

from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.tactics import tactic_playbook
from coach.actions.team import FLAGGED_DAYS
from coach.funnel import key_tiers, moves, window_weeks
from coach.names import name_key
from coach.playbook import STAGES, Playbook
from coach.shown_notes import shown_note
from coach.store.built import TIP
from coach.store.models import (
    CLOSED_REPORTS,
    Account,
    AdverseEvent,
    ComplianceRecord,
    Note,
    QuizResult,
    Rep,
    Suggestion,
)
from coach.store.repo import RepStore
from coach.templating import TemplateProblem, evaluate, undeclared_names
from coach.views import fields_of

if TYPE_CHECKING:
    from coach.context import Turn

STYLE_LETTERS = ("A", "B", "C", "D")
REASONS = ("not_fit", "done", "timing", "resources", "other")


class SuggestionTally(TypedDict):
    """How the rep answered suggestions: facts of the points and `report.suggestions`."""

    offered: int
    answered: int
    accepted: int
    dismissed: int
    later: int
    unanswered: int
    accepted_pct: int
    reasons: dict[str, int]
    top_reason: str | None


class CoachingFacts(SuggestionTally):
    """What a point's condition may read (coaching.yaml `points[].when`)."""

    has_profile: bool
    customers: int
    assessed: int
    flex_share: int
    same_share: int
    key_accounts: int
    screened: bool
    undiagnosed: int
    stalled: int
    moved_back: int
    advanced: int
    window_days: int
    stalled_days: int
    recent: int
    moved_weeks: int
    open_events: int
    overdue_events: int
    flags: int
    flag_days: int


class PointWords(CoachingFacts):
    """What a point's `text` may read: the facts, and the rep's name and style, and the
    most given reason by name. Declared to `coach.validate` (content_names), so a typo in a
    point's text fails `repcoach check` rather than the manager's /coaching."""

    rep_name: str
    rep_style_name: str
    top_reason_name: str


FACT_NAMES = fields_of(CoachingFacts)


class SuggestionCounts(SuggestionTally):
    """How the rep answered suggestions, with the notes they wrote (`report.suggestions`)."""

    other_notes: list[str]


class NamedCount(TypedDict):
    """A row of a count by name (`report.stages[]`, `report.reasons[]`)."""

    name: str | None
    count: int


class StyleScore(TypedDict):
    name: str | None
    score: int


class ProfileRow(TypedDict):
    """The rep's thinking profile (`report.profile`)."""

    style_name: str | None
    date: str
    scores: list[StyleScore]


class StyleRow(TypedDict):
    """One thinking style among the rep's customers (`report.styles[]`)."""

    letter: str
    name: str | None
    count: int
    mine: bool
    names: list[str]
    advice: str


class KeyAccountRow(TypedDict):
    """A key account (`report.key_accounts[]`)."""

    name: str
    hospital: str
    department: str
    tier: str
    stage_name: str | None
    style_name: str | None
    last_visit: str | None
    stalled: bool
    moved_back: bool


class PointRow(TypedDict):
    id: str
    text: str


class CoachingReport(TypedDict):
    """`report` in the coaching document and its file name: declared to `coach.validate`
    (content_names), so `report.rpe` fails `repcoach check`, not the manager's /coaching."""

    rep: str
    date: str
    facts: CoachingFacts
    key_tiers: list[str]
    profile: ProfileRow | None
    styles: list[StyleRow]
    unassessed: int
    key_accounts: list[KeyAccountRow]
    stages: list[NamedCount]
    undiagnosed: int
    suggestions: SuggestionCounts
    reasons: list[NamedCount]
    points: list[PointRow]


class ReportWords(TypedDict):
    """What the coaching document and its file name are rendered with."""

    report: CoachingReport


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("document",), ("filename",), ("points",), ("max_points",),
                               ("reasons",), ("window_days",), ("stalled_days",),
                               ("key_limit",))(playbook)
    for index, point in enumerate(playbook.content.get("points") or []):
        where = ("content", "points", index)
        if not isinstance(point, Mapping) or not {"id", "when", "text"} <= set(point):
            yield (where, "bad-point", "a coaching point needs id, when and text")
            continue
        try:
            unknown = undeclared_names(str(point["when"]), expression=True) - FACT_NAMES
        except TemplateProblem as exc:
            yield (where, "bad-point", f"point {point['id']}: {exc}")
            continue
        if unknown:
            yield (where, "bad-point", f"point {point['id']} reads unknown facts: "
                   f"{', '.join(sorted(unknown))} (known: {', '.join(sorted(FACT_NAMES))})")


def team_members(turn: Turn) -> list[Rep]:
    """The reps a manager may read: active members of the manager's team, by name; none for
    anyone who is not a manager of a team."""
    manager = turn.rep
    if manager.role != "manager" or not manager.team:
        return []
    return list(turn.store.session.execute(
        select(Rep).where(Rep.team == manager.team, Rep.id != manager.id,
                          Rep.active.is_(True), Rep.forgotten_at.is_(None))
        .order_by(Rep.name, Rep.id)).scalars().all())


@action("coaching_reps", provides=("coaching_allowed", "coaching_rep", "coaching_rep_list",
                                      "coaching_typed"))
def coaching_reps(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The team's reps to pick from, or the one named after the command (`/coaching 王芳`;
    a part of the name is enough when only one rep has it)."""
    manager = turn.rep
    members = team_members(turn)
    turn.vars["coaching_allowed"] = manager.role == "manager" and bool(manager.team)
    turn.vars["coaching_rep_list"] = [{"id": str(m.id), "label": m.name} for m in members]
    typed = name_key(str(turn.vars.get("command_args") or "").strip())
    turn.vars["coaching_rep"] = None
    turn.vars["coaching_typed"] = ""
    if typed:
        exact = [m for m in members if name_key(m.name) == typed]
        partial = [m for m in members if typed in name_key(m.name)]
        found = exact or partial
        turn.vars["coaching_rep"] = str(found[0].id) if len(found) == 1 else None
        turn.vars["coaching_typed"] = str(turn.vars.get("command_args") or "").strip()


def _latest_quiz(turn: Turn, rep: Rep) -> QuizResult | None:
    return turn.store.session.execute(
        select(QuizResult).where(QuizResult.rep_id == rep.id)
        .order_by(QuizResult.created_at.desc(), QuizResult.id.desc()).limit(1)
    ).scalar_one_or_none()


def _last_visits(turn: Turn, rep: Rep) -> dict[int, datetime]:
    return {account_id: moment for account_id, moment in turn.store.session.execute(
        select(Note.account_id, func.max(Note.created_at))
        .where(Note.rep_id == rep.id, Note.account_id.is_not(None))
        .group_by(Note.account_id)).all()}


def _moved_back(turn: Turn, rep: Rep, weeks: int) -> set[int]:
    """Customers who moved back over the funnel's window, as /funnel and the digest count
    a move (coach/funnel.py `moves`)."""
    return {m.account.id for m in moves(turn.store.session, [rep.id],
                                        turn.now - timedelta(weeks=weeks))
            if m.direction == "back"}


def _safety(turn: Turn, rep: Rep) -> dict[str, int]:
    """The rep's adverse events still open (and how many past their deadline), and the
    compliance flags on what they typed in the last FLAGGED_DAYS days, as /team counts
    them. Read only."""
    session = turn.store.session
    deadlines = session.execute(select(AdverseEvent.deadline).where(
        AdverseEvent.rep_id == rep.id, AdverseEvent.status.not_in(CLOSED_REPORTS))
    ).scalars().all()
    flags = session.scalar(select(func.count(ComplianceRecord.id)).where(
        ComplianceRecord.rep_id == rep.id,
        ComplianceRecord.created_at >= turn.now - timedelta(days=FLAGGED_DAYS))) or 0
    return {"open_events": len(deadlines),
            "overdue_events": sum(1 for d in deadlines if d <= turn.now),
            "flags": int(flags), "flag_days": FLAGGED_DAYS}


def _suggestions(turn: Turn, rep: Rep, since: datetime) -> SuggestionCounts:
    rows = turn.store.session.execute(
        select(Suggestion.status, Suggestion.reason)
        .where(Suggestion.rep_id == rep.id, Suggestion.offered_at >= since,
               Suggestion.status != TIP)).all()
    statuses = Counter(status for status, _ in rows)
    reasons: Counter[str] = Counter()
    notes: list[str] = []
    for status, reason in rows:
        if status != "dismissed":
            continue
        key, _, note = str(reason or "other").partition(": ")
        reasons[key if key in REASONS else "other"] += 1
        if note.strip():  # as every document shows a rep's words (coach/shown_notes.py)
            notes.append(shown_note(turn, note.strip()))
    offered = len(rows)
    answered = statuses["accepted"] + statuses["dismissed"] + statuses["later"]
    return {
        "offered": offered, "answered": answered, "accepted": statuses["accepted"],
        "dismissed": statuses["dismissed"], "later": statuses["later"],
        "unanswered": offered - answered,
        "accepted_pct": round(100 * statuses["accepted"] / offered) if offered else 0,
        "reasons": {r: reasons[r] for r in REASONS},
        "top_reason": reasons.most_common(1)[0][0] if reasons else None,
        "other_notes": notes[-5:],
    }


def _key_accounts(accounts: list[Account], tiers: list[str],
                  limit: int) -> tuple[list[Account], bool]:
    """The key accounts (tiers of `tiers`, the funnel's), tier first, then potential; when
    the rep has none, the customers touched most recently instead. The flag says which."""
    keys = [a for a in accounts if a.tier in tiers]
    if keys:
        keys.sort(key=lambda a: (tiers.index(str(a.tier)), -(a.potential or 0), a.name))
        return keys[:limit], True
    return sorted(accounts, key=lambda a: a.updated_at, reverse=True)[:limit], False


@action("coaching_report", provides=("coaching",), content_check=_check,
        content_names={"points": PointWords, "document": ReportWords,
                       "filename": ReportWords})
def coaching_report(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Build the report on the picked rep (`coaching_rep`, a rep id as text) and attach it
    as a document; `coaching` is None when that rep is not (or no longer) in the team."""
    chosen = str(turn.vars.get("coaching_rep") or "")
    rep = next((m for m in team_members(turn) if str(m.id) == chosen), None)
    turn.vars["coaching"] = None
    if rep is None:
        return
    library, locale = turn.library, turn.locale
    content = library.content(turn.playbook, locale)
    store = RepStore(turn.store.session, rep)  # read-only use: the rep's own scope
    accounts = [a for a in store.active_accounts() if a.kind != "hospital"]
    quiz = _latest_quiz(turn, rep)
    # every dominant style of the rep (人际型 + 分析型 is both), the first the strongest
    rep_styles = str(quiz.dominant) if quiz is not None else ""
    rep_style = rep_styles[:1]

    # the rep's styles next to the customers': a customer of two styles counts under both,
    # and shares the rep's style when any of his is one of hers
    styled = [a for a in accounts if a.style]
    styles = Counter(letter for a in styled for letter in set(str(a.style)))
    assessed = len(styled)
    shared = sum(1 for a in styled if set(str(a.style)) & set(rep_styles))
    tactics = tactic_playbook(library)
    tactic_content = library.content(tactics, locale) if tactics is not None else {}
    style_rows: list[StyleRow] = []
    for letter in STYLE_LETTERS:
        advice = ""
        if rep_style and styles[letter]:
            advice = (tactic_content.get("same_style", {}).get(letter, "")
                      if letter in rep_styles
                      else tactic_content.get("flex", {}).get(rep_style, {}).get(letter, ""))
        style_rows.append({
            "letter": letter, "name": library.style_name(letter, locale),
            "count": styles[letter], "mine": letter in rep_styles,
            "names": [a.name for a in styled if letter in str(a.style)][:8],
            "advice": advice})
    differing = assessed - shared if rep_style else 0

    # key accounts and their stages
    window_days, stalled_days = int(content["window_days"]), int(content["stalled_days"])
    visits = _last_visits(turn, rep)
    moved_weeks = window_weeks(library)
    back = _moved_back(turn, rep, moved_weeks)
    keys, screened = _key_accounts(accounts, key_tiers(library), int(content["key_limit"]))
    stalled_before = turn.now - timedelta(days=stalled_days)
    key_rows: list[KeyAccountRow] = [{
        "name": a.name, "hospital": a.hospital or "", "department": a.department or "",
        "tier": a.tier or "", "stage_name": library.stage_name(a.stage, locale),
        "style_name": library.style_name(a.style, locale),
        "last_visit": turn.local_date(visits[a.id]) if a.id in visits else None,
        "stalled": visits.get(a.id, a.created_at) < stalled_before,
        "moved_back": a.id in back} for a in keys]
    stage_counts = Counter(a.stage for a in keys)
    stages: list[NamedCount] = [{"name": library.stage_name(s, locale), "count": stage_counts[s]}
              for s in STAGES]

    suggestions = _suggestions(turn, rep, turn.now - timedelta(days=window_days))
    reason_names = content["reasons"]
    facts: dict[str, Any] = {
        "has_profile": quiz is not None, "customers": len(accounts), "assessed": assessed,
        "flex_share": round(100 * differing / assessed) if assessed and rep_style else 0,
        "same_share": round(100 * shared / assessed) if assessed and rep_style else 0,
        "key_accounts": len(keys) if screened else 0, "screened": screened,
        "recent": 0 if screened else len(keys), "moved_weeks": moved_weeks,
        **_safety(turn, rep),
        "undiagnosed": stage_counts[None],
        # about key accounts only, as /funnel counts them: none while none is screened
        "stalled": sum(1 for r in key_rows if r["stalled"]) if screened else 0,
        "moved_back": sum(1 for r in key_rows if r["moved_back"]) if screened else 0,
        "advanced": stage_counts["trial"] + stage_counts["adoption"] if screened else 0,
        "window_days": window_days, "stalled_days": stalled_days,
        **{k: v for k, v in suggestions.items() if k != "other_notes"},
    }
    words = {**facts, "rep_name": rep.name,
             "rep_style_name": library.style_name(rep_styles, locale) or "",
             "top_reason_name": reason_names.get(facts["top_reason"] or "", "")}
    points: list[PointRow] = [{"id": p["id"], "text": turn.render(str(p["text"]), **words)}
              for p in content["points"] if evaluate(str(p["when"]), facts)]
    report: CoachingReport = {
        # facts holds every CoachingFacts key (the points' conditions read them)
        "rep": rep.name, "date": turn.local_date(turn.now), "facts": cast(CoachingFacts, facts),
        "key_tiers": key_tiers(library),
        "profile": None if quiz is None else ProfileRow(
            style_name=library.style_name(str(quiz.dominant), locale),
            date=turn.local_date(quiz.created_at),
            scores=[StyleScore(name=library.style_name(k, locale), score=v)
                    for k, v in sorted(quiz.scores.items())]),
        "styles": style_rows, "unassessed": len(accounts) - assessed,
        "key_accounts": key_rows, "stages": stages,
        "undiagnosed": stage_counts[None],
        "suggestions": suggestions,
        "reasons": [{"name": reason_names[r], "count": suggestions["reasons"][r]}
                    for r in REASONS if suggestions["reasons"][r]],
        "points": points[:int(content["max_points"])],
    }
    turn.vars["coaching"] = report
    turn.document(str(content["document"]), turn.render(str(content["filename"]),
                                                        report=report),
                  "coaching-report.html", report=report)
