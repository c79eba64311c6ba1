"""The coaching card of the moment (coach/cards.py): after a quiz result, or asked for by
typing 成功要素."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import ContentIssue, action, check_item_keys, check_unique_ids
from coach.cards import PLAYBOOK, card_text, rotation
from coach.playbook import Playbook

if TYPE_CHECKING:
    from coach.context import Turn

FIELDS = ("id", "title", "text", "action")
OPTIONAL_FIELDS = ("source",)  # where in the course material the card comes from


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    cards = playbook.content.get("cards") if playbook.id == PLAYBOOK else None
    if playbook.id == PLAYBOOK and (not isinstance(cards, list) or len(cards) < 2):
        yield (("content", "cards"), "missing-content",
               "content.cards needs two cards or more, so that they can rotate")
    for index, card in enumerate(cards or []):
        path = ("content", "cards", index)
        if not isinstance(card, Mapping):
            yield (path, "bad-card", f"a card is a mapping with {', '.join(FIELDS)}")
            continue
        yield from check_item_keys(card, path, f"card {card.get('id', index + 1)}", FIELDS,
                                   OPTIONAL_FIELDS)
    yield from check_unique_ids(cards or [], ("content", "cards"), "card", "duplicate-card")


@action("coaching_card", provides=("card",), content_check=_check, plain_content=("cards",))
def coaching_card(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`card`: the coaching card of the moment (`cards` playbook) in the rotation, as the
    catalog's `coaching_card` words it; `card_offset` cards further on after 下一张."""
    offset = turn.vars.get("card_offset")
    turn.vars["card"] = card_text(turn.library, turn.locale,
                                  rotation(turn.store.session, turn.rep, turn.now)
                                  + (offset if isinstance(offset, int) else 0))


@action("next_card", provides=("card_offset",))
def next_card(turn: Turn, _args: Mapping[str, Any]) -> None:
    """"下一张": the card after the one shown, in this conversation only (the rotation of
    the weekly nudge does not move)."""
    offset = turn.vars.get("card_offset")
    turn.vars["card_offset"] = (offset if isinstance(offset, int) else 0) + 1
