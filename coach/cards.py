"""Coaching cards of course unit 1 (seeds 000/001: 绩效先锋代表的共同特点, 关键成功要素),
kept in `playbooks/cards.yaml`, shown one at a time: in the weekly nudge, after a quiz
result, and when the rep types 成功要素.

Which card: the weeks since the rep joined plus the quizzes they took, modulo the number of
cards. Nudges come at least a week apart, so two nudges in a row never show the same card;
a quiz moves the rotation on by one, so the card after a quiz is not the one of that week's
nudge, and the next nudge's is not the quiz's either. Nothing is stored for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.store.models import QuizResult, Rep

if TYPE_CHECKING:
    from coach.library import Library

PLAYBOOK = "cards"
WEEK_DAYS = 7


def rotation(session: Session, rep: Rep, now: datetime) -> int:
    """Where `rep` is in the rotation at `now`."""
    weeks = max(0, (now - rep.created_at).days) // WEEK_DAYS
    quizzes = session.execute(
        select(func.count(QuizResult.id)).where(QuizResult.rep_id == rep.id)).scalar_one()
    return weeks + int(quizzes)


def card_at(library: Library, locale: str, index: int) -> Mapping[str, Any] | None:
    """The card at `index` of the rotation, localized, or None with no cards playbook."""
    playbook = library.playbooks.get(PLAYBOOK)
    if playbook is None:
        return None
    cards = library.content(playbook, locale).get("cards") or []
    return cards[index % len(cards)] if cards else None


def card_text(library: Library, locale: str, index: int) -> str:
    """The card as the rep reads it (the catalog's `coaching_card`), or "" with none."""
    card = card_at(library, locale, index)
    return library.message("coaching_card", locale, card=card) if card else ""
