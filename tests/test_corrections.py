"""Text typed under "📝 这样记下？" instead of a tap. A short correction changes the date or
the customer; anything that says more is a note of its own (kept, never merged into the one
being saved); small talk ("好的") is neither.
"""

from __future__ import annotations

from datetime import date

import pytest

from coach.capture import read_correction
from coach.capture.lexicon import Lexicon
from coach.testing import MemoryChat

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(("typed", "due"), [
    ("不对，是下周二", date(2026, 12, 15)),
    ("改到12月15号", date(2026, 12, 15)),
    ("日期改成周五", date(2026, 12, 11)),
    ("下周二", date(2026, 12, 15)),
    ("应该是明天", date(2026, 12, 8)),
    ("actually next Tuesday", date(2026, 12, 15)),
    ("make it Friday", date(2026, 12, 11)),
])
def test_a_date_correction(lexicon: Lexicon, typed: str, due: date) -> None:
    correction = read_correction(lexicon, typed, MONDAY)
    assert correction is not None and (correction.due, correction.mention) == (due, None)


@pytest.mark.parametrize(("typed", "name"), [
    ("是王主任", "王主任"),
    ("不是李主任，是王主任", "王主任"),
    ("不是李主任是王主任", "王主任"),
    # words before the denial do not make it "是X不是Y" (trial D finding 5)
    ("sorry 不是吴主任 是伍主任", "伍主任"),
    ("不对 不是吴主任，是伍主任", "伍主任"),
    ("王主任", "王主任"),
    ("no, it's Dr Wang", "Dr Wang"),
])
def test_a_customer_correction(lexicon: Lexicon, typed: str, name: str) -> None:
    correction = read_correction(lexicon, typed, MONDAY)
    assert correction is not None and correction.mention is not None
    assert correction.mention.name == name and correction.due is None


@pytest.mark.parametrize("typed", ["不用提醒", "不提醒了", "no reminder", "no reminder please"])
def test_no_reminder(lexicon: Lexicon, typed: str) -> None:
    correction = read_correction(lexicon, typed, MONDAY)
    assert correction is not None and correction.no_date


@pytest.mark.parametrize("typed", [
    "王主任明天再去，带上指南",
    "他说下周再来看看数据",
    "周五前把资料送过去",
    "改成下周三，再带点资料和样品",
    "好的",
    "李主任说不用提醒他了，下周我直接去科室找他",
    # trial H: what another customer said, with a day in it, is no change of customer
    "王主任说她的门诊改到周五了",
    "刘医生讲科会挪到下周二",
    "Dr Wang said her clinic moved to Fri",
])
def test_anything_else_is_no_correction(lexicon: Lexicon, typed: str) -> None:
    assert read_correction(lexicon, typed, MONDAY) is None


@pytest.mark.parametrize(("typed", "hospital", "department"), [
    ("不对，是复旦肿瘤医院乳腺外科", "复旦肿瘤医院", "乳腺外科"),
    ("是心内科", None, "心内科"),
])
def test_a_place_correction(lexicon: Lexicon, typed: str, hospital: str | None,
                            department: str | None) -> None:
    correction = read_correction(lexicon, typed, MONDAY)
    assert correction is not None and correction.mention is None
    assert (correction.hospital, correction.department) == (hospital, department)


def test_sorry_before_the_denial_renames_the_customer(chat: MemoryChat) -> None:
    """Trial D finding 5: "sorry 不是吴主任 是伍主任" left the name unchanged."""
    chat.say("瑞金心内科吴主任说想看III期数据，下周三再去")
    proposal = MemoryChat.text(chat.say("sorry 不是吴主任 是伍主任"))
    assert "「伍主任」是下面哪一位？" in proposal and "吴主任" not in proposal
