"""Who a note is filed under, when the note alone cannot say for sure, and what /today
offers on a busy day. Rep says X, bot answers Y, store holds Z.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from coach.store.conversation import EngineState
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.conftest import Clock


def rows(database: Database, sql: str) -> list[Any]:
    with database.transaction() as session:
        return list(session.execute(text(sql)).all())


def log(chat: MemoryChat, note: str) -> str:
    shown = MemoryChat.text(chat.say(note))
    chat.press("✅ 保存")
    chat.press("完成")
    return shown


def test_someone_not_met_is_offered_with_their_existing_account(
        chat: MemoryChat, database: Database) -> None:
    log(chat, "湘雅医院神经内科赵主任说下周二再去")
    asked = MemoryChat.text(chat.say("上午去了趟湘雅 神内 护士长说赵主任在开会 没见到 明天再去"))
    assert "「赵主任」是下面哪一位？" in asked
    labels = [c.label for c in chat.choices()]
    assert labels[0] == "赵主任 · 湘雅医院 · 神经内科"  # the one already in the list, first
    chat.press("赵主任 · 湘雅医院 · 神经内科")
    assert rows(database, "SELECT COUNT(*) FROM accounts") == [(1,)]
    assert rows(database, "SELECT account_id FROM notes ORDER BY id") == [(1,), (1,)]


def test_a_first_meeting_with_a_namesake_is_asked_not_assumed(
        chat: MemoryChat, database: Database) -> None:
    log(chat, "浙一肾内科何主任说下周二再去")
    asked = MemoryChat.text(chat.say("浙江省人民医院 肾内科 何主任 第一次拜访 下周三再去"))
    assert "「何主任」是下面哪一位？" in asked
    assert [c.label for c in chat.choices()][:2] == [
        "何主任 · 浙一 · 肾内科", "新建：何主任 · 浙江省人民医院 · 肾内科"]
    chat.press("新建")
    assert rows(database, "SELECT name, hospital FROM accounts ORDER BY id") == [
        ("何主任", "浙一"), ("何主任", "浙江省人民医院")]
    assert rows(database, "SELECT hospital FROM accounts WHERE id = 1") == [("浙一",)]


def test_a_busy_today_comes_a_page_at_a_time(chat: MemoryChat, clock: Clock) -> None:
    surnames = "赵钱孙李周吴郑王冯陈褚卫"
    for surname in surnames:
        log(chat, f"市一院心内科{surname}主任说想看数据，明天再去")
    clock.advance(days=1)
    chat.say("/today")
    first = [c.label for c in chat.choices()]
    assert len(first) == 11  # nine customers, "more", skip
    assert first[9] == "➡️ 更多（还有 3 项）"
    chat.press("更多")
    second = [c.label for c in chat.choices()]
    assert [label.split(" · ")[0] for label in second] == [
        "⏰ 陈主任", "⏰ 褚主任", "⏰ 卫主任", "↩️ 回到第一页", "跳过"]
    late = next(label for label in second if "卫主任" in label)
    shown = MemoryChat.text(chat.press(late))
    assert "和卫主任的这次拜访怎么样？" in shown


def test_two_customers_of_one_name_are_told_apart_in_today(chat: MemoryChat,
                                                           clock: Clock) -> None:
    log(chat, "湘雅医院神内赵主任说明天再去")
    proposed = log(chat, "湘雅二院心内科赵主任说明天送资料过去")
    assert "👤 赵主任 · 湘雅二院 · 心内科（新客户）" in proposed  # another hospital
    clock.advance(days=1)
    shown = MemoryChat.text(chat.say("/today"))
    assert "⏰ 赵主任（湘雅医院）：再去" in shown
    assert "⏰ 赵主任（湘雅二院）：送资料过去" in shown


def test_a_note_kept_by_an_older_version_is_still_kept() -> None:
    """Rows written when one note at a time was kept hold it as an object, not a list."""
    state = EngineState.load({"parked": {"text": "李主任说下周三再去", "reports": [3]}})
    assert [(p.text, p.reports) for p in state.parked] == [("李主任说下周三再去", [3])]
    assert EngineState.load({"parked": None}).parked == []


def test_a_note_about_someone_else_is_not_filed_under_the_chosen_customer(
        chat: MemoryChat, database: Database) -> None:
    log(chat, "武汉协和血液科赵磊主任说下周三再去")
    log(chat, "华西肾内张建国主任说要看三期数据，下周一送过去")
    chat.say("/accounts")
    chat.press("赵磊主任")
    asked = MemoryChat.text(chat.press("记录拜访"))
    assert "和赵磊主任的这次拜访怎么样？" in asked
    shown = MemoryChat.text(chat.say("华西肾内 张建国主任说要先问问科里的意见，周五再去"))
    assert "👤 张建国主任 · 华西 · 肾内科" in shown and "赵磊" not in shown
    chat.press("✅ 保存")
    assert rows(database, "SELECT account_id FROM notes ORDER BY id DESC LIMIT 1") == [(2,)]


def test_a_follow_up_is_replaced_only_where_the_proposal_said_so(
        chat: MemoryChat, database: Database) -> None:
    log(chat, "瑞金医院内分泌科陈伟主任让我12月10号进病房做糖尿病教育")
    chat.say("瑞金内分泌 陈主任说下周一再聊")  # 陈主任 or 陈伟主任? picked from the list
    chat.press("陈伟主任")
    assert rows(database, "SELECT due_date, status FROM followups ORDER BY id") == [
        ("2026-12-10", "open"), ("2026-11-23", "open")]


def test_the_hospital_and_department_corrected_under_the_proposal(
        chat: MemoryChat, database: Database) -> None:
    chat.say("复旦肿瘤 邵主任 聊了乳腺癌辅助治疗 下周二送资料")
    shown = MemoryChat.text(chat.say("不对，是复旦肿瘤医院乳腺外科"))
    assert "👤 邵主任 · 复旦肿瘤医院 · 乳腺外科（新客户）" in shown
    chat.press("✅ 保存")
    assert rows(database, "SELECT name, hospital, department FROM accounts") == [
        ("邵主任", "复旦肿瘤医院", "乳腺外科")]


def test_a_customer_the_rep_already_has_is_found_by_their_name_alone(
        chat: MemoryChat, database: Database) -> None:
    log(chat, "新医大一附院皮肤科古丽娜尔医生 聊了白癜风 下周三发随访表给她")
    shown = MemoryChat.text(chat.say("古丽娜尔 今天在学术会上碰到的 约了28号去科里拜访"))
    assert "👤 古丽娜尔医生 · 新医大一附院 · 皮肤科" in shown and "新客户" not in shown
    chat.press("✅ 保存")
    assert rows(database, "SELECT account_id FROM notes ORDER BY id") == [(1,), (1,)]


def test_a_rare_family_name_typed_when_asked_who_is_taken(
        chat: MemoryChat, database: Database) -> None:
    chat.say("/log")
    asked = MemoryChat.text(chat.say("第一次去 对白癜风光疗感兴趣 周五再来一趟"))
    assert "见了谁？" in asked
    shown = MemoryChat.text(chat.say("那主任 抚顺市中心医院 皮肤科"))
    assert "新建：那主任" in " ".join(c.label for c in chat.choices()), shown
    chat.press("新建")
    assert rows(database, "SELECT name, hospital, department FROM accounts") == [
        ("那主任", "抚顺市中心医院", "皮肤科")]
