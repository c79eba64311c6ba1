"""A hint to answer by number names the buttons the rep actually sees (the third new-rep
trial, finding 10: mid-quiz, with "📝 先记下这条" added, the hint said 1–4 under five buttons;
under the one "跳过" of a date question it said "回复 1–1"). Rep says X, bot answers Y;
SQLite and PostgreSQL.
"""

from __future__ import annotations

from coach.testing import MemoryChat


def test_a_note_mid_quiz_counts_in_the_hint(chat: MemoryChat) -> None:
    chat.say("/quiz")
    chat.press("开始")
    chat.say("仁济陈主任 肿瘤科 怕骨髓抑制，要我下周一带2篇安全性文献")
    assert len(chat.choices()) == 5
    reply = MemoryChat.text(chat.say("随便"))
    assert "请点一个按钮，或回复 1–5 的编号。" in reply


def test_one_option_is_named_alone(chat: MemoryChat) -> None:
    chat.say("人民医院心内科钱主任问了很多问题，让我12月12号把资料送过去")
    chat.press("改日期")
    assert len(chat.choices()) == 1
    reply = MemoryChat.text(chat.say("18"))
    assert "回复 1 是选下面的选项。" in reply and "1–1" not in reply
