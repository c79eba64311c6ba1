"""The reads a heavy turn runs, built once with bind parameters.

Building a statement with SQLAlchemy's expression language costs Python each time: 0.1 ms
for a plain select, 1.5 ms for the suggestion history (an aliased outer join with two
scalar subqueries). After a saved visit a turn runs a dozen, and on PostgreSQL they were a
fifth of the turn's CPU. Built once, a statement costs only its cache key when it runs; its
values go in as parameters (`rep_id`, `ids`, `since`, ...)."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, func, literal, select
from sqlalchemy.orm import aliased

from coach.store.models import (
    CLOSED_REPORTS,
    Account,
    AdverseEvent,
    Note,
    Objection,
    QuizResult,
    StageChange,
    Suggestion,
)


def _of_accounts(statement: Select[Any], model: Any, dated: bool) -> Select[Any]:
    """`statement` for the rep's accounts `ids`, and from `since` on when `dated`."""
    statement = statement.where(model.rep_id == bindparam("rep_id"),
                                model.account_id.in_(bindparam("ids", expanding=True)))
    return statement.where(model.created_at >= bindparam("since")) if dated else statement


@cache
def note_texts(dated: bool) -> Select[Any]:
    """The notes of `ids` as (id, account_id, text, created_at) rows: what the readers of
    notes use, without building an ORM object and decoding two JSON columns a note."""
    columns = cast(Select[Any], select(Note.id, Note.account_id, Note.text, Note.created_at))
    return _of_accounts(columns, Note, dated)


@cache
def open_objections(dated: bool) -> Select[Any]:
    return _of_accounts(select(Objection).where(Objection.status == "open"), Objection, dated)


@cache
def stage_changes(dated: bool) -> Select[Any]:
    return _of_accounts(select(StageChange), StageChange, dated)


@cache
def latest_dominant() -> Any:
    """The dominant quadrants of the rep's latest quiz, as a scalar subquery."""
    return (select(QuizResult.dominant).where(QuizResult.rep_id == bindparam("rep_id"))
            .order_by(QuizResult.created_at.desc(), QuizResult.id.desc()).limit(1)
            .scalar_subquery())


@cache
def quiz_style() -> Select[Any]:
    return select(latest_dominant())


TIP = "tip"  # a tip shown after a logged visit: remembered, never answered, not capped


@cache
def tactic_history() -> Select[Any]:
    """See RepStore.tactic_history: the count of suggestions offered since
    `offered_since`, the rep's quiz style, the count of the customer's open safety reports,
    and the customer's (`account_id`) suggestions
    that may block one: offered since `since`, answered since `dismissed_since`, ever
    dismissed, or put off past `now`. The tips shown after logged visits (`TIP`) are no
    suggestion the rep answers: they neither block one nor count towards the cap; they come
    back too (each row's id last, for their order), so the tip after a visit knows which
    ones were shown without another round trip (RepStore.recent_tips)."""
    mine = aliased(Suggestion)
    offered = (select(func.count(Suggestion.id))
               .where(Suggestion.rep_id == bindparam("rep_id"), Suggestion.status != TIP,
                      Suggestion.offered_at >= bindparam("offered_since"))
               .scalar_subquery())
    reports = (select(func.count(AdverseEvent.id))
               .where(AdverseEvent.rep_id == bindparam("rep_id"),
                      AdverseEvent.account_id == bindparam("account_id"),
                      AdverseEvent.status.not_in(CLOSED_REPORTS))
               .scalar_subquery())
    one = select(literal(1).label("one")).subquery()
    return (select(offered, latest_dominant(), reports, mine.tactic_id, mine.status,
                   mine.offered_at, mine.answered_at, mine.reason, mine.snoozed_until,
                   mine.id)
            .select_from(one)
            .outerjoin(mine, and_(
                mine.account_id == bindparam("account_id"),
                mine.rep_id == bindparam("rep_id"),
                (mine.status == TIP) | (
                    (mine.status != TIP)
                    & ((mine.offered_at >= bindparam("since"))
                       | (mine.answered_at >= bindparam("dismissed_since"))
                       | (mine.status == "dismissed")
                       | (mine.snoozed_until > bindparam("now")))))))


@cache
def account_entries() -> Select[Any]:
    """The rep's live accounts as names and places (and name keys, to find a family among
    them without reading again), most recent first."""
    return cast(Select[Any], select(Account.id, Account.name, Account.hospital,
                                    Account.department, Account.title, Account.name_key)
            .where(Account.rep_id == bindparam("rep_id"), Account.archived.is_(False))
            .order_by(Account.updated_at.desc(), Account.id.desc()))


@cache
def active_accounts() -> Select[Any]:
    return select(Account).where(Account.rep_id == bindparam("rep_id"),
                                 Account.archived.is_(False))
