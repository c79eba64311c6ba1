"""Tests for `coach.names`: name keys, splitting what a rep typed, and ranking accounts.

The ranking tests use a small stand-in for an account row, because the helpers must work on
whatever the caller passes through `key`, not only on ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from coach.names import (
    MIN_SCORE,
    CustomerQuery,
    hospital_key,
    name_key,
    parse_customer_text,
    rank_candidates,
)


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    hospital: str | None = None
    department: str | None = None


def fields(row: Row) -> tuple[str, str | None, str | None]:
    return row.name, row.hospital, row.department


def rank(text: str, rows: list[Row]) -> list[tuple[Row, float]]:
    return rank_candidates(parse_customer_text(text), rows, fields)


def ids(ranked: list[tuple[Row, float]]) -> list[int]:
    return [row.id for row, _ in ranked]


# --- name_key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("李医生", "李"),
        ("李主任", "李"),
        ("李 主任", "李"),
        ("李大夫", "李"),
        ("李教授", "李"),
        ("李院长", "李"),
        ("李副院长", "李"),
        ("李副主任", "李"),
        ("李主任医师", "李"),
        ("李老师", "李"),
        ("药剂科李老师", "李"),
        ("李伟", "李伟"),
        ("李伟主任", "李伟"),
        ("欧阳主任", "欧阳"),
        ("老李", "李"),
        ("小王", "王"),
        ("王小明", "王小明"),
        ("Dr. Li", "li"),
        ("Dr Li", "li"),
        ("dr.li", "li"),
        ("Doctor Li", "li"),
        ("Prof. Zhang Wei", "zhangwei"),
        ("Director Wang", "wang"),
        ("Li Wei", "liwei"),
        ("  Li   Wei ", "liwei"),
        ("ＤＲ．ＬＩ", "li"),  # full-width, as some phone keyboards type it
        ("Drake", "drake"),  # "dr" only as a whole word
        ("李·主任!", "李"),
        # nothing but a title: keep the text so department accounts stay findable
        ("药剂科", "药剂科"),
        ("主任", "主任"),
        ("", ""),
    ],
)
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


def test_title_variants_share_a_key() -> None:
    assert len({name_key(n) for n in ["李医生", "李主任", "李 主任", "李主任医师", "老李"]}) == 1
    assert name_key("Dr. Li") == name_key("li") == name_key("Prof Li")


def test_hospital_key_ignores_generic_suffix() -> None:
    assert hospital_key("泰山医院") == "泰山"
    assert hospital_key("泰山 医院") == "泰山"
    assert hospital_key("Taishan Hospital") == "taishan"
    assert hospital_key("医院") == "医院"


# --- parse_customer_text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("李主任 泰山医院 心内科", CustomerQuery("李主任", "泰山医院", "心内科")),
        ("李主任,泰山医院", CustomerQuery("李主任", "泰山医院", None)),
        ("李主任，泰山医院", CustomerQuery("李主任", "泰山医院", None)),
        ("李主任、泰山医院、心内科", CustomerQuery("李主任", "泰山医院", "心内科")),
        ("泰山医院 李主任", CustomerQuery("李主任", "泰山医院", None)),
        ("心内科 泰山医院 李主任", CustomerQuery("李主任", "泰山医院", "心内科")),
        ("李 主任 泰山医院", CustomerQuery("李主任", "泰山医院", None)),
        ("  李医生  ", CustomerQuery("李医生", None, None)),
        ("李伟", CustomerQuery("李伟", None, None)),
        ("张医生 城关卫生院", CustomerQuery("张医生", "城关卫生院", None)),
        ("王大夫 健康诊所", CustomerQuery("王大夫", "健康诊所", None)),
        ("王主任 市疾控中心", CustomerQuery("王主任", "市疾控中心", None)),
        ("刘主任 华西院 检验室", CustomerQuery("刘主任", "华西院", "检验室")),
        # typed without spaces
        ("泰山医院心内科李主任", CustomerQuery("李主任", "泰山医院", "心内科")),
        ("李主任泰山医院", CustomerQuery("李主任", "泰山医院", None)),
        ("市中心医院心内科王主任", CustomerQuery("王主任", "市中心医院", "心内科")),
        ("药剂科李老师", CustomerQuery("李老师", None, "药剂科")),
        ("李科主任", CustomerQuery("李科主任", None, None)),  # 科 here is part of the name
        # a 中心 next to a 医院 is a unit of that hospital
        ("检验中心 泰山医院 王主任", CustomerQuery("王主任", "泰山医院", "检验中心")),
        # no person: look up a department or hospital account by its own name
        ("泰山医院", CustomerQuery("泰山医院", None, None)),
        ("泰山医院 心内科", CustomerQuery("心内科", "泰山医院", None)),
        # English
        ("Dr Li, Taishan Hospital, Cardiology Dept",
         CustomerQuery("Dr Li", "Taishan Hospital", "Cardiology Dept")),
        ("Dr Li Taishan Hospital", CustomerQuery("Dr Li", "Taishan Hospital", None)),
        ("Li Wei, Taishan People's Hospital",
         CustomerQuery("Li Wei", "Taishan People's Hospital", None)),
        ("Dr. Li 泰山医院", CustomerQuery("Dr. Li", "泰山医院", None)),
        # nothing usable
        ("", CustomerQuery("", None, None)),
        ("  ,， ", CustomerQuery("", None, None)),
    ],
)
def test_parse_customer_text(text: str, expected: CustomerQuery) -> None:
    assert parse_customer_text(text) == expected


# --- rank_candidates ------------------------------------------------------------------------

LI_TAISHAN = Row(1, "李主任", "泰山医院", "心内科")
LI_RENMIN = Row(2, "李主任", "人民医院", "心内科")
WANG_TAISHAN = Row(3, "王主任", "泰山医院", "心内科")
LI_WEI = Row(4, "李伟", "泰山医院", "呼吸科")
LI_WEI_LATIN = Row(5, "Li Wei", "Taishan Hospital", None)
LISA = Row(6, "Lisa Wang", "Taishan Hospital", None)
ZHANG_NA = Row(7, "张娜", "人民医院", "药剂科")
PHARMACY = Row(8, "药剂科", "泰山医院", None)


def test_li_doctor_finds_li_director_at_taishan() -> None:
    ranked = rank("李医生", [WANG_TAISHAN, LI_TAISHAN, ZHANG_NA])
    assert ids(ranked) == [1]
    assert ranked[0][1] == pytest.approx(1.0)


def test_hospital_in_query_prefers_that_hospital() -> None:
    ranked = rank("李医生 泰山医院", [LI_RENMIN, LI_TAISHAN])
    assert ids(ranked) == [1, 2]
    best, runner_up = ranked[0][1], ranked[1][1]
    assert best >= 0.9 and best - runner_up >= 0.15  # the picker may choose outright


def test_without_hospital_equal_names_tie_in_caller_order() -> None:
    assert ids(rank("李医生", [LI_RENMIN, LI_TAISHAN])) == [2, 1]
    assert ids(rank("李医生", [LI_TAISHAN, LI_RENMIN])) == [1, 2]
    scores = {score for _, score in rank("李医生", [LI_RENMIN, LI_TAISHAN])}
    assert len(scores) == 1


def test_other_surname_does_not_match() -> None:
    assert rank("王", [LI_TAISHAN, LI_RENMIN, LI_WEI]) == []
    assert rank("李", [WANG_TAISHAN, ZHANG_NA]) == []
    assert ids(rank("王", [LI_TAISHAN, WANG_TAISHAN])) == [3]


def test_surname_only_query_finds_full_names() -> None:
    ranked = rank("李医生", [LI_WEI, WANG_TAISHAN])
    assert ids(ranked) == [4]
    assert 0.55 <= ranked[0][1] < 0.9  # a guess to offer, not to pick outright


def test_exact_key_beats_surname_only() -> None:
    ranked = rank("李医生", [LI_WEI, LI_TAISHAN])
    assert ids(ranked) == [1, 4]
    assert ranked[0][1] > ranked[1][1]


def test_surname_only_confirmed_by_hospital_is_sure() -> None:
    ranked = rank("李 泰山医院", [LI_WEI])
    assert ranked[0][1] >= 0.9


def test_full_name_query_finds_surname_only_account() -> None:
    ranked = rank("李伟", [LI_TAISHAN, LI_WEI])
    assert ids(ranked) == [4, 1]


def test_different_given_name_is_dropped() -> None:
    assert rank("李娜", [LI_WEI]) == []


def test_similar_names_still_match() -> None:
    ranked = rank("李伟东", [LI_WEI, WANG_TAISHAN])
    assert ids(ranked) == [4]


def test_hospital_mismatch_lowers_score() -> None:
    [(_, matching)] = rank("李医生 泰山医院", [LI_TAISHAN])
    [(_, other)] = rank("李医生 泰山医院", [LI_RENMIN])
    [(_, unknown)] = rank("李医生 泰山医院", [Row(9, "李主任")])
    assert matching > unknown > other


def test_department_nudges_between_equal_names() -> None:
    a = Row(10, "李主任", "泰山医院", "呼吸科")
    b = Row(11, "李主任", "泰山医院", "心内科")
    assert ids(rank("李主任 泰山医院 心内科", [a, b])) == [11, 10]


def test_hospital_written_differently_still_matches() -> None:
    row = Row(12, "李主任", "泰山市中心医院", None)
    other = Row(13, "李主任", "人民医院", None)
    assert ids(rank("李主任 泰山医院", [other, row])) == [12, 13]


def test_dr_li_finds_li_wei() -> None:
    """Decision: a one-word Latin query matches a whole word of a Latin name, either order."""
    ranked = rank("Dr Li", [LISA, LI_WEI_LATIN, Row(14, "Wei Li")])
    assert ids(ranked) == [5, 14]
    assert all(score < 0.9 for _, score in ranked)  # offered, not picked outright


def test_latin_exact_and_typo() -> None:
    assert rank("li wei", [LI_WEI_LATIN])[0][1] == pytest.approx(1.0)
    assert ids(rank("Dr Zhnag", [Row(15, "Zhang Min"), LI_WEI_LATIN])) == [15]


def test_latin_prefix_is_not_a_match() -> None:
    assert rank("Dr Li", [LISA]) == []


def test_chinese_query_does_not_match_latin_name() -> None:
    assert rank("李医生", [LI_WEI_LATIN]) == []


def test_department_account_by_its_own_name() -> None:
    assert ids(rank("药剂科", [LI_TAISHAN, PHARMACY])) == [8]


def test_empty_query_returns_nothing() -> None:
    rows = [LI_TAISHAN, LI_RENMIN, WANG_TAISHAN]
    assert rank("", rows) == []
    assert rank("   ", rows) == []
    assert rank_candidates(CustomerQuery(""), rows, fields) == []
    assert rank_candidates(CustomerQuery("", "泰山医院"), rows, fields) == []


def test_no_candidates() -> None:
    assert rank("李医生", []) == []


def test_scores_are_bounded_and_sorted() -> None:
    rows = [LI_TAISHAN, LI_RENMIN, WANG_TAISHAN, LI_WEI, LI_WEI_LATIN, LISA, ZHANG_NA, PHARMACY]
    for text in ["李医生", "李医生 泰山医院 心内科", "李伟", "Dr Li", "张", "药剂科 人民医院"]:
        ranked = rank(text, rows)
        scores = [score for _, score in ranked]
        assert scores == sorted(scores, reverse=True)
        assert all(MIN_SCORE <= score <= 1.0 for score in scores)


def test_works_with_any_row_type() -> None:
    rows = [("李主任", "泰山医院"), ("王主任", "泰山医院")]
    ranked = rank_candidates(CustomerQuery("李医生"), rows, lambda r: (r[0], r[1], None))
    assert [row for row, _ in ranked] == [("李主任", "泰山医院")]
