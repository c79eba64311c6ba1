"""A note about two people the rep met: filed under one, the other offered with their own
next step; neither takes the other's ("郑主任让我周五送指南解读" is 郑主任's).
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
    # both met: the one who asked something of the rep is the customer, the other offered
    ("见了冯主任，下午又见了郑主任，冯主任说下周一再去，郑主任让我周五送指南解读",
     "郑主任", date(2026, 12, 11), "冯主任", None, (date(2026, 12, 14), "再去")),
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


@pytest.mark.parametrize(("note", "customer"), [
    # of two met, the one who asked something of the rep
    ("和张主任、刘医生一起开了会，刘医生让我明天送样品", "刘医生"),
    ("覃教授 今天跟她和她们科的黎医生一起吃了午饭 黎医生第一次见 覃教授让我2.1之前把议程定下来",
     "覃教授"),
    # else the new contact the note goes on about
    ("今天在桂林妇幼见了莫院长和他们产科的卢主任 卢主任第一次见 我下周一去产科找卢主任对接",
     "卢主任"),
    # the one the rep says they met, alone
    ("Prof. Sun asked me to see Dr. Meng in endo instead, met Dr. Meng today", "Dr. Meng"),
    # names with no listed family name, standing alone before a title
    ("新疆医科大学第一附属医院骨科 阿不都热依木主任 第一次见", "阿不都热依木主任"),
    ("喀什地区第一人民医院 眼科 买买提主任 第一次拜访", "买买提主任"),
    ("Met Prof. Qi Hong-mei, heme, first time", "Prof. Qi Hong-mei"),
    # a city is no person; someone not met stays not met when named again
    ("沈阳这边 姜主任 血液 今天心情不错", "姜主任"),
    # a family name the list lacks, standing alone before its title
    ("抚顺市中心医院 皮肤科 那主任 满族 第一次见 周五再来一趟", "那主任"),
    ("骨科 佘医生，聊了术后镇痛", "佘医生"),
])
def test_who_the_visit_was_with(lexicon: Lexicon, note: str, customer: str) -> None:
    facts = read_note(lexicon, note, MONDAY)
    assert facts.mention is not None and facts.mention.name == customer


def test_someone_away_is_not_met_when_named_again(lexicon: Lexicon) -> None:
    facts = read_note(lexicon, "姜主任不在 出差去上海了 见了住院总 说姜主任下周回来", MONDAY)
    assert facts.mention is None and facts.due is None  # his return is no follow-up


@pytest.mark.parametrize("note", [
    "那主任说下周再来",        # "that director said"
    "老主任退休了，新来的还没见",
    "该主任不在，下周再去",
])
def test_a_word_before_a_title_is_no_rare_family_name(lexicon: Lexicon, note: str) -> None:
    assert read_note(lexicon, note, MONDAY).mention is None


def test_a_known_customer_is_found_without_their_title(lexicon: Lexicon) -> None:
    note = "古丽娜尔 今天在乌鲁木齐的学术会上碰到的 约了28号去科里拜访"
    assert read_note(lexicon, note, MONDAY).mention is None  # not a name the reader knows
    facts = read_note(lexicon, note, MONDAY, known_names=["古丽娜尔医生", "李医生"])
    assert facts.mention is not None and facts.mention.name == "古丽娜尔医生"
    # a one-character family name alone is no customer: "李" is not 李医生
    assert read_note(lexicon, "李 今天没见到", MONDAY, known_names=["李医生"]).mention is None
