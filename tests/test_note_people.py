"""A note about two people the rep met: filed under the first, the other offered with their
own next step; the first does not take the other's ("刘医生让我明天送样品" is 刘医生's).
"""

from __future__ import annotations

from datetime import date

import pytest

from coach.capture import read_note, read_note_about
from coach.capture.lexicon import Lexicon

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(("note", "customer", "own", "other", "where", "theirs"), [
    ("上午见了301医院冯主任，下午去阜外找了郑主任，冯主任说下周一再去，郑主任让我周五送指南解读",
     "冯主任", date(2026, 12, 14), "郑主任", "阜外", (date(2026, 12, 11), "送指南解读")),
    ("和张主任、刘医生一起开了会，刘医生让我明天送样品",
     "张主任", None, "刘医生", None, (date(2026, 12, 8), "送样品")),
    ("Saw Dr Feng at 301 Hospital, then Dr Zheng at Fuwai; Dr Feng said come back Tuesday, "
     "Dr Zheng wants the guideline on Friday",
     "Dr Feng", date(2026, 12, 8), "Dr Zheng", "Fuwai", (date(2026, 12, 11), None)),
])
def test_the_other_person_gets_their_own_next_step(
        lexicon: Lexicon, note: str, customer: str, own: date | None, other: str,
        where: str | None, theirs: tuple[date, str | None]) -> None:
    facts = read_note(lexicon, note, MONDAY)
    assert facts.mention is not None and facts.mention.name == customer
    assert facts.due == own
    assert [(o.name, o.hospital) for o in facts.others] == [(other, where)]
    about = read_note_about(lexicon, note, MONDAY, other)
    assert (about.due, about.action) == theirs


@pytest.mark.parametrize("note", [
    "王主任出差了，见了石副主任，他要三期数据",
    "黄主任的研究生小叶说资料收到了",
    "李明华主任说下周再来，李主任被叫走了",
])
def test_people_not_met_or_named_twice_are_no_others(lexicon: Lexicon, note: str) -> None:
    assert read_note(lexicon, note, MONDAY).others == ()
