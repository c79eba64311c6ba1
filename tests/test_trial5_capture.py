"""Who, where and when in trial D's notes (findings 4, 10 and 12), measured on sets written
fresh for them, as the category and not the trial's own strings:

- tests/data/trial5_two_people.yaml: 28 notes, 23 naming two people met together
  ("王主任+刘医生一起见的", "旁边还有药剂科的赵老师", "还碰到了麻醉科的许主任", "ran into Dr Ma
  from pharmacy", "另外科里的彭医生也在", "韦主任和包医生 包医生说…"), 5 naming one (or a
  second not met). Scored as tests/test_two_people_notes.py scores its set, plus the stage
  signals on each card and each one's follow-up day where labelled.
- tests/data/trial5_names.yaml: 18 notes with a time word right before a name
  ("上周罗主任", "本周孔主任", "这周周主任").
- tests/data/trial5_hospitals.yaml: 17 notes naming an affiliated hospital short (川大附属,
  重医附属, 医大附二, 华西附二院, 附属一院).
- tests/data/trial5_lab_dates.yaml: 22 notes with lab values and vital signs (K+ 6.2, Hb 9.5,
  血钾6.2, 体温38.5) beside real dates (12.15之前, 1.5号, 12/9, 12月10日).

    .venv/bin/python -m tests.test_trial5_capture      # prints each set's figures

Before (main at bd54609, the code trial D ran), then after:

    two people   164/206 points, 12/28 notes whole   ->  206/206, 28/28
    names        customer P 0.812 R 0.765            ->  P 1.000 R 0.941
    hospitals    hospital P 0.889 R 0.471            ->  P 1.000 R 1.000
    lab values   date     P 0.684 R 0.765            ->  P 1.000 R 1.000

tests/data/trial5_holdout.yaml: 7 two-people notes written after those rules, in other words
(都在, 俩, 还遇见了, "bumped into", "were both there", 旁边还有进修的…). First contact: main
37/51 points, 2/7 notes whole; these rules 45/51, 5/7. Its two misses were fixed by general
rules (a familiar name before 俩; what a rep says of someone between the cue and the name,
进修的 / 新来的): 51/51, 7/7.

The one name still missed ("下周罗主任要出差，今天先把资料给了他") is a person read as away
(要出差), not a time word. The floors below hold the after figures, less one note's slack.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from coach.capture import load_lexicon
from coach.capture.evaluation import Evaluation, evaluate, load_set
from coach.capture.lexicon import Lexicon
from coach.library import Library, load_library
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_followup_object import rows
from tests.test_two_people_notes import measure

DATA = Path(__file__).resolve().parent / "data"
TWO_PEOPLE = DATA / "trial5_two_people.yaml"
HOLDOUT = DATA / "trial5_holdout.yaml"
SETS = {name: DATA / f"trial5_{name}.yaml" for name in ("names", "hospitals", "lab_dates")}


def _evaluation(lexicon: Lexicon, name: str) -> Evaluation:
    return evaluate(lexicon, load_set(SETS[name]))


def test_two_people_met_together_are_told_apart(library: Library, lexicon: Lexicon) -> None:
    right, total, whole, misses = measure(library, lexicon, TWO_PEOPLE)
    assert right >= total - 3 and whole >= 27, (right, total, whole, misses)
    right, total, whole, misses = measure(library, lexicon, HOLDOUT)
    assert right >= total - 3 and whole >= 6, (right, total, whole, misses)


@pytest.mark.parametrize(("name", "field", "floor"), [
    ("names", "customer", 0.94), ("hospitals", "hospital", 0.94),
    ("lab_dates", "date", 0.94)])
def test_trial_d_sets_are_read(lexicon: Lexicon, name: str, field: str, floor: float) -> None:
    result = _evaluation(lexicon, name)
    score = result.fields[field]
    assert score.precision >= floor and score.recall >= floor, score.misses
    assert not result.misfiled, result.misfiled


def main() -> None:
    """`python -m tests.test_trial5_capture [PLAYBOOKS]`: every trial5 set's figures and
    misses, read with these playbooks (default: the shipped)."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent.parent / "playbooks"
    lexicon, problems = load_lexicon(root / "capture" / "lexicon.yaml")
    assert lexicon is not None, problems
    library: Library = load_library(root)
    right, total, whole, misses = measure(library, lexicon, TWO_PEOPLE)
    print(f"two people: {right}/{total} points right, {whole} notes whole")
    for miss in misses:
        print(f"  {miss}")
    right, total, whole, misses = measure(library, lexicon, HOLDOUT)
    print(f"two people, held out: {right}/{total} points right, {whole} notes whole")
    for miss in misses:
        print(f"  {miss}")
    for name in SETS:
        result = _evaluation(lexicon, name)
        print(f"{name}: {result.table()}")
        for field, score in result.fields.items():
            for miss in score.misses:
                print(f"  miss {field}: {miss}")
        for misfiled in result.misfiled:
            print(f"  misfiled: {misfiled}")


if __name__ == "__main__":
    main()


# ---- trial D's notes, as scripts (the chat's clock: Sunday 2026-11-22) ----

def test_two_people_met_together_each_keep_their_own(chat: MemoryChat,
                                                      database: Database) -> None:
    proposal = MemoryChat.text(chat.say(
        "华西心内 王主任+刘医生一起见的，王主任说价格太贵进不了，刘医生倒是想先拿几个pt试试。"
        "下周三再去找刘医生送样品资料"))
    assert "👤 王主任 · 华西 · 心内科（新客户）" in proposal
    assert "👥 还见了刘医生（华西 · 心内科）：这条只记在王主任名下" in proposal
    assert "⚠️ 顾虑：价格（「太贵」）" in proposal
    assert "试用" not in proposal and "⏰ 不设跟进提醒" in proposal  # both are 刘医生's
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "✅ 已记下王主任的拜访。" in saved
    theirs = MemoryChat.text(chat.press("也给刘医生记一条"))
    assert "⏰ 跟进：11月25日 周三 · 找刘医生送样品资料" in theirs
    assert "🔎 「拿几个pt试试」→ 阶段：试用" in theirs and "顾虑" not in theirs
    chat.press("新建：刘医生 · 华西 · 心内科")
    assert rows(database, "SELECT name, hospital, department, stage FROM accounts "
                          "ORDER BY id") == [("王主任", "华西", "心内科", None),
                                             ("刘医生", "华西", "心内科", "trial")]
    assert rows(database, "SELECT a.name, o.kind FROM objections o JOIN accounts a "
                          "ON a.id = o.account_id") == [("王主任", "price")]
    assert [(name, str(due)[:10]) for name, due in rows(
        database, "SELECT a.name, f.due_date FROM followups f JOIN accounts a "
                  "ON a.id = f.account_id")] == [("刘医生", "2026-11-25")]


def test_two_people_listed_first_are_both_met(chat: MemoryChat, database: Database) -> None:
    proposal = MemoryChat.text(chat.say(
        "川大附属内分泌 陈主任和黄医生，黄医生说科里已经有3个病人在用了 反馈还行，"
        "陈主任还在观望 要看真实世界数据"))
    assert "👤 陈主任 · 川大附属 · 内分泌科（新客户）" in proposal
    assert "👥 还见了黄医生（川大附属 · 内分泌科）" in proposal and "试用" not in proposal
    chat.press("✅ 保存")
    theirs = MemoryChat.text(chat.press("也给黄医生记一条"))
    assert "🔎 「3个病人在用」→ 阶段：试用" in theirs
    chat.press("新建：黄医生 · 川大附属 · 内分泌科")
    assert rows(database, "SELECT name, stage FROM accounts ORDER BY id") == [
        ("陈主任", None), ("黄医生", "trial")]


def test_someone_beside_the_customer_keeps_their_worry(chat: MemoryChat,
                                                       database: Database) -> None:
    proposal = MemoryChat.text(chat.say(
        "省医肿瘤科 见了张主任，旁边还有药剂科的赵老师。张主任问了很多问题，赵老师担心报销比例低"))
    assert "👥 还见了赵老师（省医 · 药剂科）" in proposal and "顾虑" not in proposal
    chat.press("✅ 保存")
    theirs = MemoryChat.text(chat.press("也给赵老师记一条"))
    assert "⚠️ 顾虑：价格（「报销比例低」）" in theirs
    chat.press("新建：赵老师 · 省医 · 药剂科")
    assert rows(database, "SELECT a.name, o.kind FROM objections o JOIN accounts a "
                          "ON a.id = o.account_id") == [("赵老师", "price")]


def test_someone_run_into_in_english_is_offered(chat: MemoryChat) -> None:
    proposal = MemoryChat.text(chat.say(
        "省医 met Dr Hu (cardio), also ran into Dr Ma from pharmacy, she said it's too "
        "expensive for the hospital"))
    assert "👤 Dr Hu · 省医 · cardiology（新客户）" in proposal
    assert "👥 还见了Dr Ma（省医 · pharmacy）" in proposal and "顾虑" not in proposal


def test_another_colleague_from_the_department_is_not_in_surgery(chat: MemoryChat) -> None:
    proposal = MemoryChat.text(chat.say("省医心内王主任说数据不够 另外科里的彭医生也在"))
    assert "👥 还见了彭医生（省医 · 心内科）" in proposal and "外科" not in proposal


def test_last_week_stays_out_of_the_name(chat: MemoryChat, database: Database) -> None:
    proposal = MemoryChat.text(chat.say(
        "上周罗主任说的那个指南解读 今天给他送过去了，下周三再去听听反馈"))
    assert "👤 罗主任（新客户）" in proposal and "周罗主任" not in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT name FROM accounts") == [("罗主任",)]


def test_an_affiliated_hospital_written_short_is_a_hospital(chat: MemoryChat,
                                                            database: Database) -> None:
    proposal = MemoryChat.text(chat.say("川大附属内分泌 陈主任说想看看真实世界数据，周五带过去"))
    assert "👤 陈主任 · 川大附属 · 内分泌科（新客户）" in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT name, hospital, department FROM accounts") == [
        ("陈主任", "川大附属", "内分泌科")]


def test_a_lab_value_is_no_follow_up_day(chat: MemoryChat, database: Database) -> None:
    proposal = MemoryChat.text(chat.say("邓主任 pt on our drug, K+ 6.2 this morning"))
    assert "⏰ 不设跟进提醒" in proposal and "6月2日" not in proposal
    chat.press("✅ 保存")
    assert rows(database, "SELECT due_date FROM followups") == []


def test_a_real_date_beside_a_lab_value_stays_a_date(chat: MemoryChat) -> None:
    proposal = MemoryChat.text(chat.say("刘医生说有个病人INR 3.2 问能不能合用，12.15之前给她回复"))
    assert "⏰ 跟进：12月15日 周二" in proposal and "3月2日" not in proposal
