"""Safety records are never lost, hidden or erased: not by /forget, an edit, a deleted note,
a revoked rep or a missed deadline. Rep says X, bot answers Y, store holds Z, manager sees W.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import text

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.conftest import Clock
from tests.test_access import admin_cli, enrolled, log

ROOT = Path(__file__).resolve().parent.parent


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_forget_keeps_the_reports_and_flags_and_says_why(engine: Engine,
                                                         database: Database) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "泰山医院李主任说有个病人用了我们的药后起了荨麻疹")
    log(rep, "泰山医院李主任暗示要点好处费才肯多开")
    asked = MemoryChat.text(rep.say("/forget"))
    assert "保留" in asked and "不良事件" in asked
    gone = MemoryChat.text(rep.press("确定删除"))
    assert "1 条不良事件报告" in gone and "1 条合规提醒记录" in gone
    # the coaching data is gone; the report and the flag are kept, without the rep's name
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(0,)]
    assert rows(database, "SELECT COUNT(*) FROM accounts") == [(0,)]
    assert rows(database, "SELECT name, active FROM reps WHERE id = 2") == [("", False)]
    assert rows(database, "SELECT customer, account_id, status FROM adverse_events") == [
        ("李主任 · 泰山医院", None, "open")]
    [(categories, kept)] = rows(database, "SELECT categories, text FROM compliance_records")
    assert "kickback" in str(categories) and "好处费" in kept
    overview = MemoryChat.text(manager.say("/team"))
    assert "已删除数据的代表 #2" in overview and "荨麻疹" in overview and "好处费" in overview
    assert "王芳" not in overview
    # the identity is free: the person can be enrolled again, from nothing
    assert rows(database, "SELECT COUNT(*) FROM identities WHERE external_id = '32'") == [(0,)]


def test_editing_a_flagged_note_keeps_the_flag_and_the_original(engine: Engine,
                                                                database: Database) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "人民医院张主任说要拿回扣才肯进药")
    assert "修改" in " ".join(c.label for c in rep.choices())
    rep.press("修改")
    rep.say("人民医院张主任说进药要等药事会")
    assert rows(database, "SELECT text FROM notes") == [("人民医院张主任说进药要等药事会",)]
    assert "kickback" in str(rows(database, "SELECT flags FROM notes")[0][0])
    overview = MemoryChat.text(manager.say("/team"))
    assert "编辑前的原文" in overview and overview.count("要拿回扣才肯进药") == 1
    assert "人民医院张主任" in overview  # the customer it was filed under


def test_a_flag_is_kept_and_the_rep_told_even_when_they_cancel(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    shown = MemoryChat.text(rep.say("仁济医院心内科刘主任 上次说可以给他每盒返点 今天没提"))
    assert "这段话涉及：回扣/返点" in shown and "经理可以看到" in shown
    rep.say("/cancel")
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(0,)]
    [(categories,)] = rows(database, "SELECT categories FROM compliance_records")
    assert "kickback" in str(categories)


def test_a_flag_goes_to_the_customer_the_text_names_not_the_last_one_seen(
        engine: Engine, database: Database) -> None:
    """Trial C, item 1: a 统方 note about 王主任, typed right after a visit with 陈主任,
    was filed (and shown to the manager) under 陈主任."""
    manager = enrolled(engine, "孙经理", "31", role="manager", team="east")
    rep = enrolled(engine, "周敏", "32", team="east")
    log(rep, "华山医院药剂科陈主任 问了进药流程")  # the tip about 陈主任 is on screen
    rep.say("华山医院心内科王主任说上个月他开了我们的药大概80盒，反馈不错")
    rep.press("保存")
    assert rows(database, "SELECT customer FROM compliance_records") == [("王主任 · 华山医院",)]
    overview = MemoryChat.text(manager.say("/team"))
    assert "周敏 · 王主任 · 华山医院（统方）" in overview
    assert "陈主任 · 华山医院（统方）" not in overview


def test_a_flag_about_the_customer_on_screen_is_filed_under_them_at_once(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "周敏", "32", team="east")
    log(rep, "华山医院心内科王主任 聊了新指南")
    rep.press("完成")
    rep.say("/next 王主任")
    rep.say("王主任说上个月他开了我们的药大概80盒")  # names the customer on screen
    assert rows(database, "SELECT customer FROM compliance_records") == [("王主任 · 华山医院",)]


def test_an_edit_that_now_describes_an_adverse_event_starts_a_report(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "人民医院张主任说想要点好处费才肯进药")
    rep.press("修改")
    edited = MemoryChat.text(rep.say(
        "人民医院张主任说进药要等药事会 另外提到一个病人用药后肝功能异常 ALT 180"))
    assert "不良事件" in edited and "上报时钟已开始" in edited
    [(report, status)] = rows(database, "SELECT report, status FROM adverse_events")
    assert "ALT 180" in report and status == "open"
    [(text,)] = rows(database, "SELECT text FROM notes")
    assert text.startswith("人民医院张主任说进药要等药事会")


def test_zero_width_characters_hide_nothing(engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    shown = MemoryChat.text(rep.say(
        "李主任说有个病人用了我们的药后起了荨\u200b麻\u200d疹 他手机138\u200b1234\u20605678"))
    assert "不良事件" in shown
    [(report,)] = rows(database, "SELECT report FROM adverse_events")
    assert "荨麻疹" in report and "[手机号/phone]" in report and "5678" not in report


def test_text_typed_at_the_date_question_is_checked_like_a_note(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    rep.say("/log")
    rep.say("人民医院张主任 聊了新指南")
    rep.press("加跟进日期")
    replies = rep.say("下周二 去看看那个用了我们的药后起皮疹的病人")
    assert "不良事件" in MemoryChat.text(replies)
    assert rows(database, "SELECT COUNT(*) FROM adverse_events") == [(1,)]
    rep.say("下周三 顺便把上次说的回扣带过去")  # a kickback in a follow-up text is kept too
    [(categories, source)] = rows(database, "SELECT categories, source FROM compliance_records")
    assert "kickback" in str(categories) and source


def test_a_revoked_reps_open_reports_stay_in_the_managers_view(engine: Engine,
                                                               database: Database) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "泰山医院李主任说有个病人用了我们的药后起了荨麻疹")
    assert engine.revoke(name="王芳")
    overview = MemoryChat.text(manager.say("/team"))
    assert "王芳（已停用）" in overview and "荨麻疹" in overview
    assert "未确认转交" in overview


def test_a_report_not_forwarded_by_its_deadline_goes_to_the_manager(
        engine: Engine, database: Database, clock: Clock) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "泰山医院李主任说有个病人用了我们的药后起了荨麻疹")
    clock.advance(hours=25)
    due = engine.due_reminders(["telegram"])  # claimed: marked as they are handed out
    to_manager = [r for r in due if r.user_id == "31"]
    assert len(to_manager) == 1
    shown = to_manager[0].reply.text
    assert "王芳" in shown and "荨麻疹" in shown and "已过" in shown
    assert rows(database, "SELECT escalated_at IS NOT NULL FROM adverse_events") == [(True,)]
    assert not [r for r in engine.due_reminders(["telegram"]) if r.user_id == "31"]
    assert "⏰ 已过截止时间" in MemoryChat.text(manager.say("/team"))


def test_the_safety_team_lists_exports_and_closes_reports_from_the_command_line(
        engine: Engine, database: Database, tmp_path: Path) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "泰山医院李主任说有个病人用了我们的药后起了荨麻疹")
    rep.say("/forget")
    rep.press("确定删除")  # the report outlives the rep's data
    admin = admin_cli(tmp_path, database.url)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return admin("ae", *args)

    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    # the test clock is weeks behind the machine's: the report is long past its deadline
    assert "#1 OVERDUE event · open" in listed.stdout
    assert "rep #1 (data deleted) (east)" in listed.stdout
    assert "荨麻疹" in listed.stdout and "李主任 · 泰山医院" in listed.stdout
    out = tmp_path / "reports.csv"
    assert cli("export", "--out", str(out)).returncode == 0
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert (row["id"], row["kind"], row["status"], row["customer"]) == (
        "1", "event", "open", "李主任 · 泰山医院")
    assert row["day0"].endswith("Z")  # UTC, said so
    assert "荨麻疹" in row["report"]
    assert cli("forward", "1", "--by", "PV 张").stdout.strip() == "adverse event 1 marked forwarded"
    again = cli("forward", "1", "99")
    assert again.returncode == 1 and "not open or not found: 1, 99" in again.stderr
    assert cli("list").stdout.strip() == "no open adverse-event reports"
    exported = cli("export", "--all", "--format", "json").stdout
    assert '"status": "forwarded"' in exported and '"forwarded_by": "PV 张"' in exported


def test_an_event_not_tied_to_the_product_is_asked_about_and_either_answer_is_kept(
        engine: Engine, database: Database) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    rep.say("/quiz")  # mid-anything: the question comes all the same
    asked = rep.say("李主任说有个病人上周严重腹泻 住院了三天")
    shown = MemoryChat.text(asked)
    assert "这是不是患者用了我们的药之后发生的？" in shown and "拿不准就选“是”" in shown
    # one numbered list: the answers come after the quiz's own options
    labels = [c.label for r in asked for c in r.choices]
    assert labels[-2:] == ["🩺 是，算不良事件", "🩺 不是，和我们的药无关"]
    assert [r for r in asked if r.choices] == [asked[-1]]
    assert rows(database, "SELECT status FROM adverse_events") == [("unconfirmed",)]
    assert "待代表确认是否为不良事件" in MemoryChat.text(manager.say("/team"))
    confirmed = MemoryChat.text(rep.say(str(len(labels) - 1)))  # typed, as on WeCom
    assert "已按不良事件记录" in confirmed and "18 道小题" in confirmed  # the quiz waits still
    assert rows(database, "SELECT status FROM adverse_events") == [("open",)]
    # the same button again does nothing: it was answered
    again = rep.press_key("a1.n")
    assert len(again) == 1 and again[0].toast
    rep.say("/cancel")
    asked = rep.say("Dr Li said one of his patients fainted in the clinic last week")
    keys = {c.label: c.key for r in asked for c in r.choices}
    shown = MemoryChat.text(rep.press_key(keys["🩺 不是，和我们的药无关"]))
    assert "代表确认不是不良事件" in shown and "记录会保留备查" in shown
    assert rows(database, "SELECT id, status FROM adverse_events ORDER BY id") == [
        (1, "open"), (2, "not_ae")]
    assert "代表确认不是不良事件" in MemoryChat.text(manager.say("/team"))


def test_a_pasted_placeholder_does_not_hide_an_adverse_event(engine: Engine,
                                                             database: Database) -> None:
    """"no." in an older placeholder once read as a negation of the event after it."""
    rep = enrolled(engine, "王芳", "32", team="east")
    shown = MemoryChat.text(rep.say(
        "Patient [病历号/record no.] developed a rash after taking our drug, Dr Li said"))
    assert "不良事件" in shown
    assert rows(database, "SELECT status FROM adverse_events") == [("open",)]


def test_a_report_in_a_note_kept_mid_flow_goes_to_that_notes_customer(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "华山医院周主任 聊了新指南")
    rep.press("完成")
    rep.say("华山医院周主任 送了资料")
    rep.press("换客户")
    rep.say("协和李主任说他有个病人用了我们的药后起了皮疹 肝功能也不太好")  # kept, not a name
    rep.press("周主任")  # the visit is 周主任's; the report is not
    rep.press("✅ 保存")
    assert rows(database, "SELECT account_id FROM adverse_events") == [(None,)]
    rep.press("完成")
    rep.press("现在记下")  # the kept note, offered when nothing else waits
    rep.press("保存")
    assert rows(database, "SELECT a.name FROM adverse_events e JOIN accounts a "
                          "ON a.id = e.account_id") == [("李主任",)]


def test_an_edit_is_judged_on_its_own_text(engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    log(rep, "泰山医院李主任这个月开了30盒")  # 统方: the number is removed, the note flagged
    rep.press("修改")
    edited = MemoryChat.text(rep.say("泰山医院李主任 聊了指南"))
    assert "新的内容没有问题" in edited and "仍有问题" not in edited


def test_an_unanswered_question_is_reminded_with_its_answers(
        engine: Engine, database: Database, clock: Clock) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    rep.say("李主任说有个病人上周严重腹泻 住院了三天")
    clock.advance(hours=21)
    [due] = [r for r in engine.due_reminders(["telegram"]) if r.kind == "adverse_event"]
    assert [c.label for c in due.reply.choices] == [
        "已转交药物警戒", "🩺 是，算不良事件", "🩺 不是，和我们的药无关"]
    assert not [r for r in engine.due_reminders(["telegram"]) if r.kind == "adverse_event"]
    answered = rep.press_key(due.reply.choices[2].key)
    assert "代表确认不是不良事件" in MemoryChat.text(answered)
    assert rows(database, "SELECT status FROM adverse_events") == [("not_ae",)]


def test_a_death_or_a_special_situation_is_filed_as_such(engine: Engine,
                                                         database: Database) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    shown = MemoryChat.text(rep.say("李主任说有个病人吃我们的药两个月 怀孕了才发现"))
    assert "可能的不良事件（特殊情况：妊娠期用药）" in shown
    rep.say("/cancel")
    rep.say("李主任说用了我们药的老爷子上周走了")
    assert rows(database, "SELECT kind FROM adverse_events ORDER BY id") == [
        ("pregnancy",), ("death",)]
    overview = MemoryChat.text(manager.say("/team"))
    assert "死亡 · 王芳" in overview and "特殊情况：妊娠期用药 · 王芳" in overview

