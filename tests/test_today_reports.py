"""/today with safety reports (trial D 12): one item per report, which asks what to do with
it — forwarded, logged under a customer while it has none, not an adverse event, or back —
so a report without a customer can be marked forwarded too; and with many reports they are
one item opening their own list, so an overdue follow-up stays on the first page. Rep says
X, bot answers Y, store holds Z (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.conftest import Clock
from tests.test_access import enrolled, log
from tests.test_safety_records import rows

RASH = "华西医院呼吸科陈主任说有个病人用了我们的药后出现皮疹"
UNFILED = [RASH, "省医邓主任说有个病人吃了我们的药以后一直头晕",
           "川大附属黄医生说有个病人用我们的药后拉肚子", "罗主任说有个病人用了我们的药后心慌",
           "贺主任说有个病人打了我们的针以后起了水泡"]

OTHERS = [f"{hospital}{doctor} 聊了指南 明天再去" for hospital, doctor in (
    ("省医", "张主任"), ("华西医院", "何主任"), ("市一医院", "周主任"), ("中医院", "吴主任"),
    ("妇幼保健院", "郑医生"), ("肿瘤医院", "孙主任"), ("骨科医院", "钱医生"),
    ("儿童医院", "冯主任"))]


def labels(chat: MemoryChat) -> list[str]:
    return [c.label for c in chat.choices()]


def reports(database: Database) -> list[Any]:
    return rows(database, "SELECT id, status, forwarded_by, account_id FROM adverse_events "
                          "ORDER BY id")


def unfiled(rep: MemoryChat, note: str) -> None:
    """A report typed, then the visit dropped: the report stays, without a customer."""
    rep.say(note)
    rep.say("/cancel")


def asked_about_one(engine: Engine) -> tuple[MemoryChat, str]:
    """A rep with one report and no customer, who opened it in /today: the question."""
    rep = enrolled(engine, "林晓", "32", team="east")
    unfiled(rep, RASH)
    rep.say("/today")
    return rep, MemoryChat.text(rep.say("1"))


def test_a_report_without_a_customer_can_be_marked_forwarded_and_undone(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    unfiled(rep, RASH)
    rep.say("/today")
    assert [label for label in labels(rep) if "皮疹" in label] == [
        "🚨 华西医院呼吸科陈主任说有个病人用了我们的药后出现皮疹（还没关联客户）"]
    asked = MemoryChat.text(rep.say("1"))  # one item per report: what to do is asked
    assert "已经转交药物警戒部门了吗" in asked and "（还没关联客户）" in asked
    assert "截止" in asked and "报告不会删除" in asked
    assert labels(rep) == ["📨 转交了", "📝 记下这条报告", "🙅 不是不良事件", "↩️ 返回"]
    assert reports(database) == [(1, "open", None, None)]  # the list's tap closed nothing
    done = MemoryChat.text(rep.press("转交了"))
    assert "✅ 已记录" in done and "皮疹" in done
    assert reports(database) == [(1, "forwarded", "rep: 林晓", None)]
    today = MemoryChat.text(rep.say("/today"))
    assert "📨 已转交「" in today and "点错了可以撤销" in today
    rep.press("撤销“已转交”")
    assert reports(database) == [(1, "open", None, None)]


def test_a_report_without_a_customer_is_logged_from_its_question(
        engine: Engine, database: Database) -> None:
    rep, _ = asked_about_one(engine)
    proposal = MemoryChat.text(rep.press("📝 记下这条报告"))
    assert "📝 这样记下？" in proposal and "陈主任" in proposal
    assert "这条记录已关联不良事件报告" in MemoryChat.text(rep.press("✅ 保存"))
    [(_, state, _, account)] = reports(database)
    assert state == "open" and account is not None
    rep.say("/today")
    assert "（陈主任）" in labels(rep)[0]
    rep.say("1")  # filed now: nothing to log, the other answers stay
    assert labels(rep) == ["📨 转交了", "🙅 不是不良事件", "↩️ 返回"]


def test_back_from_a_reports_question_is_the_days_list_and_changes_nothing(
        engine: Engine, database: Database) -> None:
    rep, _ = asked_about_one(engine)
    back = MemoryChat.text(rep.press("返回"))
    assert "☀️ 今天要做的" in back and "皮疹" in back
    assert reports(database) == [(1, "open", None, None)]


def test_many_reports_are_one_item_and_the_overdue_follow_up_stays_on_page_one(
        engine: Engine, database: Database, clock: Clock) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    log(rep, "人民医院梁主任 想看III期数据 明天再去送资料")
    for note in OTHERS:
        log(rep, note)
    clock.advance(days=3)  # every follow-up is overdue now
    for note in UNFILED:
        unfiled(rep, note)
    today = MemoryChat.text(rep.say("/today"))
    assert all(phrase in today for phrase in ("皮疹", "头晕", "拉肚子", "心慌", "水泡"))
    first_page = labels(rep)
    # two items a report filled the first page before: the follow-ups were on page 2
    assert first_page[0].startswith("🚨 不良事件报告 5 条") and "点开逐条处理" in first_page[0]
    assert any(label.startswith("⏰ 梁主任") and "逾期" in label for label in first_page)
    assert not [label for label in first_page[1:] if label.startswith("🚨")]
    listed = MemoryChat.text(rep.say("1"))
    assert "点一条报告处理" in listed
    reports_list = labels(rep)
    assert [label.startswith("🚨") for label in reports_list[:6]] == [True] * 5 + [False]
    assert reports_list[5] == "↩️ 返回" and "头晕" in reports_list[1]
    asked = MemoryChat.text(rep.say("2"))
    assert "已经转交药物警戒部门了吗" in asked and "头晕" in asked
    rep.press("转交了")
    assert [r[1] for r in reports(database)] == ["open", "forwarded", "open", "open", "open"]
    rep.say("/today")
    rep.say("1")
    assert "☀️ 今天要做的" in MemoryChat.text(rep.press("返回"))


def test_the_undo_after_forwarding_is_the_only_list_so_1_means_undo(
        engine: Engine, database: Database) -> None:
    """Trial H: with a note kept meanwhile, "📨 转交了" answered with "1. ↩️ 撤销" and, in the
    same reply, the kept note's "1. 📝 现在记下"; the rep's "1" opened the note. The kept
    note now waits for the next turn (it is kept, offered beside every question)."""
    rep, _ = asked_about_one(engine)
    rep.say("瑞金心内王主任说想看III期数据 下周三再去")  # kept: a question waits
    done = MemoryChat.text(rep.press("转交了"))
    assert "✅ 已记录" in done and "你之前发的这段话还没记下" not in done, done
    assert labels(rep) == ["↩️ 撤销"]
    undone = MemoryChat.text(rep.say("1"))
    assert "↩️ 已撤销" in undone, undone
    assert reports(database) == [(1, "open", None, None)]
    assert rows(database, "SELECT count(*) FROM notes") == [(0,)]
    rep.say("/today")  # the kept note is still there, offered beside the question
    assert labels(rep)[-1] == "📝 先记下这条", labels(rep)
