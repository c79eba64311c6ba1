"""The hospital as the customer: `/hospital` writes one plan for a whole hospital from the
rep's records of the people there — decision chain with roles, attitudes and what each
role cares about, adoption by department, supporters, the three-party win, resources and
dated actions — and the next plan says what changed, in words."""

from __future__ import annotations

import re

from coach.testing import MemoryChat

VISITS = [
    "泰山医院心内科李主任开始给几个病人试用了，反馈不错",
    "泰山医院心内科王医生第一次听说这个药",
    "泰山医院药剂科赵主任说进药要走药事会",
]


def document(replies: list) -> str:
    [html] = [r.attachment.data.decode("utf-8") for r in replies if r.attachment is not None]
    return html


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def log(chat: MemoryChat, note: str) -> None:
    chat.say(note)
    chat.press("保存")
    chat.press("完成")


def test_a_plan_for_the_whole_hospital(chat: MemoryChat) -> None:
    for note in VISITS:
        log(chat, note)
    chat.say("/chain")
    chat.press("赵主任")
    chat.press("决策者")
    chat.press("完成")

    replies = chat.say("/hospital 泰山")
    said = MemoryChat.text(replies)
    assert "🏥 泰山医院 的医院客户计划（3 位客户）已生成" in said
    assert "还没接触的角色：影响者、推荐者" in said  # 赵主任 buys and decides
    assert "支持者：李主任" in said
    text = words(document(replies))
    assert "决策者 （关心：政策法规、经济因素和医院目标" in text
    assert "赵主任 · 药剂科（中立）" in text
    assert "李主任 · 心内科（支持）" in text and "王医生 · 心内科（中立）" in text
    # adoption counts 采纳 among prescribers, as /adopter does: 李主任 is at 试用
    assert "心内科：0%（低于临界比例 10%" in text
    assert "药剂科" not in text.split("二、各科采纳比例")[1][:40]
    assert "支持者：李主任。给他们分享用药经验的机会，请他们把方案带到决策者面前" in text
    assert "和赵主任谈三方共赢的方案" in text and "（负责人：代表，一线经理陪同）" in text
    assert "2026-12-13 前：请李主任在科室会或病例讨论上分享经验" in text
    assert "市场部的合规项目（如社区项目" in text

    # a week later 李主任 cools: the next plan says so, in words
    chat.engine.clock.advance(days=7)  # type: ignore[attr-defined]
    log(chat, "泰山医院心内科李主任说最近用得少了，新进了仿制药")
    replies = chat.say("/hospital 泰山医院")
    said = MemoryChat.text(replies)
    assert "和上次相比：" in said
    assert "· 支持者：去掉李主任" in said
    assert "· 反对或在倒退：新增李主任" in said
    assert ":" not in said.split("和上次相比：")[1].split("还没接触")[0].replace("：", "")
    text = words(document(replies))
    assert "李主任 · 心内科（反对或在倒退）" in text
    # the note said why (a generic came in): the plan answers it instead of asking again
    assert "回访李主任，针对已经记下的原因（仿制药：「仿制药」）回应，不必再问" in text
    assert "问清态度变化的原因" not in text


def test_no_customers_there_says_what_to_do(chat: MemoryChat) -> None:
    said = MemoryChat.text(chat.say("/hospital"))
    assert "还没有记录过任何医院的客户" in said
    log(chat, VISITS[0])
    said = MemoryChat.text(chat.say("/hospital 协和医院"))
    assert "没有在“协和医院”记录过客户" in said


def test_plan_with_a_hospital_name_plans_for_the_hospital(chat: MemoryChat) -> None:
    log(chat, VISITS[0])
    said = MemoryChat.text(chat.say("/plan 泰山医院"))
    assert "🏥 泰山医院 的医院客户计划（1 位客户）已生成" in said
    # the plan is kept under the hospital, which never shows among the customers
    said = MemoryChat.text(chat.say("/accounts"))
    assert "你的客户（1 位" in said and "泰山医院 · 泰山医院" not in said
    said = MemoryChat.text(chat.say("/plan 泰山医院李主任"))
    assert "想把李主任推进到哪个阶段" in said  # a person named: straight to that person's plan


def test_a_supporter_is_asked_only_what_fits_him(chat: MemoryChat) -> None:
    """Trial C: 王主任, the decision maker, at 兴趣 and tagged 支持, was asked to share his
    experience (he had none) and to bring the plan to the decision maker (himself)."""
    log(chat, "华山医院心内科王主任聊了新适应症的III期数据，他挺感兴趣")
    chat.say("/chain")
    chat.press("王主任")
    for label in ("决策者", "王主任的态度", "支持", "完成"):
        chat.press(label)
    text = words(document(chat.say("/hospital 华山医院")))
    assert "支持者：王主任。先行者需要同伴" in text
    assert "分享" not in text and "带到决策者面前" not in text
    # a colleague who uses it and is no decision maker: both fit him
    log(chat, "华山医院心内科刘医生开始给几个病人试用了")
    chat.say("/chain")
    chat.press("刘医生")
    for label in ("影响者", "刘医生的态度", "支持", "完成"):
        chat.press(label)
    text = words(document(chat.say("/hospital 华山医院")))
    assert ("支持者：刘医生、王主任。给刘医生分享用药经验的机会；"
            "请刘医生把方案带到决策者面前") in text
    assert "请王主任" not in text
