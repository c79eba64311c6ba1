"""Corrections typed back to back, each about the same visit (trial F finding 1): a rep
logged a visit, then typed an addition ("对了，还说…") left unsaved, a date correction
("日期记错了，是周三"), a person correction ("记错人了，是刘医生") and a concern taken back
("他没嫌贵，是…"), some under the open proposal, some right after saving. The visit ended
split across two customers (the addition filed alone under a new 刘医生, the saved visit
left on 王主任) with the follow-up's step lost and the date in the wrong week.

Each script asserts what the trial rep expected: one visit, under the right person once,
its follow-up's step kept on the new day, the concerns as corrected, and every word typed
in the note. Measured as scripts passing:

    .venv/bin/pytest -q tests/test_trial7_corrections.py

Before (main at df6c512, this file copied into `git archive df6c512`, run there with
PYTHONPATH at it): 1/7 pass (the order with every text saved before the next).
After: 7/7 (`.venv/bin/pytest -q tests/test_trial7_corrections.py -k "not postgres"`).
"""

from __future__ import annotations

from coach.store.database import Database
from coach.testing import MemoryChat
from testkit.clock import Clock
from tests.test_followup_object import rows

# the clock starts on Sunday 22 November; these run on Monday 23 (下周二 is 1 December)


def _saved_visit(chat: MemoryChat, clock: Clock, note: str) -> None:
    clock.advance(days=1)
    chat.say(note)
    chat.press("✅ 保存")


def _one_visit_under(database: Database, name: str) -> str:
    """The one note there is, filed under `name`; the wrong customer has no note."""
    [(owner, text)] = rows(database, "SELECT a.name, n.text FROM notes n JOIN accounts a "
                                     "ON a.id = n.account_id")
    assert owner == name
    return str(text)


def _open_followups(database: Database) -> list[tuple[str, str, str]]:
    return sorted(rows(database, "SELECT a.name, f.action, f.due_date FROM followups f JOIN "
                                 "accounts a ON a.id = f.account_id WHERE f.status = 'open'"))


def _concerns(database: Database) -> list[tuple[str, str]]:
    return sorted(rows(database, "SELECT a.name, o.kind FROM objections o JOIN accounts a "
                                 "ON a.id = o.account_id"))


def test_trial_f_order_all_under_the_open_proposal(
        chat: MemoryChat, database: Database, clock: Clock) -> None:
    """The trial's order: everything after the first save typed under the open proposal."""
    _saved_visit(chat, clock, "越秀区人民医院心内科 王主任 嫌贵 下周二送文献")
    chat.say("对了，还说科里下个月开会讨论进药")
    reply = MemoryChat.text(chat.say("日期记错了，是周三"))
    assert "⏰ 跟进：12月2日 周三 · 送文献" in reply  # the saved step's week, its step
    reply = MemoryChat.text(chat.say("记错人了，是刘医生"))
    assert "✏️ 刚才那条记录不是王主任的，移到哪一位名下？" in reply
    moved = MemoryChat.text(chat.press("新建"))
    assert "✅ 刚才那条记录已从王主任名下移到刘医生名下" in moved
    assert "✏️ 这段话补充到刚才刘医生的记录里" in moved  # the addition still pending
    reply = MemoryChat.text(chat.say("他没嫌贵，是担心安全性"))
    assert "✖️ 不记顾虑：价格（你说不是这样）" in reply
    chat.press("✅ 保存")
    text = _one_visit_under(database, "刘医生")
    for typed in ("对了，还说科里下个月开会讨论进药", "记错人了，是刘医生",
                  "他没嫌贵，是担心安全性"):
        assert typed in text
    assert _open_followups(database) == [("刘医生", "送文献", "2026-12-02")]
    assert _concerns(database) == [("刘医生", "safety")]
    assert rows(database, "SELECT name, hospital, archived FROM accounts ORDER BY id") == [
        ("王主任", "越秀区人民医院", True), ("刘医生", "越秀区人民医院", False)]


def test_person_under_the_proposal_then_date_and_concern_after_saving(
        chat: MemoryChat, database: Database, clock: Clock) -> None:
    _saved_visit(chat, clock, "越秀区人民医院心内科 王主任 嫌贵 下周二送文献")
    chat.say("对了，还说想看III期数据")
    chat.say("记错人了，是刘医生")
    chat.press("新建")
    chat.press("✅ 保存")
    reply = MemoryChat.text(chat.say("日期记错了，是周三"))
    assert "⏰ 跟进：12月2日 周三 · 送文献" in reply
    chat.press("✅ 保存")
    chat.say("他没嫌贵，是担心安全性")
    chat.press("✅ 保存")
    text = _one_visit_under(database, "刘医生")
    assert "对了，还说想看III期数据" in text and "他没嫌贵，是担心安全性" in text
    assert _open_followups(database) == [("刘医生", "送文献", "2026-12-02")]
    assert _concerns(database) == [("刘医生", "safety")]


def test_each_saved_before_the_next(chat: MemoryChat, database: Database,
                                    clock: Clock) -> None:
    _saved_visit(chat, clock, "越秀区人民医院心内科 王主任 嫌贵 下周二送文献")
    chat.say("对了，还说想看III期数据")
    chat.press("✅ 保存")
    chat.say("日期记错了，是周三")
    chat.press("✅ 保存")
    chat.say("记错人了，是刘医生")
    chat.press("新建")
    chat.say("他没嫌贵，是担心安全性")
    chat.press("✅ 保存")
    _one_visit_under(database, "刘医生")
    assert _open_followups(database) == [("刘医生", "送文献", "2026-12-02")]
    assert _concerns(database) == [("刘医生", "safety")]


def test_person_first_under_the_proposal_to_a_known_customer(
        chat: MemoryChat, database: Database, clock: Clock) -> None:
    """The right one is already a customer, with a visit of his own: the saved one joins
    him, the addition with it; his own follow-up stays."""
    clock.advance(days=1)
    chat.say("越秀区人民医院心内科 刘医生 聊了聊 下周五再去")
    chat.press("✅ 保存")
    chat.say("越秀区人民医院心内科 王主任 嫌贵 下周二送文献")
    chat.press("✅ 保存")
    chat.say("补充一下 他说科里在比价")
    chat.say("刚才记错人了，应该是刘医生")
    chat.press("刘医生 · 越秀区人民医院")
    chat.say("不是周二，是周四")
    chat.press("✅ 保存")
    notes = sorted(rows(database, "SELECT a.name, n.text FROM notes n JOIN accounts a "
                                  "ON a.id = n.account_id"))
    assert [n for n, _ in notes] == ["刘医生", "刘医生"]
    assert any("补充一下 他说科里在比价" in t for _, t in notes)
    assert _open_followups(database) == [("刘医生", "再去", "2026-12-04"),
                                         ("刘医生", "送文献", "2026-12-03")]


def test_concern_then_person_under_the_proposal(chat: MemoryChat, database: Database,
                                                clock: Clock) -> None:
    _saved_visit(chat, clock, "越秀区人民医院心内科 王主任 嫌贵 下周二送文献")
    reply = MemoryChat.text(chat.say("不对，他没嫌贵，是担心安全性"))
    assert "✖️ 不记顾虑：价格（你说不是这样）" in reply
    chat.say("写错人了 是刘医生不是王主任")
    chat.press("新建")
    chat.press("✅ 保存")
    text = _one_visit_under(database, "刘医生")
    assert "不对，他没嫌贵，是担心安全性" in text
    assert _open_followups(database) == [("刘医生", "送文献", "2026-12-01")]
    assert _concerns(database) == [("刘医生", "safety")]


def test_english_addition_then_wrong_doctor(chat: MemoryChat, database: Database,
                                            clock: Clock) -> None:
    clock.advance(days=1)
    chat.say("/lang")
    chat.press("English")
    chat.say("Saw Dr Wang at Renji cardio, too expensive, bring the leaflet Tue")
    chat.press("Save")
    chat.say("forgot to say: she also wants the subgroup data")
    reply = MemoryChat.text(chat.say("wrong doctor, it was Dr Liu not Dr Wang"))
    assert "✏️ The note you just saved isn't Dr Wang's: whose is it?" in reply
    chat.press("Dr Liu")
    chat.press("Save")
    text = _one_visit_under(database, "Dr Liu")
    assert "forgot to say: she also wants the subgroup data" in text
    [(name, action, _due)] = _open_followups(database)
    assert (name, action) == ("Dr Liu", "bring the leaflet")


def test_picking_the_same_customer_keeps_what_was_being_added(
        chat: MemoryChat, database: Database, clock: Clock) -> None:
    """Tried in the console: "记错人了" then picking the customer it was under after all
    ended the flow, and the addition and date correction typed before were lost."""
    _saved_visit(chat, clock, "海珠医院心内科 冯主任 嫌贵 下周二带资料再去")
    chat.say("对了他还说科里在比价")
    chat.say("日期写错了 应该是周四")
    chat.say("弄错人了，是潘医生")
    chat.press("重新输入")
    reply = MemoryChat.text(chat.press("冯主任"))
    assert "本来就记在冯主任名下" in reply and "✏️ 这段话补充到刚才冯主任的记录里" in reply
    assert "⏰ 跟进：12月3日 周四 · 带资料再去" in reply
    chat.press("✅ 保存")
    assert "对了他还说科里在比价" in _one_visit_under(database, "冯主任")
    assert _open_followups(database) == [("冯主任", "带资料再去", "2026-12-03")]
