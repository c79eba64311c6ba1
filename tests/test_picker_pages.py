"""A list of customers to choose from shows five at a time with "➡️ 更多" for the next five,
and from the last page back to the first. A number or a button always means the customer it
was shown with; a button of a page no longer on screen picks nobody."""

from __future__ import annotations

from sqlalchemy import text

from coach.store.database import Database
from coach.testing import MemoryChat

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫"  # logged in this order: 卫 is the most recent


def twelve_customers(chat: MemoryChat) -> None:
    for surname in SURNAMES:
        chat.say(f"市一院心内科{surname}主任说想看数据")
        chat.press("✅ 保存")
        chat.press("完成")


def names(chat: MemoryChat) -> list[str]:
    return [c.label.split(" · ")[0] for c in chat.choices()]


def test_more_pages_through_every_customer(chat: MemoryChat) -> None:
    twelve_customers(chat)
    assert "给哪位客户出主意？" in MemoryChat.text(chat.say("/next"))
    assert names(chat) == ["卫主任", "褚主任", "陈主任", "冯主任", "王主任", "➡️ 更多（还有 7 项）"]
    chat.press("更多")
    assert names(chat) == ["郑主任", "吴主任", "周主任", "李主任", "孙主任", "➡️ 更多（还有 2 项）"]
    chat.say("更多")  # typed, not tapped
    assert names(chat) == ["钱主任", "赵主任", "↩️ 回到第一页"]
    chat.press("回到第一页")
    assert names(chat)[0] == "卫主任"
    chat.press("更多")
    shown = MemoryChat.text(chat.say("2"))  # the second one on this page: 吴主任
    assert "吴主任" in shown and "卫主任" not in shown


def test_a_button_from_an_older_page_picks_nobody(chat: MemoryChat) -> None:
    twelve_customers(chat)
    chat.say("/next")
    first_page_key = chat.choices()[0].key  # 卫主任, on the first page
    chat.press("更多")
    shown = MemoryChat.text(chat.press_key(first_page_key))
    assert "这个按钮已过期，什么都没有改变" in shown
    assert names(chat)[0] == "郑主任"  # the page on screen is still the page on screen
    assert "郑主任" in MemoryChat.text(chat.press("郑主任"))


def test_a_note_naming_nobody_is_filed_under_a_customer_from_a_later_page(
        chat: MemoryChat, database: Database) -> None:
    twelve_customers(chat)
    asked = MemoryChat.text(chat.say("聊了指南，下周三再去"))
    assert "📝 见了谁？" in asked
    chat.press("更多")
    chat.press("更多")
    saved = MemoryChat.text(chat.press("赵主任"))
    assert "✅ 已记下赵主任的拜访。" in saved
    with database.transaction() as session:
        (name,) = session.execute(text(
            "SELECT a.name FROM notes n JOIN accounts a ON a.id = n.account_id "
            "ORDER BY n.id DESC LIMIT 1")).one()
    assert name == "赵主任"


def test_namesakes_beyond_five_are_on_the_next_page(chat: MemoryChat) -> None:
    hospitals = ["市一院", "市二院", "市三院", "省人医", "中心医院", "协和", "华西"]
    for hospital in hospitals:
        chat.say(f"{hospital}心内科王主任 第一次见 说想看数据")
        namesakes = any("新建" in c.label for c in chat.choices())
        chat.press("新建" if namesakes else "✅ 保存")  # one tap saves either way
        chat.press("完成")
    chat.say("/next")
    chat.say("王主任")
    first = [c.label for c in chat.choices()]
    assert len([label for label in first if label.startswith("王主任 · ")]) == 5
    assert "➡️ 更多（还有 2 项）" in first
    chat.press("更多")
    second = [c.label for c in chat.choices() if c.label.startswith("王主任 · ")]
    assert len(second) == 2
    assert {*first, *second} >= {f"王主任 · {h} · 心内科" for h in hospitals}
