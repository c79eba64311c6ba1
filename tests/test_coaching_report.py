"""A manager's coaching report on one rep (issue 16): what the manager reads in the chat and
in the document, that it is read-only and only for the manager's own team, and that the
coaching points come from the playbook's rules, not from code."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from coach.engine import Engine
from coach.library import check_directory, load_library
from coach.store.models import Account, Plan, StageChange, Suggestion
from coach.testing import MemoryChat
from tests.conftest import PLAYBOOKS, Clock
from tests.documents_support import copy_playbooks, seed_rep_history
from tests.team_support import enroll_team, write_history


def enrolled(engine: Engine, name: str, user_id: str, **kwargs: str) -> MemoryChat:
    chat = MemoryChat(engine, user_id=user_id, channel="telegram", display_name=name)
    code = engine.enroll(name, **kwargs)
    assert "开通成功" in MemoryChat.text(chat.say(f"/start {code}"))
    return chat


def team(engine: Engine, clock: Clock) -> tuple[MemoryChat, MemoryChat]:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    member = enrolled(engine, "王芳", "32", team="east")
    seed_rep_history(engine, clock, member, "王芳")
    return manager, member


def rows_of(engine: Engine) -> dict[str, int]:
    with engine.database.transaction() as session:
        return {model.__tablename__: session.execute(
            select(func.count()).select_from(model)).scalar_one()
            for model in (Account, Suggestion, StageChange, Plan)}


def test_the_manager_reads_one_reps_coaching_report(engine: Engine, clock: Clock) -> None:
    manager, _ = team(engine, clock)
    before = rows_of(engine)
    replies = manager.say("/coaching 王芳")
    said = MemoryChat.text(replies)
    assert "王芳 的辅导报告（只读）" in said
    assert "思维偏好：分析型" in said
    assert "人际型 2、全局型 1（已评估的客户里 100% 和王芳的风格都不同）" in said
    # no customer screened: said plainly, the recent customers not called key accounts
    assert "还没有重点客户（/screen 评为 A、B 级的客户）。最近接触的客户 3 位：" in said
    assert "重点客户 3 位" not in said and "重点客户（A、B 级）" not in said
    assert "🚨 未关闭的不良事件：没有 · ⚠️ 近 30 天被标记的记录：没有" in said
    assert ("建议（近 90 天）：4 条，采纳 1（25%），不采纳 3；"
            "原因：不适合这位客户 2、其他 1。") in said
    # two or three points, by the playbook's rules: the style gap, then the dismissals
    assert "1. 已评估的客户里 100% 和王芳的风格（分析型）不同" in said
    assert "2. 被拒的建议多半理由是“不适合这位客户”" in said
    assert "3. " in said and "4. " not in said
    [document] = [r.attachment for r in replies if r.attachment is not None]
    assert document.filename == "辅导报告-王芳-2026-11-22.html"
    html = document.data.decode("utf-8")
    assert "代表辅导报告：王芳" in html
    # where to flex: the advice the rep's own suggestions carry (next.yaml)
    assert "陪访前可以这样提醒王芳：「你偏分析、他重人际：先寒暄" in html
    assert "（张主任、李主任）" in html
    assert "「科室不让进」" in html  # the reason in the rep's own words
    assert "@font-face" in html and "<script" not in html
    assert rows_of(engine) == before  # read-only: nothing of the rep's changed


def test_key_accounts_moves_and_safety_as_the_funnel_and_team_count_them(
        engine: Engine) -> None:
    """Key accounts are the funnel's (`key_tiers`: A and B), not every screened customer;
    a move back is the funnel's; the rep's open adverse events and flagged texts are
    named (read-only: the manager sees counts, /team has the texts)."""
    chats = enroll_team(engine)
    write_history(engine)  # 王芳: 李主任 A, 张医生 B (moved back), 陈医生 A, 周医生 C
    chats["王芳"].say("/log")
    chats["王芳"].say("泰山医院孙主任说有个病人用药后出现皮疹，还问有没有回扣")
    chats["王芳"].press("保存")
    said = MemoryChat.text(chats["赵经理"].say("/coaching 王芳"))
    assert "重点客户（A、B 级）3 位：兴趣 1、评估 2。" in said
    assert "📉 近 4 周阶段后退：1 位" in said
    assert "🚨 未关闭的不良事件：1 件 · ⚠️ 近 30 天被标记的记录：1 条（/team 看原文）" in said
    funnel = MemoryChat.text(chats["赵经理"].say("/funnel 王芳"))
    assert "共 3 位" in funnel and "后退 1" in funnel


def test_only_a_manager_and_only_their_own_team(engine: Engine, clock: Clock) -> None:
    manager, member = team(engine, clock)
    enrolled(engine, "李雷", "33", team="west")
    assert "只对团队经理开放" in MemoryChat.text(member.say("/coaching 王芳"))
    said = MemoryChat.text(manager.say("/coaching 李雷"))
    assert "团队里没有叫“李雷”的代表" in said and "看哪位代表的辅导报告？" in said
    assert [c.label for c in manager.choices()] == ["王芳"]  # the other team is not offered
    said = MemoryChat.text(manager.say("1"))  # by number, as on the console or WeCom
    assert "王芳 的辅导报告（只读）" in said


def test_a_rep_revoked_meanwhile_has_no_report(engine: Engine, clock: Clock) -> None:
    manager, _ = team(engine, clock)
    manager.say("/coaching")
    engine.revoke(name="王芳")
    said = MemoryChat.text(manager.press("王芳"))
    assert "已经不在你的团队里" in said


def test_the_points_are_the_playbooks_rules(engine: Engine, clock: Clock,
                                           tmp_path: Path) -> None:
    """A company changes the coaching points in coaching.yaml alone: the first rules that
    hold, in the file's order, at most `max_points`."""
    folder = copy_playbooks(PLAYBOOKS, tmp_path / "playbooks")
    path = folder / "coaching.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  points:\n"), text.index("  document:\n")
    path.write_text(text[:start] + """  points:
    - id: never
      when: "customers > 100"
      text: {zh: 不该出现, en: never}
    - id: dismissals
      when: "dismissed >= 3"
      text:
        zh: "{{ rep_name }}拒绝了 {{ dismissed }} 条建议，多数是“{{ top_reason_name }}”"
        en: "x"
    - id: always
      when: "true"
      text: {zh: 一起陪访一次, en: ride along}
""" + text[end:], encoding="utf-8")
    assert check_directory(folder) == []
    custom = Engine(engine.database, load_library(folder), engine.settings, clock=clock)
    manager, _ = team(custom, clock)
    said = MemoryChat.text(manager.say("/coaching 王芳"))
    assert "1. 王芳拒绝了 3 条建议，多数是“不适合这位客户”" in said
    assert "2. 一起陪访一次" in said and "不该出现" not in said and "3. " not in said


def test_check_refuses_a_rule_on_an_unknown_fact(tmp_path: Path) -> None:
    folder = copy_playbooks(PLAYBOOKS, tmp_path / "playbooks")
    path = folder / "coaching.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'when: "moved_back >= 1"', 'when: "prescriptions > 10"'), encoding="utf-8")
    problems = "\n".join(str(p) for p in check_directory(folder))
    assert "reads unknown facts: prescriptions" in problems


def test_a_rep_with_nothing_yet_gets_a_report_that_says_so(engine: Engine) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    enrolled(engine, "新人小李", "34", team="east")
    said = MemoryChat.text(manager.say("/coaching 小李"))
    assert "新人小李 的辅导报告（只读）" in said
    assert "思维偏好：还没做测试" in said and "还没有客户记录。" in said
    assert "建议（近 90 天）：0 条，采纳 0（0%），不采纳 0。" in said
    assert "1. 请新人小李先做一次思维偏好测试（/quiz）" in said
    assert "3. " in said and "None" not in said


def test_in_english(engine: Engine, clock: Clock) -> None:
    manager, _ = team(engine, clock)
    manager.say("/lang")
    manager.press("English")
    replies = manager.say("/coaching 王芳")
    said = MemoryChat.text(replies)
    assert "Coaching report: 王芳 (read-only)" in said
    assert "Thinking preference: Analytical" in said
    assert "1 taken (25%), 3 dismissed; reasons: not right for the customer 2, other 1." in said
    [document] = [r.attachment for r in replies if r.attachment is not None]
    assert document.filename == "coaching-report-王芳-2026-11-22.html"
    assert "Coaching report: 王芳" in document.data.decode("utf-8")


def test_half_of_the_key_accounts_undiagnosed_is_said_as_half(engine: Engine) -> None:
    """Trial C: with 1 of 2 key accounts undiagnosed the point said 一半以上 (more than
    half); it now gives the numbers and says 正好一半. A reason the rep typed that held a
    phone number reads without the placeholder, as in every document."""
    manager = enrolled(engine, "孙经理", "41", role="manager", team="east")
    rep = enrolled(engine, "周敏", "42", team="east")
    for note, who in (("华山医院心内科王主任说先在几个病人身上试试", "王主任"),
                      ("华山医院药剂科陈主任聊了进院流程", "陈主任")):
        rep.say(note)
        rep.press("✅ 保存")
        rep.press("完成")
        rep.say("/screen")
        rep.say(who)
        for answer in ("大", "影响很大", "稳定", "全国", "很少"):
            rep.press(answer)
        rep.press("完成")
    rep.say("/next 王主任")
    for label in ("不合适", "其他"):  # not a fit, in his own words:
        rep.press(label)
    rep.say("他让我先联系他助理，电话13812345678")
    replies = manager.say("/coaching 周敏")
    said = MemoryChat.text(replies)
    assert "2 位重点客户里有 1 位还没诊断采纳阶段（正好一半）" in said, said
    assert "一半以上" not in said
    [document] = [r.attachment for r in replies if r.attachment is not None]
    html = document.data.decode("utf-8").partition("<body>")[2]
    assert "「他让我先联系他助理（部分内容按合规要求已删除）」" in html, html
    assert "[手机号/phone]" not in html and "13812345678" not in html
