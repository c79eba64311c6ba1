"""What the weekly digest says: to a manager about their team, to a rep about their own week.

Read-only over the store; the texts are the catalog's `digest_manager` and `digest_rep`
(playbooks/system.yaml), given one variable, `digest`. When and to whom it goes, and how it
goes exactly once, is coach/digest_schedule.py's job.

The week is the seven days before the digest's moment. A manager reads: stage moves of the
team's customers; stalled key accounts (no visit for N days, or the stage unchanged for M
weeks: `DigestSettings`); regression alerts (a stage gone down, a generic or competitor
objection from a customer at evaluation or later: seed 002); open adverse events and flagged
texts; reps who logged no visit in the week; each rep's overdue follow-ups; who took the
thinking-preference quiz. A rep
reads their moves, their follow-ups due in the coming week (or overdue), and one tactic to
try with one of their key accounts, or a coaching card when no customer has a stage yet.

The chat text stays short (each list cut to CHAT_LIMIT, open adverse events to LIST_LIMIT);
every item, with its dates and evidence, is in the digest's detail, an HTML document
(`digest_manager_document`, `digest_rep_document`) carried by the reply and sent like a
plan: a signed link where documents are served, a file otherwise (coach/documents/replies.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.actions.regression import ADVANCED, REGRESSION_OBJECTIONS
from coach.actions.tactics import tactic_playbook
from coach.actions.team import flag_label, rep_label
from coach.cards import card_text, rotation
from coach.funnel import Move, key_tiers, moves
from coach.library import Library
from coach.messages import Attachment, Reply, safe_filename
from coach.playbook import STAGES
from coach.settings import DigestSettings
from coach.store.models import (
    CLOSED_REPORTS,
    OPEN_FOLLOWUPS,
    Account,
    AdverseEvent,
    ComplianceRecord,
    FollowUp,
    Note,
    Objection,
    QuizResult,
    Rep,
    StageChange,
    Suggestion,
)
from coach.templating import render

WEEK = timedelta(days=7)
LIST_LIMIT = 10  # open adverse events in the chat text; the rest are counted
CHAT_LIMIT = 3  # items of every other list in the chat text; all of them are in the detail
_ORDER = {stage: index for index, stage in enumerate(STAGES)}


@dataclass(frozen=True)
class Window:
    """The digest's week: [start, end) in UTC, and the company's clock offset."""

    end: datetime
    offset: timedelta

    @property
    def start(self) -> datetime:
        return self.end - WEEK

    def local_date(self, moment: datetime) -> date:
        return (moment + self.offset).date()

    def label(self, moment: datetime) -> str:
        return self.local_date(moment).strftime("%m-%d")


def manager_digest(session: Session, library: Library, manager: Rep, now: datetime,
                   settings: DigestSettings, offset_hours: int) -> list[Reply]:
    """The team's week for its manager (nothing for a manager without a team)."""
    if not manager.team:
        return []
    window = Window(now, timedelta(hours=offset_hours))
    locale = manager.locale
    everyone = session.execute(select(Rep).where(Rep.team == manager.team,
                                                 Rep.id != manager.id)
                               .order_by(Rep.name, Rep.id)).scalars().all()
    members = [m for m in everyone if m.active and m.forgotten_at is None]
    names = {m.id: rep_label(library, locale, m) for m in everyone}
    ids = [m.id for m in members]
    week_moves = _moves(session, library, locale, ids, window, names)
    stalled = _stalled(session, ids, now, settings, key_tiers(library), names, window)
    regressions = _regressions(session, library, locale, ids, window, names)
    visited = set(session.execute(select(Note.rep_id).where(
        Note.rep_id.in_(ids), Note.created_at >= window.start,
        Note.created_at < now)).scalars().all())
    quizzes = session.execute(select(QuizResult.rep_id, func.max(QuizResult.created_at))
                              .where(QuizResult.rep_id.in_(ids))
                              .group_by(QuizResult.rep_id)).all()
    took = {rep_id: at for rep_id, at in quizzes}
    all_ids = [m.id for m in everyone]
    events = session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id.in_(all_ids),
                                   AdverseEvent.status.not_in(CLOSED_REPORTS))
        .order_by(AdverseEvent.deadline)).scalars().all()
    flagged = session.execute(
        select(ComplianceRecord).where(ComplianceRecord.rep_id.in_(all_ids),
                                       ComplianceRecord.created_at >= window.start,
                                       ComplianceRecord.created_at < now)
        .order_by(ComplianceRecord.created_at.desc())).scalars().all()
    digest = {
        "overdue": _overdue(session, members, names, window.local_date(now).isoformat()),
        "team": manager.team, "start": window.label(window.start),
        "end": window.label(now - timedelta(seconds=1)), "reps": len(members),
        **_listed("moves", week_moves),
        "forward": sum(1 for m in week_moves if m["direction"] == "forward"),
        "back": sum(1 for m in week_moves if m["direction"] == "back"),
        **_listed("stalled", stalled),
        "stalled_days": settings.stalled_visit_days,
        "stalled_weeks": settings.stalled_stage_weeks,
        **_listed("regressions", regressions),
        **_listed("events", [{"rep": names[e.rep_id], "customer": e.customer or "",
                              "phrase": e.phrase, "report": e.report,
                              "kind": library.message(f"report_kind_{e.kind}", locale),
                              "reported": _local_time(window, e.day0),
                              "deadline": _local_time(window, e.deadline),
                              "overdue": e.deadline <= now,
                              "unconfirmed": e.status == "unconfirmed"} for e in events],
                  LIST_LIMIT),
        **_listed("flagged", [{"rep": names[r.rep_id], "date": window.label(r.created_at),
                               "customer": r.customer or "", "text": r.text,
                               "edited": r.kind == "edited",
                               "categories": [flag_label(library, locale, c)
                                              for c in r.categories]} for r in flagged]),
        "idle": [names[m.id] for m in members if m.id not in visited],
        "quiz": [{"rep": names[m.id], "date": window.label(took[m.id]) if m.id in took
                  else ""} for m in members],
        "quiz_done": sum(1 for m in members if m.id in took),
        "quiz_week": [names[m.id] for m in members
                      if m.id in took and took[m.id] >= window.start],
        "quiz_never": [names[m.id] for m in members if m.id not in took],
    }
    return [_with_detail(library, locale, "digest_manager", digest, window.local_date(now),
                         manager.team)]


def rep_digest(session: Session, library: Library, rep: Rep, now: datetime,
               offset_hours: int) -> list[Reply]:
    """A rep's own week: their moves, follow-ups due, one tactic to try. Nothing for a rep
    with no customers yet: the digest has nothing to tell them."""
    window = Window(now, timedelta(hours=offset_hours))
    locale = rep.locale
    accounts = session.execute(select(Account).where(Account.rep_id == rep.id,
                                                     Account.archived.is_(False))
                               ).scalars().all()
    if not accounts:
        return []
    names = {rep.id: rep.name}
    week_moves = _moves(session, library, locale, [rep.id], window, names)
    today = window.local_date(now)
    horizon = (today + WEEK).isoformat()
    followups = session.execute(
        select(FollowUp, Account).join(Account, Account.id == FollowUp.account_id)
        .where(FollowUp.rep_id == rep.id, FollowUp.status.in_(OPEN_FOLLOWUPS),
               FollowUp.due_date <= horizon, Account.archived.is_(False))
        .order_by(FollowUp.due_date, FollowUp.id)).all()
    digest = {
        "start": window.label(window.start), "end": window.label(now - timedelta(seconds=1)),
        **_listed("moves", week_moves),
        **_listed("followups", [{"name": account.name, "hospital": account.hospital or "",
                                 "due": f.due_date, "action": f.action or "",
                                 "overdue": f.due_date < today.isoformat()}
                                for f, account in followups]),
        "tactic": _tactic(session, library, rep, accounts, key_tiers(library)),
        "tip": card_text(library, locale, rotation(session, rep, now)),
    }
    return [_with_detail(library, locale, "digest_rep", digest, today, "")]


def _with_detail(library: Library, locale: str, key: str, digest: Mapping[str, Any],
                 day: date, team: str) -> Reply:
    """The digest's chat text (`key`) carrying its detail (`key`_document), named after the
    team and the day it went out. Both come from the same `digest`, read in the claim's
    transaction, so the detail says what the chat text says."""
    name = library.message("digest_filename", locale, team=team, day=day.isoformat())
    html = library.html(f"{key}_document", locale, digest=digest)
    attachment = Attachment(f"{safe_filename(name, 'digest')}.html", "text/html",
                            html.encode("utf-8"))
    return Reply(library.message(key, locale, digest=digest), attachment=attachment)


def _listed(name: str, items: Sequence[Any], limit: int = CHAT_LIMIT) -> dict[str, Any]:
    """`items` cut to `limit` for the chat text, all of them (`NAME_all`) for the detail,
    and how many there are."""
    return {name: list(items[:limit]), f"{name}_all": list(items),
            f"{name}_count": len(items)}


def _overdue(session: Session, members: Sequence[Rep], names: Mapping[int, str],
             today: str) -> list[dict[str, Any]]:
    """Per rep, the follow-ups still open whose date (company time) has passed, on
    customers not archived; reps with none left out, in the team's order."""
    counts = dict(session.execute(
        select(FollowUp.rep_id, func.count(FollowUp.id))
        .join(Account, Account.id == FollowUp.account_id)
        .where(FollowUp.rep_id.in_([m.id for m in members]),
               FollowUp.status.in_(OPEN_FOLLOWUPS), FollowUp.due_date < today,
               Account.archived.is_(False))
        .group_by(FollowUp.rep_id)).all())
    return [{"rep": names[m.id], "count": counts[m.id]} for m in members if counts.get(m.id)]


def _local_time(window: Window, moment: datetime) -> str:
    return (moment + window.offset).strftime("%m-%d %H:%M")


def _moves(session: Session, library: Library, locale: str, rep_ids: list[int],
           window: Window, names: Mapping[int, str]) -> list[dict[str, Any]]:
    """Customers whose stage differs from a week ago (first diagnoses included), the ones
    moving back first."""
    changed: dict[int, datetime] = dict(session.execute(
        select(StageChange.account_id, func.max(StageChange.created_at)).where(
            StageChange.rep_id.in_(rep_ids), StageChange.created_at >= window.start,
            StageChange.created_at < window.end).group_by(StageChange.account_id)).all())
    found = [m for m in moves(session, rep_ids, window.start)
             if m.account.id in changed and m.direction in ("forward", "back", "new")]
    rank = {"back": 0, "forward": 1, "new": 2}
    found.sort(key=lambda m: (rank[m.direction], names.get(m.account.rep_id, ""),
                              m.account.name))
    return [_move_view(library, locale, m, names, window.label(changed[m.account.id]))
            for m in found]


def _move_view(library: Library, locale: str, move: Move, names: Mapping[int, str],
               day: str) -> dict[str, Any]:
    return {"rep": names.get(move.account.rep_id, ""), "name": move.account.name,
            "hospital": move.account.hospital or "", "direction": move.direction,
            "before": library.stage_name(move.before, locale),
            "after": library.stage_name(move.after, locale), "date": day}


def _stalled(session: Session, rep_ids: list[int], now: datetime, settings: DigestSettings,
             tiers: list[str], names: Mapping[int, str],
             window: Window) -> list[dict[str, Any]]:
    """Key accounts not visited for N days, or whose stage has not moved for M weeks; the
    longest without a visit first."""
    accounts = session.execute(select(Account).where(
        Account.rep_id.in_(rep_ids), Account.archived.is_(False), Account.tier.in_(tiers))
    ).scalars().all()
    ids = [a.id for a in accounts]
    visits = dict(session.execute(select(Note.account_id, func.max(Note.created_at))
                                  .where(Note.account_id.in_(ids))
                                  .group_by(Note.account_id)).all())
    changes = stages_at_times(session, ids)
    found = []
    for account in accounts:
        visited = visits.get(account.id) or account.created_at
        changed = changes.get(account.id) or account.created_at
        no_visit = now - visited >= timedelta(days=settings.stalled_visit_days)
        unchanged = now - changed >= timedelta(weeks=settings.stalled_stage_weeks)
        if no_visit or unchanged:
            found.append((visited, {
                "rep": names.get(account.rep_id, ""), "name": account.name,
                "hospital": account.hospital or "", "tier": account.tier or "",
                "no_visit": no_visit, "unchanged": unchanged,
                "days": (now - visited).days, "weeks": (now - changed).days // 7,
                "last_visit": window.label(visits[account.id]) if account.id in visits
                else ""}))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def _regressions(session: Session, library: Library, locale: str, rep_ids: list[int],
                 window: Window, names: Mapping[int, str]) -> list[dict[str, Any]]:
    """This week's signs of customers moving back (seed 002): a stage diagnosed lower than
    the one before, or a generic/competitor objection from a customer at evaluation or
    later; one line per customer, newest evidence first."""
    found: dict[int, dict[str, Any]] = {}
    for change, account in session.execute(
            select(StageChange, Account).join(Account, Account.id == StageChange.account_id)
            .where(StageChange.rep_id.in_(rep_ids), StageChange.created_at >= window.start,
                   StageChange.created_at < window.end, Account.archived.is_(False))
            .order_by(StageChange.created_at.desc())).all():
        before, after = _ORDER.get(change.previous_stage or ""), _ORDER.get(change.stage)
        if before is not None and after is not None and after < before:
            found.setdefault(account.id, {
                "rep": names.get(account.rep_id, ""), "name": account.name,
                "hospital": account.hospital or "", "date": window.label(change.created_at),
                "before": library.stage_name(change.previous_stage, locale),
                "after": library.stage_name(change.stage, locale), "phrase": ""})
    for objection, account in session.execute(
            select(Objection, Account).join(Account, Account.id == Objection.account_id)
            .where(Objection.rep_id.in_(rep_ids), Objection.status == "open",
                   Objection.kind.in_(REGRESSION_OBJECTIONS),
                   Objection.created_at >= window.start, Objection.created_at < window.end,
                   Account.archived.is_(False), Account.stage.in_(ADVANCED))
            .order_by(Objection.created_at.desc())).all():
        found.setdefault(account.id, {
            "rep": names.get(account.rep_id, ""), "name": account.name,
            "hospital": account.hospital or "", "date": window.label(objection.created_at),
            "before": None, "after": None, "phrase": objection.phrase})
    return list(found.values())


def _tactic(session: Session, library: Library, rep: Rep, accounts: Sequence[Account],
            tiers: list[str]) -> dict[str, Any] | None:
    """One tactic for one customer: a key account with a stage first (the one diagnosed
    longest ago), else any customer with a stage; the stage's tactic that best fits the
    customer's style, leaving out tactics the rep dismissed for that customer."""
    playbook = tactic_playbook(library)
    staged = [a for a in accounts if a.stage in _ORDER]
    if playbook is None or not staged:
        return None
    last_change = stages_at_times(session, [a.id for a in staged])
    staged.sort(key=lambda a: (a.tier not in tiers, last_change.get(a.id, a.created_at),
                               a.id))
    account = staged[0]
    dismissed = set(session.execute(select(Suggestion.tactic_id).where(
        Suggestion.rep_id == rep.id, Suggestion.account_id == account.id,
        Suggestion.status == "dismissed")).scalars().all())
    tactics = [t for t in library.content(playbook, rep.locale)["tactics"]
               if t.get("stage") == account.stage and t["id"] not in dismissed]
    if not tactics:
        return None
    style = set(account.style or "")
    tactic = max(tactics, key=lambda t: len(style & set(t.get("styles") or [])))
    fits = bool(style & set(tactic.get("styles") or []))
    context = {"account": {"name": account.name, "hospital": account.hospital},
               "stage_name": library.stage_name(account.stage, rep.locale),
               "style_name": library.style_name(account.style, rep.locale) or "",
               "fits": fits, "objection": None, "risk": ""}
    return {"name": account.name, "hospital": account.hospital or "",
            "stage": context["stage_name"], "text": render(tactic["text"], context),
            "why": render(tactic["why"], context)}


def stages_at_times(session: Session, account_ids: list[int]) -> dict[int, datetime]:
    """When each customer's stage was last diagnosed."""
    return dict(session.execute(select(StageChange.account_id, func.max(StageChange.created_at))
                                .where(StageChange.account_id.in_(account_ids))
                                .group_by(StageChange.account_id)).all())

