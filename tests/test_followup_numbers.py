"""Dates in a note that are not the day of a follow-up. "12.5" is December 5 to a rep
answering "when?", but in a note it is as often a dose or a lab value, and "2/3" a share of
patients; "下周科室会，时间待定" names a week but no day; "下月中旬" a fortnight. A reminder
on a made-up day is worse than none (the rep adds a date with one tap), so a date read from
a note must be one the rep said they act on.
"""

from __future__ import annotations

from datetime import date

import pytest

from coach.capture.followup import find_followup
from coach.capture.lexicon import Lexicon

SUNDAY = date(2026, 11, 22)


@pytest.mark.parametrize("note", [
    "李主任说剂量用12.5mg效果挺好",
    "患者用了2.5片，没有不适",
    "HbA1c降到7.5了，他挺满意",
    "用量从2.5调到5",
    "HbA1c在7.5左右",
    "He switched 3 patients to 12.5 mg bid",
    "dose 2.5 mg works for most",
    "3/5 patients on it are stable",
    "中肿许教授 乳腺癌 CDK4/6 抑制剂的数据",
    "血钾5.5偏高",
    "甲主任说2/3的病人有效",
    "2/3 of patients responded",
    "她同意下周开科室会，时间待定",
    "下周找他，具体还没定",
    "下旬再去",  # no month said: no day (a named month's part is one: below)
    "他的学生说王主任下周四回来",  # someone else's return
    "上次说的11/20那个会改期了",  # behind us, not 20 November next year
])
def test_doses_shares_and_unsettled_dates_are_not_follow_up_dates(lexicon: Lexicon,
                                                                  note: str) -> None:
    assert find_followup(lexicon, note, SUNDAY).due is None


@pytest.mark.parametrize(("note", "due", "action"), [
    ("12.5带资料过去", date(2026, 12, 5), "带资料过去"),
    ("我12.5把资料送过去", date(2026, 12, 5), "把资料送过去"),
    ("约了12/5下午过去", date(2026, 12, 5), "过去"),
    ("12-5前把方案交给他", date(2026, 12, 5), "把方案交给他"),
    ("12/5 bring the paper", date(2026, 12, 5), "bring the paper"),
    ("血钾5.5偏高，下周一再去", date(2026, 11, 23), "再去"),
    ("护士说他出差 下周四回来 到时候再去拜访", date(2026, 11, 26), None),
    ("讲课时间从周四改到下周二了 下周二上午过去接她", date(2026, 11, 24), "过去接她"),
    ("he will present our case at the 12月5号 科室会, I need to send him the template tmr",
     date(2026, 11, 23), None),
    ("Revisit 11/26.", date(2026, 11, 26), None),
    # a visit counted is the action, not its count ("一趟")
    ("对光疗感兴趣 周五再来一趟", date(2026, 11, 27), "再来一趟"),
    ("让我下周再去一趟吧", date(2026, 11, 23), "再去一趟"),
    ("下周再来一次", date(2026, 11, 23), "再来一次"),
    # a part of a named month is the day the shared date parser gives it (trial D finding
    # 12: "下个月中旬" gave no date): 中旬 the 15th, 下旬 the 21st
    ("下月中旬再去", date(2026, 12, 15), "再去"),
    ("12月下旬再安排一次", date(2026, 12, 21), "安排一次"),
])
def test_a_number_the_rep_acts_on_is_a_date(lexicon: Lexicon, note: str, due: date,
                                            action: str) -> None:
    found = find_followup(lexicon, note, SUNDAY)
    assert found.due == due
    if action is not None:
        assert found.action == action
