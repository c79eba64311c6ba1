"""A safety report's life after the notice: marked forwarded only when the rep confirms
which one, undone when that was a slip, still linked when its customer is archived. Rep
says X, bot answers Y, store holds Z (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.runner import outbox, send_due_reminders
from coach.engine import Engine
from coach.store.database import Database
from coach.store.safety import mark_forwarded
from coach.testing import MemoryChat
from tests.conftest import Clock
from tests.test_access import enrolled, log
from tests.test_reminder_passes import Recorder
from tests.test_safety_records import rows

RASH = "泰山医院李主任说有个病人用了我们的药后起了荨麻疹"
ALLERGY = "人民医院梁主任说有个病人用了我们的药后全身过敏"


def status(database: Database) -> list[Any]:
    return rows(database, "SELECT id, status, forwarded_by FROM adverse_events ORDER BY id")


def test_a_number_typed_in_today_asks_before_it_closes_the_report_it_names(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    log(rep, ALLERGY)
    rep.say("/today")
    labels = [c.label for c in rep.choices()]
    assert labels[0].startswith("🚨 ") and "荨麻疹" in labels[0]
    allergy = next(i for i, label in enumerate(labels, 1)
                   if label.startswith("🚨 ") and "过敏" in label)
    asked = MemoryChat.text(rep.say(str(allergy)))  # the rep meant 1
    assert "已经转交药物警戒部门了吗" in asked
    assert "全身过敏" in asked and "梁主任 · 人民医院" in asked and "截止" in asked
    assert [c.label for c in rep.choices()] == ["📨 转交了", "🙅 不是不良事件", "↩️ 返回"]
    assert status(database) == [(1, "open", None), (2, "open", None)]
    back = MemoryChat.text(rep.press("返回"))  # not yet: the day's list again
    assert "☀️ 今天要做的" in back
    assert status(database) == [(1, "open", None), (2, "open", None)]
    rep.say("1")
    done = MemoryChat.text(rep.say("1"))  # the question's first button: forwarded
    assert "✅ 已记录：「" in done and "荨麻疹" in done and "24 小时内点“↩️ 撤销”" in done
    assert status(database) == [(1, "forwarded", "rep: 林晓"), (2, "open", None)]
    # an old confirmation pressed again changes nothing
    assert rep.press_key("a1.c")[0].toast
    assert status(database)[0][1] == "forwarded"


def test_a_forwarded_report_can_be_undone_from_the_reply_or_from_today(
        engine: Engine, database: Database, clock: Clock) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    rep.press_key("a1.f")  # the reminder's button: asks too
    rep.press("确认已转交")
    undone = MemoryChat.text(rep.press("撤销"))
    assert "已撤销" in undone and "重新算作未转交" in undone
    assert status(database) == [(1, "open", None)]
    rep.press_key("a1.f")
    rep.press("确认已转交")
    today = MemoryChat.text(rep.say("/today"))
    assert "📨 已转交「" in today and "点错了可以撤销" in today
    assert "撤销“已转交”" in rep.choices()[0].label
    rep.press("撤销“已转交”")
    assert status(database) == [(1, "open", None)]
    # reopened: at the deadline the manager hears of it as before
    clock.advance(hours=25)
    assert [r for r in engine.due_reminders(["telegram"]) if r.user_id == "31"]
    assert "荨麻疹" in MemoryChat.text(manager.say("/team"))


def test_after_the_undo_window_the_rep_is_told_whom_to_ask(
        engine: Engine, database: Database, clock: Clock) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    rep.press_key("a1.f")
    rep.press("确认已转交")
    clock.advance(hours=25)
    assert "撤销" not in MemoryChat.text(rep.say("/today"))
    late = MemoryChat.text(rep.press_key("a1.u"))
    assert "这里不能撤销" in late and "直接联系药物警戒部门" in late
    assert status(database) == [(1, "forwarded", "rep: 林晓")]


def test_archiving_a_customer_leaves_the_open_report_linked_and_on_the_card(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    rep.say("/accounts")
    card = MemoryChat.text(rep.press("李主任"))
    assert "🚨 不良事件报告未转交：「" in card and "荨麻疹" in card
    asked = MemoryChat.text(rep.press("归档"))
    assert "1 条不良事件报告不受影响" in asked
    rep.press("确定归档")
    today = MemoryChat.text(rep.say("/today"))
    assert "（李主任）" in today and "还没关联客户" not in today
    assert rep.choices()[0].label.startswith("🚨 ") and "（李主任）" in rep.choices()[0].label
    rep.say("1")
    rep.press("转交了")
    assert status(database) == [(1, "forwarded", "rep: 林晓")]
    assert rows(database, "SELECT a.archived FROM adverse_events e JOIN accounts a "
                          "ON a.id = e.account_id") == [(True,)]


def test_forget_lists_the_open_reports_first_and_hands_them_to_the_manager(
        engine: Engine, database: Database, clock: Clock) -> None:
    enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    log(rep, ALLERGY)
    rep.press_key("a1.f")
    rep.press("确认已转交")
    asked = MemoryChat.text(rep.say("/forget"))
    assert "你还有 1 条不良事件报告没有确认转交药物警戒部门" in asked
    assert "「" in asked and "全身过敏" in asked and "（梁主任 · 人民医院），截止 " in asked
    assert "荨麻疹" not in asked  # forwarded: nothing to warn about
    assert "马上交给你的经理（赵经理）跟进" in asked
    assert "📨 先去转交报告" in [c.label for c in rep.choices()]
    gone = MemoryChat.text(rep.press("确定删除"))
    assert "2 条不良事件报告" in gone
    assert "其中 1 条还没确认转交：已交给你的经理（赵经理）跟进" in gone
    # the manager is told at once, once; and again at the deadline
    [handover] = [r for r in engine.due_reminders(["telegram"]) if r.user_id == "31"]
    assert handover.kind == "handover"
    assert "请你跟进一条不良事件报告" in handover.reply.text
    assert "已删除数据的代表 #2" in handover.reply.text and "全身过敏" in handover.reply.text
    assert not engine.due_reminders(["telegram"])
    clock.advance(hours=25)
    [late] = engine.due_reminders(["telegram"])
    assert late.kind == "escalation" and "已过截止时间" in late.reply.text
    assert rows(database, "SELECT status FROM adverse_events ORDER BY id") == [
        ("forwarded",), ("open",)]


def test_forget_without_a_manager_says_nobody_will_be_reminded(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="solo")
    log(rep, RASH)
    asked = MemoryChat.text(rep.say("/forget"))
    assert "没有经理" in asked and "没有人会被提醒：所以请务必先转交" in asked
    today = MemoryChat.text(rep.press("先去转交报告"))
    assert "荨麻疹" in today and "请在" in today
    assert rows(database, "SELECT name FROM reps") == [("林晓",)]  # nothing deleted


def test_a_managers_own_report_is_in_team_and_escalates_to_the_other_manager(
        engine: Engine, database: Database, clock: Clock) -> None:
    boss = enrolled(engine, "赵经理", "31", role="manager", team="east")
    log(boss, "协同拜访 泰山医院李主任说有个病人用了我们的药后起了荨麻疹")
    assert "荨麻疹" in MemoryChat.text(boss.say("/team"))
    clock.advance(hours=25)
    [alone] = [r for r in engine.due_reminders(["telegram"]) if r.kind == "escalation"]
    assert alone.user_id == "31" and "团队里没有别的经理，所以告诉你本人" in alone.reply.text
    log(boss, "协同拜访 泰山医院王主任说有个病人用了我们的药后起了皮疹")
    enrolled(engine, "钱经理", "33", role="manager", team="east")
    clock.advance(hours=25)
    [told] = [r for r in engine.due_reminders(["telegram"]) if r.kind == "escalation"]
    assert told.user_id == "33" and "赵经理" in told.reply.text and "皮疹" in told.reply.text


def test_a_revoked_reps_adverse_event_is_kept_and_they_are_sent_to_pharmacovigilance(
        engine: Engine, database: Database) -> None:
    enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = enrolled(engine, "苏敏", "32", team="east")
    assert engine.revoke(name="苏敏")
    plain = MemoryChat.text(rep.say("冯主任说下周开科室会"))
    assert "权限已被停用" in plain and "不良事件" not in plain
    said = rep.say("冯主任又说那个病人用了我们的药后又出血了，转ICU了，家属电话13812345678",
                   message_id="revoked-1")
    shown = MemoryChat.text(said)
    assert "权限已被停用" in shown and "请你马上直接联系公司药物警戒部门上报" in shown
    assert "作为不良事件报告留存，并转告你的经理（赵经理）跟进" in shown
    rep.say("冯主任又说那个病人用了我们的药后又出血了，转ICU了，家属电话13812345678",
            message_id="revoked-1")  # the platform delivers it again: one report
    [(report, source, account, rep_id)] = rows(
        database, "SELECT report, source, account_id, rep_id FROM adverse_events")
    assert "出血" in report and "13812345678" not in report
    assert source == "sent after access was revoked" and account is None and rep_id == 2
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(0,)]
    [told] = [r for r in engine.due_reminders(["telegram"]) if r.user_id == "31"]
    assert told.kind == "handover" and "苏敏" in told.reply.text and "出血" in told.reply.text


DIARRHOEA = "人民医院消化科梁主任说上周有个病人用我们的药后拉肚子拉了三天"


def test_taking_back_a_report_at_the_proposal_records_the_correction_on_it(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    rep.say(DIARRHOEA)
    said = MemoryChat.text(rep.say("不对，没有拉肚子，是我写错了"))
    assert "不良事件报告不能撤回或删除" in said and "由公司药物警戒部门判断" in said
    assert "仍请在 " in said and "前转交，并说明这个更正" in said
    assert "📝 这样记下？" in said  # the proposal again, nothing kept aside
    assert not [c for c in rep.choices() if "先记下这条" in c.label]
    [(report, status)] = rows(database, "SELECT report, status FROM adverse_events")
    assert report.startswith(DIARRHOEA) and status == "open"
    assert "【代表更正 " in report and report.endswith("】不对，没有拉肚子，是我写错了")
    cancelled = MemoryChat.text(rep.say("/cancel"))
    assert "先记下这条" not in " ".join(c.label for r in rep.transcript[-1:] for c in r.choices)
    assert "1 条不良事件报告已保存" in cancelled
    assert rows(database, "SELECT COUNT(*) FROM adverse_events") == [(1,)]


def test_taking_back_a_report_just_after_saving_it(engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, DIARRHOEA)
    rep.press_key("a1.f")
    rep.press("确认已转交")
    said = MemoryChat.text(rep.say("刚才那条是我写错了"))
    assert "不能撤回或删除" in said and "已转交，请马上把更正告诉药物警戒部门" in said
    [(report, status)] = rows(database, "SELECT report, status FROM adverse_events")
    assert "】刚才那条是我写错了" in report and status == "forwarded"
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(1,)]  # no note of the retraction
    # someone else's mistake is a note; so is a later note that says "没有…"
    rep.say("/cancel")
    assert "不能撤回" not in MemoryChat.text(rep.say("人民医院消化科王主任说他记错了剂量"))
    rep.say("/cancel")
    shown = MemoryChat.text(rep.say("人民医院消化科梁主任说科里没有病人拉肚子，下周三再去"))
    assert "不能撤回" not in shown and "📝 这样记下？" in shown


def test_a_correction_goes_on_the_report_it_names_and_asks_when_it_cannot_tell(
        engine: Engine, database: Database) -> None:
    """Trial D: the rep's "是我搞错了" is no new report (no medication error), and goes on the
    report it is about, found by the customer and the words; never on the newest by default."""
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, "人民医院邓主任说有个病人用了我们的药后半夜抽筋")
    log(rep, "人民医院邓主任说另一个病人用我们药后血压一直很低")
    log(rep, "市一院罗主任说有个病人用了我们的药后头晕")  # the newest
    said = MemoryChat.text(rep.say("邓主任说那个半夜抽筋的病人 是我搞错了 他其实没在用我们的药"))
    assert "不良事件报告不能撤回或删除" in said
    assert "「人民医院邓主任说有个病人用了我们的药后半夜抽筋」" in said
    assert "🚨" not in said  # no new report
    reports = rows(database, "SELECT report FROM adverse_events ORDER BY id")
    assert len(reports) == 3
    assert reports[0][0].endswith("】邓主任说那个半夜抽筋的病人 是我搞错了 他其实没在用我们的药")
    assert "【代表更正" not in reports[1][0] + reports[2][0]
    # which one it cannot tell: the rep is asked, the reports are the buttons
    asked = MemoryChat.text(rep.say("我写错了"))
    assert "这个更正是关于哪一条不良事件报告的" in asked
    assert len([c for c in rep.choices() if "主任" in c.label]) == 3
    done = MemoryChat.text(rep.press("头晕"))
    assert "「市一院罗主任说有个病人用了我们的药后头晕」" in done and "不能撤回" in done
    [(dizzy,)] = rows(database, "SELECT report FROM adverse_events WHERE id = 3")
    assert dizzy.endswith("】我写错了")
    rep.say("/cancel")
    blood_pressure = "邓主任那个血压的事我写错了，其实是另一个降压药，跟我们药没关系"
    rep.say(blood_pressure)
    reports = rows(database, "SELECT report FROM adverse_events ORDER BY id")
    assert len(reports) == 3
    assert reports[1][0].endswith("】" + blood_pressure)
    assert "血压的事" not in reports[0][0] + reports[2][0]
    rep.say("/cancel")
    rep.say("抽筋那条是我写错了，不是我们药")  # named by its event word: no new report either
    reports = rows(database, "SELECT report FROM adverse_events ORDER BY id")
    assert len(reports) == 3 and reports[0][0].endswith("】抽筋那条是我写错了，不是我们药")
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(3,)]  # no note of a retraction
    # none of them: skipped, the message is read as a note (nothing typed is lost)
    rep.say("/cancel")
    rep.say("我写错了")
    assert "见了谁" in MemoryChat.text(rep.press("跳过"))
    reports = rows(database, "SELECT report FROM adverse_events ORDER BY id")
    assert sum(r[0].count("】我写错了") for r in reports) == 1  # only the one picked before


def test_asking_in_words_to_delete_my_data_offers_forget_not_a_note(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    rep.say("/cancel")
    asked = MemoryChat.text(rep.say("删除我的所有数据"))  # /forget, which asks first
    assert "📝 这样记下？" not in asked
    assert "确定删除吗" in asked and "荨麻疹" in asked  # the open report, listed first
    rep.press("不删了")
    assert rows(database, "SELECT COUNT(*) FROM notes") == [(1,)]
    assert rows(database, "SELECT name FROM reps WHERE id = 1") == [("林晓",)]
    offered = MemoryChat.text(rep.say("please delete my data"))  # more words: offered
    assert "删除我的数据" in offered and "记成拜访记录" in offered
    assert "确定删除吗" in MemoryChat.text(rep.press("打开删除我的数据"))


def test_export_times_carry_their_zone_as_chat_shows_them(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    [notice] = [r.text for r in rep.transcript if "第 0 天 = " in r.text]
    shown = notice.split("第 0 天 = ")[1][:16]  # "2026-11-21 18:00", Beijing time
    exported = [r for r in rep.say("/export") if r.attachment is not None]
    data = json.loads(next(r.attachment.data for r in exported
                           if r.attachment.filename.endswith(".json")))
    [event] = data["adverse_events"]
    assert event["day0"].endswith("+08:00")
    assert datetime.fromisoformat(event["day0"]).strftime("%Y-%m-%d %H:%M") == shown
    assert data["notes"][0]["created_at"].endswith("+08:00")


def test_a_report_closed_by_the_safety_team_while_the_rep_is_asked_stays_closed(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    rep.say("/today")
    rep.say("1")  # asked: forwarded?
    with database.transaction() as session:  # meanwhile: `repcoach ae forward 1 --by PV`
        mark_forwarded(session, [1], engine.clock(), "PV 张")
    changed = MemoryChat.text(rep.press("转交了"))
    assert "这条报告在问你之后已经变了" in changed
    assert status(database) == [(1, "forwarded", "PV 张")]
    assert "这里不能撤销" in MemoryChat.text(rep.press_key("a1.u"))  # PV's, not the rep's
    assert status(database) == [(1, "forwarded", "PV 张")]


async def test_a_handover_claimed_by_a_worker_that_died_goes_out_once_from_another(
        engine: Engine, database: Database, clock: Clock) -> None:
    manager = MemoryChat(engine, user_id="m-1", channel="memory", display_name="赵经理")
    manager.say("/menu")  # met on first contact, then given the manager's code
    manager.say(f"/start {engine.enroll('赵经理', role='manager', team='east')}")
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, RASH)
    assert engine.revoke(name="林晓")
    dead = Recorder(engine, "test:memory:dead")
    assert len(engine.claim_reminders(["memory"], outbox({"memory": dead}))) == 1
    assert dead.delivered == []  # killed right after the claim committed
    other = Engine(Database(database.url), engine.library, engine.settings, clock=clock)
    alive = Recorder(other, "test:memory:alive")
    assert await send_due_reminders(other, {"memory": alive}) == 0  # claimed: not again
    clock.advance(minutes=6)
    await alive.recover()
    [(user, reply)] = alive.delivered
    assert user == "m-1" and "请你跟进一条不良事件报告" in reply.text and "荨麻疹" in reply.text
    assert await send_due_reminders(other, {"memory": alive}) == 0
    assert len(alive.delivered) == 1
    other.database.dispose()
