"""The tip after each logged visit of the same customer is another one, and it calls the
customer 她 when the rep does (the third new-rep trial, finding 5: after three logs of 李医生
the tip was word for word the same, and said 他 of a doctor the rep wrote 她 about). Rep says
X, bot answers Y, store holds Z; SQLite and PostgreSQL.
"""

from __future__ import annotations

from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_followup_object import rows

FIRST = "中山 内分泌 李医生 对我们的SGLT2 有兴趣，想先给几个pt试用下"
SECOND = "中山李医生 今天又去了一趟，她科里已经有2个病人在用了，反馈不错"
THIRD = "中山李医生 下午又碰到她，聊了几句她病人的情况"


def tip(chat: MemoryChat, note: str) -> str:
    """The 💡 tip of the reply that saves `note`."""
    chat.say(note)
    saved = MemoryChat.text(chat.press("✅ 保存"))
    chat.press("完成")
    assert "💡 " in saved, saved
    return saved.split("💡 ", 1)[1]


def test_each_visit_gets_another_tip_in_the_reps_pronoun(chat: MemoryChat,
                                                         database: Database) -> None:
    proposal = MemoryChat.text(chat.say(FIRST))
    assert "→ 阶段：试用？" in proposal  # trying it on a few patients is 试用, not 兴趣
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "🔎 已更新：试用" in saved
    chat.press("完成")
    tips = [saved.split("💡 ", 1)[1], tip(chat, SECOND), tip(chat, THIRD)]
    assert len(set(tips)) == 3, tips
    for later in tips[1:]:  # the rep wrote 她 from the second note on
        assert "他" not in later.replace("其他", "").replace("他们", ""), later
    assert any("她" in later for later in tips[1:]), tips
    # the tips are remembered, and no suggestion waits for an answer or uses the daily cap
    assert rows(database, "SELECT status, COUNT(*) FROM suggestions GROUP BY status") == [
        ("tip", 3)]
    advice = MemoryChat.text(chat.say("/next 李医生"))
    assert "💡 给李医生的下一步" in advice


def test_a_customer_written_as_he_stays_he(chat: MemoryChat) -> None:
    chat.say("人民医院心内科王主任开始给几个病人试用了，他说想看看效果")
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "💡 " in saved and "她" not in saved.split("💡 ", 1)[1]


def test_an_addition_to_the_visit_just_saved_brings_no_second_tip(chat: MemoryChat) -> None:
    """Trial E finding 10: "对了，…" added to the visit just saved showed the same tip again,
    as if the bot had not listened. A tip comes back only when the addition tells something
    new (here a concern)."""
    chat.say("华山医院心内科陈主任，她对我们的药挺感兴趣，下周三再去")
    assert "💡" in MemoryChat.text(chat.press("✅ 保存"))
    chat.press("完成")
    chat.say("对了，她还说科里下个月要搬到新楼")
    added = MemoryChat.text(chat.press("✅ 保存"))
    assert "已补充到刚才陈主任的记录" in added, added
    assert "💡" not in added
    chat.press("完成")
    chat.say("补充一下，她还说价格有点贵")
    concern = MemoryChat.text(chat.press("✅ 保存"))
    assert "已补充到刚才陈主任的记录" in concern and "⚠️ 已记下顾虑：价格" in concern, concern
    assert "💡" in concern
