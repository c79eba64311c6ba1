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

from coach.store.models import Account, QuizResult, Suggestion


@cache
def rows_of_accounts(model: Any, *, open_only: bool, dated: bool) -> Select[Any]:
    """`model`'s rows (notes, objections, stage changes) of the rep's accounts `ids`; with
    `open_only` only those still open, with `dated` only those from `since` on."""
    statement = select(model).where(model.rep_id == bindparam("rep_id"),
                                    model.account_id.in_(bindparam("ids", expanding=True)))
    if open_only:
        statement = statement.where(model.status == "open")
    if dated:
        statement = statement.where(model.created_at >= bindparam("since"))
    return statement


@cache
def latest_dominant() -> Any:
    """The dominant quadrants of the rep's latest quiz, as a scalar subquery."""
    return (select(QuizResult.dominant).where(QuizResult.rep_id == bindparam("rep_id"))
            .order_by(QuizResult.created_at.desc(), QuizResult.id.desc()).limit(1)
            .scalar_subquery())


@cache
def quiz_style() -> Select[Any]:
    return select(latest_dominant())


@cache
def tactic_history() -> Select[Any]:
    """See RepStore.tactic_history: the count of suggestions offered since
    `offered_since`, the rep's quiz style, and the customer's (`account_id`) suggestions
    that may block one: offered since `since`, answered since `dismissed_since`, ever
    dismissed, or put off past `now`."""
    mine = aliased(Suggestion)
    offered = (select(func.count(Suggestion.id))
               .where(Suggestion.rep_id == bindparam("rep_id"),
                      Suggestion.offered_at >= bindparam("offered_since"))
               .scalar_subquery())
    one = select(literal(1).label("one")).subquery()
    return (select(offered, latest_dominant(), mine.tactic_id, mine.status, mine.offered_at,
                   mine.answered_at, mine.reason, mine.snoozed_until)
            .select_from(one)
            .outerjoin(mine, and_(
                mine.account_id == bindparam("account_id"),
                mine.rep_id == bindparam("rep_id"),
                (mine.offered_at >= bindparam("since"))
                | (mine.answered_at >= bindparam("dismissed_since"))
                | (mine.status == "dismissed")
                | (mine.snoozed_until > bindparam("now")))))


@cache
def account_entries() -> Select[Any]:
    """The rep's live accounts as names and places, most recent first."""
    return cast(Select[Any], select(Account.id, Account.name, Account.hospital,
                                    Account.department, Account.title)
            .where(Account.rep_id == bindparam("rep_id"), Account.archived.is_(False))
            .order_by(Account.updated_at.desc(), Account.id.desc()))


@cache
def active_accounts() -> Select[Any]:
    return select(Account).where(Account.rep_id == bindparam("rep_id"),
                                 Account.archived.is_(False))
