"""The customer development plan reads naturally (key-account trial C, item 4 and part of 9):
a note the compliance guard redacted or flagged shows without its placeholders and with a
short mark; each person is named once in 决策链; a role tactic's reason is said once, for all
his roles, without course jargon (种子 003); a skipped target date keeps the earlier one and
the summary reads well without one; goals are only stages ahead of his; a rep's /help lists
no managers-only commands. Rep says X, bot answers Y, store holds Z; SQLite and PostgreSQL.
"""

from __future__ import annotations

from coach.engine import Engine
from coach.messages import Reply
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_followup_object import rows

# the trial's flagged note (统方 plus a patient and a phone number), and fresh ones
FLAGGED = ("华山医院心内科王主任说上个月他开了我们的药大概80盒，"
           "3床张建国用了效果不错，电话13812345678")
PHONE = "华山医院心内科王主任说科室下周的病例讨论想听新适应症，让我联系他学生小李，手机13912345678"
INTEREST = "华山医院心内科王主任，聊了新适应症的III期数据，他挺感兴趣，让我下周四带文献再来"
TRIAL = "华山医院心内科王主任说可以先在几个合适的病人身上试试"
PLACEHOLDERS = ("[处方数/Rx count]", "[病历号/record number]", "[患者姓名/patient name]",
                "[手机号/phone]")


def logged(chat: MemoryChat, note: str) -> str:
    """Log `note` as proposed; a flagged one is kept as it is (the rep does not edit it)."""
    chat.say(note)
    saved = MemoryChat.text(chat.press("✅ 保存"))
    if "这条记录要改一下吗？" in saved:
        chat.press("保持原样")
    else:
        chat.press("完成")
    return saved


def document(replies: list[Reply]) -> str:
    """The plan's body as the rep reads it (the head carries the embedded font)."""
    [attachment] = [r.attachment for r in replies if r.attachment is not None]
    return attachment.data.decode("utf-8").partition("<body>")[2]


def test_a_redacted_or_flagged_note_shows_without_its_placeholders(
        chat: MemoryChat, database: Database) -> None:
    chat.say("/start")
    logged(chat, INTEREST)
    assert "统方" in logged(chat, FLAGGED)
    logged(chat, PHONE)
    stored = [text for (text,) in rows(database, "SELECT text FROM notes ORDER BY id")]
    assert "[处方数/Rx count]" in stored[1] and "[手机号/phone]" in stored[2]  # kept redacted

    chat.say("/plan 王主任")
    chat.press("采纳")
    html = document(chat.press("跳过"))
    assert not [p for p in PLACEHOLDERS if p in html]
    # the flagged note: every clause held a redaction, so only the mark is left
    assert "（这条记录的内容按合规要求已删除）" in html
    assert "80" not in html and "张建国" not in html and "13812345678" not in html
    # the phone number's clause is left out, the rest reads as the rep wrote it
    assert ("华山医院心内科王主任说科室下周的病例讨论想听新适应症，让我联系他学生小李"
            "（部分内容按合规要求已删除）") in html
    assert "手机" not in html
    assert INTEREST in html  # a clean note is shown whole


def test_the_plan_names_each_person_once_and_gives_a_reason_once(
        chat: MemoryChat, engine: Engine) -> None:
    chat.say("/start")
    logged(chat, TRIAL)
    chat.say("/chain")
    chat.say("王主任")
    chat.press("决策者")
    chat.press("王主任还有别的角色")
    chat.press("影响者")
    chat.press("完成")
    chat.say("/plan 王主任")
    chat.press("采纳")
    html = document(chat.press("跳过"))
    assert "决策链：王主任（决策者、影响者）</li>" in html
    assert "王主任（决策者）、王主任（影响者）" not in html
    reason = ("王主任在决策中是决策者、影响者：决策者关心政策法规和经济因素，"
              "影响者看重学术证据和同行的看法；按他的角色说他关心的事。")
    assert html.count(reason) == 1, html
    assert "种子" not in html and "seed" not in html.lower()


def test_a_skipped_date_keeps_the_earlier_one_until_the_rep_clears_it(
        chat: MemoryChat, database: Database) -> None:
    chat.say("/start")
    logged(chat, INTEREST)
    chat.say("/plan 王主任")
    chat.press("试用")
    summary = MemoryChat.text(chat.say("3个月后"))
    assert "目标：2027-02-22 前推进到「试用」" in summary

    # a new goal stage; the date question first says what the date is now
    chat.say("/plan 王主任")
    asked = MemoryChat.text(chat.press("采纳"))
    assert "目标日期现在是 2027-02-22。" in asked
    replies = chat.press("保留 2027-02-22")
    assert "目标：2027-02-22 前推进到「采纳」" in MemoryChat.text(replies)
    assert "目标日期" not in MemoryChat.text(replies)  # nothing changed but the stage
    assert "在 2027-02-22 前推进到「采纳」。" in document(replies)

    # changing it, then skipping, still keeps it
    chat.say("/plan 王主任")
    chat.press("采纳")
    chat.press("换一个日期")
    summary = MemoryChat.text(chat.press("跳过"))
    assert "目标：2027-02-22 前推进到「采纳」" in summary and "未设定" not in summary

    # only "不设日期" clears it; the summary then reads without a date
    chat.say("/plan 王主任")
    chat.press("采纳")
    replies = chat.press("不设日期")
    summary = MemoryChat.text(replies)
    assert "目标：推进到「采纳」" in summary and "近期" not in summary
    assert "· 目标日期：2027-02-22 → 未设定" in summary
    assert "推进到「采纳」（还没定日期）。" in document(replies)
    assert rows(database, "SELECT target_stage, target_date FROM goals ORDER BY id") == [
        ("trial", "2027-02-22"), ("adoption", "2027-02-22"), ("adoption", "2027-02-22"),
        ("adoption", None)]


def test_goals_are_only_stages_ahead_of_his(chat: MemoryChat) -> None:
    chat.say("/start")
    logged(chat, TRIAL)  # 试用
    chat.say("/plan 王主任")
    labels = [c.label for c in chat.choices()]
    assert "采纳" in labels
    assert not {"兴趣", "评估", "试用"} & set(labels), labels
    chat.press("采纳")
    chat.press("跳过")
    logged(chat, "华山医院心内科王主任说合适的病人常规用了")  # 采纳
    chat.say("/plan 王主任")
    labels = [c.label for c in chat.choices()]
    assert not {"兴趣", "评估", "试用", "采纳"} & set(labels), labels
    assert "巩固「采纳」：让使用成为惯例" in labels
    assert "保持现有目标（采纳）" in labels
    chat.press("巩固「采纳」")
    summary = MemoryChat.text(chat.press("跳过"))
    assert "目标：巩固「采纳」" in summary and "推进到「采纳」" not in summary


def test_a_reps_help_lists_no_managers_only_commands(engine: Engine) -> None:
    rep = MemoryChat(engine, user_id="tg-201", channel="telegram", display_name="周敏")
    rep.say(f"/start {engine.enroll('周敏', team='east')}")
    manager = MemoryChat(engine, user_id="tg-202", channel="telegram", display_name="孙经理")
    manager.say(f"/start {engine.enroll('孙经理', role='manager', team='east')}")
    seen = MemoryChat.text(rep.say("/help"))
    assert "/plan 客户发展计划书" in seen
    assert "【团队（经理用）】" not in seen and "/team" not in seen
    assert "/funnel" not in seen and "/coaching" not in seen and "【其他】" not in seen
    told = MemoryChat.text(manager.say("/help"))
    assert "【团队（经理用）】\n/team 我的团队" in told
    assert "/funnel" in told and "/coaching" in told
