"""Steps that speak of the current customer say 她 when the rep's notes on her do (trial E
finding 9: the tips did, but /stage asked "2/8 他向你要过什么？" about 孙医生, whom every note
called 她, and /next said "还没诊断过他的阶段"). A label shown with 她 is accepted typed with
他 too, and a customer written as 他 keeps 他.
"""

from __future__ import annotations

from coach.testing import MemoryChat


def _log(chat: MemoryChat, note: str) -> None:
    chat.say(note)
    chat.press("✅ 保存")
    chat.press("完成")


def test_the_stage_questions_speak_of_her_as_the_rep_does(chat: MemoryChat) -> None:
    _log(chat, "瑞金心内孙医生，她说对我们的药挺感兴趣，下周三再去")
    chat.say("/stage 孙医生")
    second = MemoryChat.text(chat.press_nth(0))
    assert "2/8 她向你要过什么？" in second, second
    assert "他" not in second


def test_the_stage_question_takes_a_label_typed_with_either_pronoun(chat: MemoryChat) -> None:
    _log(chat, "瑞金心内孙医生，她说对我们的药挺感兴趣，下周三再去")
    chat.say("/stage 孙医生")
    chat.press_nth(0)
    chat.press_nth(0)
    chat.press_nth(0)
    chat.press_nth(0)
    chat.press_nth(0)
    sixth = MemoryChat.text(chat.press_nth(0))
    assert "7/8 她会和同事谈起这个产品吗？" in sixth, sixth
    assert "从没听她提过" in [choice.label for choice in chat.choices()]
    typed = MemoryChat.text(chat.say("从没听他提过"))
    assert "8/8" in typed, typed


def test_a_customer_written_as_he_is_asked_about_as_he(chat: MemoryChat) -> None:
    _log(chat, "瑞金心内钱主任，他说对我们的药挺感兴趣，下周三再去")
    chat.say("/stage 钱主任")
    assert "2/8 他向你要过什么？" in MemoryChat.text(chat.press_nth(0))
