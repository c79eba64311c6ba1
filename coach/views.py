"""The shapes of the objects templates read (`account`, `rep`, …), as TypedDicts: the code
that builds each one is type-checked against its shape, and `coach.validate` reads the same
shape to refuse `{{ account.nmae }}` before a rep meets it. One list, so they cannot drift.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from coach.store.models import Account


class AccountView(TypedDict):
    """`account` in a template: the current customer."""

    id: int
    name: str
    hospital: str | None
    department: str | None
    kind: str | None
    stage: str | None
    stage_name: str | None
    stage_confidence_pct: int | None
    style: str | None
    style_name: str | None
    style_confidence_pct: int | None


class RepView(TypedDict):
    """`rep` in a template: the rep who is chatting."""

    name: str
    locale: str
    manager: bool  # a team's manager: /menu shows the team entries


class DateView(TypedDict):
    """A date as templates show it (coach.actions.dates.date_view): `proposal.due`."""

    iso: str
    month: int
    day: int
    weekday: int
    year: int
    other_year: bool
    weekend: bool


class ProposalCustomer(TypedDict):
    """`proposal.customer`: who the visit is filed under (`new`: not in the store yet)."""

    name: str | None
    hospital: str | None
    department: str | None
    new: bool


class ProposalSignal(TypedDict, total=False):
    """`proposal.updates[]`, `proposal.objections[]`: what the note hints at, by name, with
    the words it was read from."""

    kind: str
    value: str | None
    phrase: str
    at: int
    stage: str
    name: str | None


class ProposalFollowUp(TypedDict):
    """`proposal.replaces[]`, `proposal.kept[]`: an open follow-up of the customer."""

    id: int
    action: str | None
    day: str
    note_id: int | None
    due: DateView | None


class ProposalPerson(TypedDict, total=False):
    """`proposal.others[]`: someone else the note names."""

    name: str | None
    hospital: str | None
    department: str | None
    title: str | None


class ProposalView(TypedDict):
    """`proposal`: what the rep is asked to confirm before a visit is saved."""

    customer: ProposalCustomer | None
    due: DateView | None
    action: str | None
    updates: list[ProposalSignal]
    objections: list[ProposalSignal]
    replaces: list[ProposalFollowUp]
    kept: list[ProposalFollowUp]
    others: list[ProposalPerson]
    amends: bool
    # the day off a working deadline came to; `due` is the working day before it
    off_day: NotRequired[DateView | None]


def account_view(account: Account, stage_name: str | None,
                 style_name: str | None) -> AccountView:
    """The customer as templates read him (`stage_name`/`style_name` in the rep's language)."""
    return AccountView(
        id=account.id,
        name=account.name,
        hospital=account.hospital,
        department=account.department,
        kind=account.kind,
        stage=account.stage,
        stage_name=stage_name,
        stage_confidence_pct=_pct(account.stage_confidence),
        style=account.style,
        style_name=style_name,
        style_confidence_pct=_pct(account.style_confidence),
    )


def rep_view(name: str, locale: str, manager: bool = False) -> RepView:
    return RepView(name=name, locale=locale, manager=manager)


def fields_of(shape: Any) -> frozenset[str]:
    """The keys of a TypedDict shape."""
    return frozenset(shape.__required_keys__ | shape.__optional_keys__)


def _pct(value: float | None) -> int | None:
    return None if value is None else round(value * 100)
