"""A mistyped command is answered with the closest ones to tap, in the rep's language; a
question still waiting is shown again with its own choices first, so their numbers keep
meaning what they meant, and the guesses numbered after them."""

from __future__ import annotations

import pytest

from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_door import count

NOTE = "儿童医院呼吸科郑主任说下周一可以安排科室会"


@pytest.mark.parametrize(("typo", "said", "offered"), [
    ("/nxt", "没有 /nxt 这个命令。你是想发 /next 吗？", ["/next · 下一步建议"]),
    ("/hosptial", "你是想发 /hospital 吗？", ["/hospital · 医院客户计划"]),
    ("/plna", "你是想发 /plan 吗？", ["/plan · 客户发展计划书"]),
    ("/todya", "你是想发 /today 吗？", ["/today · 今天要做的"]),
    ("/Accouts", "你是想发 /accounts 吗？", ["/accounts · 我的客户"]),
    ("/cancle", "你是想发 /cancel 吗？", ["/cancel · 取消当前操作"]),
])
def test_a_mistyped_command_offers_the_closest(chat: MemoryChat, typo: str, said: str,
                                              offered: list[str]) -> None:
    chat.say("/menu")
    shown = MemoryChat.text(chat.say(typo))
    assert said in shown
    labels = [c.label for c in chat.choices()]
    assert labels[-len(offered):] == offered


def test_the_guess_runs_the_command_when_tapped(chat: MemoryChat) -> None:
    chat.say("/start")
    chat.say("/hepl")
    assert "/help" in [c.label.split(" ")[0] for c in chat.choices()]
    shown = MemoryChat.text(chat.press("/help"))
    assert "/log" in shown  # the help text lists the commands


def test_a_typo_at_the_proposal_keeps_it_and_numbers_mean_what_they_show(
        chat: MemoryChat, database: Database) -> None:
    chat.say(NOTE)
    shown = MemoryChat.text(chat.say("/nxt"))
    assert "没有 /nxt 这个命令。你是想发 /next 吗？" in shown
    assert "📝 这样记下？" in shown
    labels = [c.label for c in chat.choices()]
    assert labels[0] == "✅ 保存" and labels[-1] == "/next · 下一步建议"
    assert "✅ 已记下郑主任的拜访" in MemoryChat.text(chat.say("1"))
    assert count(database, "notes") == 1


def test_the_guess_typed_by_its_number_is_the_guess(chat: MemoryChat,
                                                   database: Database) -> None:
    chat.say(NOTE)
    chat.say("/plna")
    labels = [c.label for c in chat.choices()]
    number = labels.index("/plan · 客户发展计划书") + 1
    shown = MemoryChat.text(chat.say(str(number)))
    assert "给哪位客户做计划？" in shown
    assert count(database, "notes") == 0  # the proposal was left, as a typed /plan leaves it


def test_english_guesses_in_english(chat: MemoryChat) -> None:
    chat.say("/lang")
    chat.press("English")
    shown = MemoryChat.text(chat.say("/nxt"))
    assert "There's no /nxt command. Did you mean /next?" in shown


def test_nothing_close_is_the_plain_answer(chat: MemoryChat) -> None:
    chat.say("/menu")
    shown = MemoryChat.text(chat.say("/xyzzy"))
    assert "没有 /xyzzy 这个命令。发 /menu 看能做什么" in shown


@pytest.mark.parametrize(("typo", "said", "label", "shown"), [
    ("/nxt 王主任", "你是想发 /next 王主任 吗？", "/next 王主任 · 下一步建议",
     "💡 给王主任的下一步"),
    ("/nexr 王主任", "你是想发 /next 王主任", "/next 王主任 · 下一步建议", "💡 给王主任的下一步"),
    ("/stgae 王主任", "你是想发 /stage 王主任", "/stage 王主任 · 诊断客户采纳阶段",
     "王主任知道这个产品的适应证吗？"),
    ("/styel 王主任", "你是想发 /style 王主任", "/style 王主任 · 评估客户思维偏好", "王主任"),
])
def test_a_typo_with_an_argument_keeps_it_and_the_guess_runs_with_it(
        chat: MemoryChat, typo: str, said: str, label: str, shown: str) -> None:
    chat.say("人民医院心内科王主任说下周二再约")
    chat.press("✅ 保存")
    chat.press("完成")
    answer = MemoryChat.text(chat.say(typo))
    assert said in answer
    assert label in [c.label for c in chat.choices()]
    after = MemoryChat.text(chat.press(label))
    assert shown in after
    assert "哪位客户" not in after  # the customer typed after the command is taken


def test_a_typo_with_an_argument_taken_by_its_number(chat: MemoryChat) -> None:
    chat.say("人民医院心内科王主任说下周二再约")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/nxt 王主任")
    labels = [c.label for c in chat.choices()]
    shown = MemoryChat.text(chat.say(str(labels.index("/next 王主任 · 下一步建议") + 1)))
    assert "💡 给王主任的下一步" in shown


# what a rep calls a command in other words (the menu's names, English habits): offered as
# the command it means, never run unasked
@pytest.mark.parametrize(("typed", "command"), [
    ("/customers", "/accounts"), ("/Customers", "/accounts"), ("/my_customers", "/accounts"),
    ("/clients", "/accounts"), ("/customer", "/accounts"), ("/doctors", "/accounts"),
    ("/todo", "/today"), ("/to_do", "/today"), ("/reminders", "/today"),
    ("/followups", "/today"), ("/advice", "/next"), ("/nextstep", "/next"),
    ("/suggest", "/next"), ("/tip", "/next"), ("/logvisit", "/log"),
])
def test_another_name_for_a_command_offers_it(chat: MemoryChat, typed: str,
                                             command: str) -> None:
    chat.say("/menu")
    shown = MemoryChat.text(chat.say(typed))
    assert f"你是想发 {command}" in shown.split("吗？")[0]
    assert command in [c.label.split(" ")[0] for c in chat.choices()]
