"""Session 7's trial G (李婷 and her manager 周经理), the key-account findings, as scripts:
the manager's coaching report matches styles as the rep holds them (both of two dominant
styles) and speaks about the rep, not to her; /chain and /hospital name the same
supporters; /adopter's 看决策链 shows the chain; /adopter counts the prescribers it names;
a quality complaint is not an adverse event anywhere; /export counts customers."""

from __future__ import annotations

from sqlalchemy import select

from coach.engine import Engine
from coach.store.models import Account, AdverseEvent, QuizResult, Rep
from coach.testing import MemoryChat
from tests.conftest import Clock
from tests.documents_support import seed_rep_history
from tests.test_coaching_report import enrolled


def _styles(engine: Engine, clock: Clock, rep_name: str, dominant: str,
            styles: dict[str, str]) -> None:
    with engine.database.transaction() as session:
        rep = session.execute(select(Rep).where(Rep.name == rep_name)).scalar_one()
        for quiz in session.execute(select(QuizResult).where(QuizResult.rep_id == rep.id)
                                    ).scalars():
            quiz.dominant = dominant
        for account in session.execute(select(Account).where(Account.rep_id == rep.id)
                                       ).scalars():
            account.style = styles.get(account.name)


def test_coaching_counts_a_style_shared_in_either_of_two_dominant_styles(
        engine: Engine, clock: Clock) -> None:
    manager = enrolled(engine, "周经理", "41", role="manager", team="chengdu")
    rep = enrolled(engine, "李婷", "42", team="chengdu")
    seed_rep_history(engine, clock, rep, "李婷")
    # 李婷 is 人际型 + 分析型; 李主任 分析型 + 全局型 shares 分析型, 张主任 重条理 shares none
    _styles(engine, clock, "李婷", "CA", {"李主任": "AD", "张主任": "B"})
    replies = manager.say("/coaching 李婷")
    said = MemoryChat.text(replies)
    assert "思维偏好：人际型 + 分析型" in said
    assert "（已评估的客户里 50% 和李婷的风格都不同）" in said
    assert "100%" not in said
    [document] = [r.attachment for r in replies if r.attachment is not None]
    html = document.data.decode("utf-8")
    # both of her styles are marked as hers; 李主任 is counted under each of his
    assert '<li class="mine"><b>分析型</b>：1 位客户（李主任），和李婷相同' in html
    assert '<li class="mine"><b>人际型</b>：0 位客户，和李婷相同' in html
    assert "<li><b>全局型</b>：1 位客户（李主任）" in html
    assert "和代表相同" not in html
    # the rep-facing advice is quoted as what to tell her, never addressed to the manager
    assert "陪访前可以这样提醒李婷：「你们都偏分析" in html
    assert "<small>你" not in html


def log(chat: MemoryChat, note: str) -> None:
    chat.say(note)
    chat.press("保存")
    chat.press("完成")


def _huaxi(chat: MemoryChat) -> None:
    """Trial G's 华西医院: 张主任 prescribes and the rep tags him 支持; 刘主任 buys."""
    log(chat, "刚见完华西医院内分泌科张主任，觉得价格偏高，让我下周三带医保政策资料过去")
    log(chat, "华西药剂科刘主任，说进药要等明年3月药事会")
    chat.say("/chain")
    chat.press("刘主任")
    chat.press("采购者")
    chat.press("再标一位")
    chat.say("张主任")
    chat.press("使用者")
    chat.press("张主任的态度")
    chat.press("支持")
    chat.press("完成")


def test_chain_and_hospital_name_the_same_supporter(chat: MemoryChat) -> None:
    _huaxi(chat)
    chain = MemoryChat.text(chat.say("/chain"))
    assert "给谁标角色" in chain
    chain = MemoryChat.text(chat.press("张主任"))
    chain = MemoryChat.text(chat.press("使用者"))
    assert "🌟 支持者：张主任（" in chain
    assert "请张主任帮忙把方案带到决策者面前" in chain
    assert "还没有支持者" not in chain and "还没有人符合" not in chain
    chat.press("完成")
    hospital = MemoryChat.text(chat.say("/hospital 华西医院"))
    assert "支持者：张主任" in hospital


def test_the_profile_alone_makes_a_supporter_in_both(chat: MemoryChat) -> None:
    """An opinion leader of high influence tagged a pioneer, with no attitude given."""
    log(chat, "华西医院内分泌科张主任，聊了新药的数据")
    chat.say("/screen")
    chat.press("张主任")
    for answer in ("中", "影响很大", "稳定", "全国", "一般"):
        chat.press(answer)
    chat.say("/adopter")
    chat.press("张主任")
    chat.press("早期采用者")
    chain = MemoryChat.text(chat.press("看决策链"))
    chain = MemoryChat.text(chat.press("影响者"))  # no role yet: asked, then the chain
    assert "🌟 支持者：张主任（" in chain
    chat.press("完成")
    assert "支持者：张主任" in MemoryChat.text(chat.say("/hospital 华西医院"))


def test_the_adopter_chain_button_shows_the_chain_when_the_role_is_known(
        chat: MemoryChat, database: object) -> None:
    _huaxi(chat)
    chat.say("/adopter")
    chat.press("张主任")
    said = MemoryChat.text(chat.press("早期采用者"))
    assert "🌱 华西医院：1 位医生中 0 位已采纳（0%）" in said
    # counted and named: only the prescriber; the pharmacy head is named as not counted
    assert "算作开处方的医生：张主任（早期采用者）；没算进来（不开处方）：刘主任" in said
    assert "只记录了 1 位开处方的医生" in said
    chain = MemoryChat.text(chat.press("看决策链"))
    assert "🔗 华西医院的决策链" in chain
    assert "使用者：张主任（支持）" in chain and "采购者：刘主任" in chain
    assert "是什么角色" not in chain
    with chat.engine.database.transaction() as session:  # type: ignore[attr-defined]
        zhang = session.execute(select(Account).where(Account.name == "张主任")).scalar_one()
        assert zhang.roles == ["user"] and zhang.adopter == "early_adopter"


def test_export_counts_customers_and_writes_what_a_rep_reads(chat: MemoryChat) -> None:
    log(chat, "刚见完华西医院内分泌科张主任，觉得价格偏高，说医保报销比例不清楚")
    log(chat, "华西药剂科刘主任，说进药要等明年3月药事会")
    chat.say("/hospital 华西医院")  # keeps its plan under a hospital account: no customer
    replies = chat.say("/export")
    assert "📦 这是你在 RepCoach 里的全部数据：2 位客户，2 条拜访记录" in MemoryChat.text(replies)
    [sheet] = [r.attachment for r in replies
               if r.attachment is not None and r.attachment.filename.endswith(".csv")]
    lines = sheet.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "类型,日期,客户,医院,科室,分级,角色,阶段,思维风格,未解决的顾虑,内容"
    customers = [line for line in lines[1:] if line.startswith("客户,")]
    assert len(customers) == 2 and not any(",华西医院,华西医院," in c for c in customers)
    zhang = next(c for c in customers if ",张主任," in c)
    assert zhang.endswith(",价格,")
    assert not any(code in sheet.data.decode("utf-8-sig")
                   for code in ("awareness", "interest", "trial", "price", "account,"))


def test_a_quality_complaint_is_named_as_one_and_has_no_patient(chat: MemoryChat) -> None:
    chat.say("省人民医院药剂科孙主任说上批货有包装破损")
    saved = MemoryChat.text(chat.press("保存"))
    tip = saved + MemoryChat.text(chat.say("/next 孙主任"))
    assert "产品质量投诉" in tip
    assert "问问那批产品的后续处理" in tip and "那位病人" not in tip
    today = MemoryChat.text(chat.say("/today"))
    assert "🚨 特殊情况：产品质量投诉「" in today and "🚨 不良事件「" not in today
    with chat.engine.database.transaction() as session:  # type: ignore[attr-defined]
        [report] = session.execute(select(AdverseEvent)).scalars().all()
        assert report.kind == "quality_complaint" and report.status == "open"


def test_an_adverse_event_still_asks_after_the_patient(chat: MemoryChat) -> None:
    chat.say("省人民医院心内科王主任说有个病人用了我们的药后出现低血糖")
    chat.press("保存")
    tip = MemoryChat.text(chat.say("/next 王主任"))
    assert "这次拜访关心那位病人的情况就好" in tip
    assert "🚨 不良事件「" in MemoryChat.text(chat.say("/today"))


def test_the_hospital_plan_says_which_customers_have_an_open_safety_report(
        chat: MemoryChat) -> None:
    chat.say("省人民医院心内科王主任说有个病人用了我们的药后出现低血糖，"
             "想在科里做个小讲课，1月12号")
    chat.press("保存")
    chat.press("完成")
    log(chat, "省人民医院内分泌科赵主任，聊了指南，12月22号再约")
    said = MemoryChat.text(chat.say("/hospital 省人民医院"))
    assert ("🚨 未关闭的安全报告：王主任（不良事件）。"
            "报告关闭前，别推动王主任加量或做推广活动") in said
    assert "有未关闭的安全报告，报告关闭前别借此推动用量" in said
    assert "再约（赵主任，你定的跟进）" in said  # his own follow-up is not held
