"""The shapes of the objects templates read (`account`, `rep`, …), as TypedDicts: the code
that builds each one is type-checked against its shape, and `coach.validate` reads the same
shape to refuse `{{ account.nmae }}` before a rep meets it. One list, so they cannot drift.
"""

from __future__ import annotations

from typing import Any, TypedDict

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
