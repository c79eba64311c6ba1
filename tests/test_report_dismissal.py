"""A false alarm can be said so, and nothing is lost (new-rep trial B, findings 4, 5, 11).

Rep writes a note the guard reads as an adverse event, taps "🙅 这不是不良事件" (on the 🚨 reply
or in /today) and gives a reason: the report is closed as not_ae, with who, when and why,
its reminders and the manager's escalation stop, and the manager and the safety team still
see it, marked. The same note sent twice is one report; "不是" on the guard's question closes
every copy, and its buttons leave the screen. A 统方 note is told, before saving, that the
number is removed and why. Runs on SQLite and PostgreSQL (the `database` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.conftest import Clock
from tests.test_access import admin_cli, enrolled

# the guard reads a report in it; the rep knows the drug was another company's
FALSE_ALARM = "市一院心内科王主任说有个病人用药后头晕，后来问清楚用的是别家的"


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def statuses(database: Database) -> list[tuple[str, str | None]]:
    """Each report's status and, once said not to be one, why."""
    return [(status, why) for status, why in rows(
        database, "SELECT status, dismissed_reason FROM adverse_events ORDER BY id")]


def labels(replies: list[Any]) -> list[str]:
    return [c.label for r in replies for c in r.choices]


def test_a_report_said_not_to_be_one_is_kept_with_who_when_and_why(
        engine: Engine, database: Database, clock: Clock, tmp_path: Path) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    shown = rep.say(FALSE_ALARM)
    assert "🚨 可能的不良事件" in MemoryChat.text(shown)
    assert "🙅 这不是不良事件" in labels(shown)
    asked = rep.press("🙅 这不是不良事件")
    said = MemoryChat.text(asked)
    assert "为什么不是不良事件" in said and "报告不会删除" in said
    assert labels(asked) == ["没有发生事件（只是评价、比较或担心）", "说的是别家的药",
                             "已经报过了（同一件事）", "不是患者用我们的药（如医生本人生病）"]
    answered = rep.press("说的是别家的药")
    done = MemoryChat.text(answered)
    assert "已标记为“代表确认不是不良事件”" in done and "原因：说的是别家的药" in done
    # the visit proposal is shown again, without the answered report's button
    assert "✅ 保存" in labels(answered) and "🙅 这不是不良事件" not in labels(answered)
    [(status, when, by, why)] = rows(database, "SELECT status, dismissed_at, dismissed_by, "
                                               "dismissed_reason FROM adverse_events")
    assert (status, by, why) == ("not_ae", "rep: 王芳", "competitor") and when is not None
    # no reminder, no escalation: the deadline passes quietly
    clock.advance(hours=30)
    assert engine.due_reminders(["telegram"]) == []
    # the manager and the safety team still see it, marked, with the reason
    overview = MemoryChat.text(manager.say("/team"))
    assert "代表确认不是不良事件，原因：说的是别家的药" in overview
    exported = admin_cli(tmp_path, database.url)("ae", "export", "--all", "--format", "json")
    [report] = json.loads(exported.stdout)
    assert (report["status"], report["dismissed_by"], report["dismissed_reason"]) == (
        "not_ae", "rep: 王芳", "competitor")
    # the same button again does nothing: it was answered
    again = rep.press_key("a1.nc")
    assert len(again) == 1 and again[0].toast


def test_today_offers_not_an_adverse_event_and_keeping_it_open_is_the_default(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    rep.say("何主任说有个病人吃了我们的药以后心率很慢")
    rep.say("/cancel")
    today = rep.say("/today")
    assert "🚨 何主任说有个病人吃了我们的药以后心率很慢（还没关联客户）" in labels(today)
    opened = rep.press("何主任说有个病人")  # one item per report: what to do is asked
    assert "🙅 不是不良事件" in labels(opened)
    asked = rep.press("🙅 不是不良事件")
    assert "为什么不是不良事件" in MemoryChat.text(asked)
    rep.say("/menu")  # changed their mind: nothing chosen, the report stays open
    assert rows(database, "SELECT status FROM adverse_events") == [("open",)]
    rep.say("/today")
    rep.press("何主任说有个病人")
    rep.press("🙅 不是不良事件")
    rep.press("说的是别家的药")
    assert statuses(database) == [("not_ae", "competitor")]
    assert "不良事件" not in MemoryChat.text(rep.say("/today"))


def test_the_same_note_twice_is_one_report_and_no_clears_it(engine: Engine,
                                                             database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    note = "钟主任说科里有个病人最近老是失眠"
    first = rep.say(note)
    assert "这是不是患者用了我们的药之后发生的" in MemoryChat.text(first)
    rep.say("/cancel")
    second = rep.say(note)
    assert "是同一条报告，没有重复记录" in MemoryChat.text(second)
    assert statuses(database) == [("unconfirmed", None)]
    answered = rep.press("🩺 不是，和我们的药无关")
    assert "代表确认不是不良事件" in MemoryChat.text(answered)
    # the proposal is shown again, without the answered question's buttons
    assert not [label for label in labels(answered) if "🩺" in label]
    assert "✅ 保存" in labels(answered)
    assert statuses(database) == [("not_ae", "unrelated")]
    assert "不良事件" not in MemoryChat.text(rep.say("/today"))


def test_not_one_closes_copies_kept_before_repeats_were_merged(engine: Engine,
                                                               database: Database) -> None:
    """Reports stored twice by an earlier version (trial B: #46 and #47) close together."""
    rep = enrolled(engine, "王芳", "32", team="east")
    note = "张主任说有个病人用了我们的药后心率很慢"
    rep.say(note)
    with database.transaction() as session:  # the second copy, as the old code stored it
        session.execute(text(
            "INSERT INTO adverse_events (rep_id, phrase, report, source, day0, deadline, "
            "remind_at, status, kind) SELECT rep_id, phrase, report, source, day0, deadline, "
            "remind_at, status, kind FROM adverse_events"))
    rep.say("/cancel")
    rep.say("/today")
    rep.say("1")
    rep.press("🙅 不是不良事件")
    done = MemoryChat.text(rep.press("已经报过了"))
    assert "重复发的 2 条一起标记" in done
    assert statuses(database) == [("not_ae", "reported"), ("not_ae", "reported")]


def test_a_ranking_against_another_doctor_is_removed_and_said_before_saving(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    shown = MemoryChat.text(rep.say("市一院心内科刘主任说他用我们的药比隔壁王主任多，下周送指南"))
    assert "⚠️ 这段话涉及：统方" in shown
    assert "处方数字和排名不会保存" in shown and "《医药代表备案管理办法》" in shown
    assert "比隔壁王主任多" not in shown
    rep.press("✅ 保存")
    [(body,)] = rows(database, "SELECT text FROM notes")
    assert "王主任多" not in body and "[处方数/Rx count]" in body and "送指南" in body
    [(kept,)] = rows(database, "SELECT text FROM compliance_records")
    assert "王主任多" not in kept


def test_a_bed_number_is_removed_however_the_sentence_goes_on(engine: Engine,
                                                             database: Database) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    rep.say("/log")
    rep.say("市一院神经内科李主任说病人叫李秀英，住在神经内科8床，家属手机号138 2601 2345")
    rep.press("✅ 保存")
    [(body,)] = rows(database, "SELECT text FROM notes")
    assert "8床" not in body and "李秀英" not in body and "2345" not in body


def test_the_reminder_offers_it_too_and_then_nothing_escalates(engine: Engine,
                                                               database: Database,
                                                               clock: Clock) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "王芳", "32", team="east")
    note = "何主任说有个病人吃了我们的药以后心率很慢"
    rep.say(note)
    rep.say("/cancel")
    clock.advance(hours=23)
    [reminder] = [r for r in engine.due_reminders(["telegram"]) if r.user_id == "32"]
    keys = {c.label: c.key for c in reminder.reply.choices}
    assert "🙅 这不是不良事件" in keys
    assert "同一条报告" in MemoryChat.text(rep.say(note))  # reminded, still the same report
    rep.press_key(keys["🙅 这不是不良事件"])
    rep.press("不是患者用我们的药")
    assert statuses(database) == [("not_ae", "not_patient")]
    clock.advance(hours=2)
    assert [r for r in engine.due_reminders(["telegram"]) if r.user_id == "31"] == []
    assert "代表确认不是不良事件，原因：不是患者用我们的药" in MemoryChat.text(manager.say("/team"))
