"""A typo never costs the rep what is on the screen: an unknown command, an empty message
or one too long (kept aside) is answered with the waiting question shown again, so its
numbers still mean what they meant; and an old list shown again never acts on a safety
report differently from what its label said."""

from __future__ import annotations

import pytest

from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_door import count, reports

NOTE = "儿童医院呼吸科郑主任说下周一可以安排科室会"


@pytest.mark.parametrize(("typo", "said"), [
    ("/foo", "没有 /foo 这个命令"),
    ("/x2", "没有 /x2 这个命令"),
    ("   ", "收到一条空消息"),
    ("很长的话。" * 500, "一个字没丢"),  # kept beside the question (trial G finding 9)
])
def test_a_typo_at_the_proposal_keeps_it(chat: MemoryChat, database: Database,
                                         typo: str, said: str) -> None:
    chat.say(NOTE)
    replies = chat.say(typo)
    shown = MemoryChat.text(replies)
    assert said in shown
    assert "📝 这样记下？" in shown and "👤 郑主任 · 儿童医院 · 呼吸科（新客户）" in shown
    assert chat.choices()[0].label == "✅ 保存"
    assert "✅ 已记下郑主任的拜访" in MemoryChat.text(chat.say("1"))
    assert count(database, "notes") == 1


def test_a_typo_in_the_quiz_keeps_the_question(chat: MemoryChat) -> None:
    chat.say("/quiz")
    chat.press("开始")
    chat.say("1")
    shown = MemoryChat.text(chat.say("/foo"))
    assert "没有 /foo 这个命令" in shown and "2/18" in shown
    assert "3/18" in MemoryChat.text(chat.say("2"))


def test_an_old_today_list_never_forwards_a_report_it_offered_to_log(
        chat: MemoryChat, database: Database) -> None:
    chat.say("/quiz")
    chat.say("华西医院呼吸科陈主任说有个病人用药后出现皮疹")  # a report, no customer yet
    chat.say("/cancel")
    today = MemoryChat.text(chat.say("/today"))
    assert "（还没关联客户）" in today
    chat.press("先记下这条")  # the kept note: logging it files the report under 陈主任
    assert "✅ 已记下陈主任的拜访" in MemoryChat.text(chat.press("保存"))
    chat.press("回到")  # the list as it was, the report still without a customer
    assert chat.choices()[0].label.endswith("（还没关联客户）")
    shown = MemoryChat.text(chat.say("1"))  # asked about it as it is now: filed
    assert "已经转交药物警戒部门了吗" in shown and "（陈主任 · 华西医院）" in shown
    assert [c.label for c in chat.choices()] == ["📨 转交了", "🙅 不是不良事件", "↩️ 返回"]
    [report] = reports(database)
    assert (report["customer"], report["status"]) == ("陈主任", "open")  # not "forwarded"
    assert "✅ 已记录" in MemoryChat.text(chat.press("转交了"))
    assert reports(database)[0]["status"] == "forwarded"
