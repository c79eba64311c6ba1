"""Hospitals as reps write them, and which of them are one hospital.

A school's hospitals by their numbers (郑大一附院, 哈医大二院, 重医附一院), Zhejiang's by
theirs (浙一), a known name with a city before it (福建协和 is not 北京协和) or a number after
it (湘雅二院 is not 湘雅医院): read whole, never cut to the part the list knows. Two names
that differ by a number, or where one has a number and the other none, are two hospitals;
a city in front (北京协和医院 / 协和) is the same one written longer.
"""

from __future__ import annotations

from datetime import date

import pytest

from coach.capture import read_note
from coach.capture.lexicon import Lexicon
from coach.names import hospitals_compatible, hospitals_match

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(("note", "hospital", "department"), [
    ("中山一院心内黄主任说下周一再去", "中山一院", "心内科"),
    ("去了趟湘雅二院 神内 赵主任", "湘雅二院", "神经内科"),
    ("重医附一院 内分泌 刘主任", "重医附一院", "内分泌科"),
    ("昆明医科大学第一附属医院 肿瘤科 杨主任", "昆明医科大学第一附属医院", "肿瘤科"),
    ("福建协和 林主任 神外", "福建协和", "神经外科"),
    ("浙一肾内科何主任", "浙一", "肾内科"),
    ("何主任 浙一 肾内科", "浙一", "肾内科"),
    ("去了趟西安交大一附院 心内 马主任", "西安交大一附院", "心内科"),
    ("见了郑大一附院的王主任", "郑大一附院", None),
    ("哈医大二院 呼吸与危重症 孙主任", "哈医大二院", "呼吸与危重症医学科"),
    ("中大附一 陈教授说想做课题", "中大附一", None),
])
def test_hospitals_are_read_whole(lexicon: Lexicon, note: str, hospital: str,
                                  department: str | None) -> None:
    facts = read_note(lexicon, note, TODAY)
    assert (facts.hospital, facts.department) == (hospital, department)
    assert facts.mention is not None and facts.mention.hospital == hospital


@pytest.mark.parametrize(("one", "other"), [
    ("湘雅二院", "湘雅医院"),
    ("市一院", "市人民医院"),
    ("市一院", "市二院"),
    ("福建协和", "北京协和医院"),
    ("中山一院", "中山二院"),
])
def test_a_number_or_a_city_makes_another_hospital(one: str, other: str) -> None:
    assert not hospitals_match(one, other)
    assert not hospitals_compatible(one, other)


@pytest.mark.parametrize(("one", "other"), [
    ("湘雅二院", "中南大学湘雅二医院"),
    ("市一院", "市第一人民医院"),
    ("郑大一附院", "郑州大学第一附属医院"),
    ("协和", "北京协和医院"),
    ("附二院", "附属第二医院"),
    ("中山一院", "中山大学附属第一医院"),
    ("浙一", "浙江大学医学院附属第一医院"),
])
def test_the_same_hospital_written_short_or_long(one: str, other: str) -> None:
    assert hospitals_compatible(one, other)
