"""A manager's team funnel (/funnel): the team's key accounts by adoption stage and how they
moved over four weeks, as a picture whose numbers are the data's and as text; per rep and
by hospital; nobody else's team, and nothing for a rep. On both backends; the whole script
once through the real Telegram adapter against the loopback Bot API."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image
from sqlalchemy import select

from coach.charts import labels_in, stage_funnel
from coach.digest import manager_digest
from coach.engine import Engine
from coach.messages import Reply
from coach.store.models import Rep
from coach.testing import MemoryChat
from testkit.fakes.telegram_api import FakeTelegram
from testkit.telegram_support import TOKEN, Person, running_bot
from tests.support.drawing import recording
from tests.team_support import (
    DIGEST_DUE,
    TEAM_MOVES,
    TEAM_STAGES,
    USERS,
    add_history,
    enroll_team,
    write_history,
)

STAGE_NAMES = {"awareness": "认知", "interest": "兴趣", "evaluation": "评估", "trial": "试用",
               "adoption": "采纳"}
MOVE_NAMES = {"forward": "前进", "back": "后退", "stalled": "停滞", "new": "首次诊断"}


def picture(replies: list[Reply]) -> bytes:
    [png] = [r.attachment.data for r in replies if r.attachment is not None]
    return png


def expected_labels(title: str, stages: dict[str, int], moves: dict[str, int],
                    note: str) -> list[str]:
    return [title, *(f"{STAGE_NAMES[s]}  {n}" for s, n in stages.items()),
            *(f"{MOVE_NAMES[m]}  {n}" for m, n in moves.items()), note]


def test_the_team_funnel_counts_key_accounts_by_stage_and_move(engine: Engine) -> None:
    chats = enroll_team(engine)
    write_history(engine)
    replies = chats["赵经理"].say("/funnel")
    text = MemoryChat.text(replies)
    assert "📊 east · 重点客户采纳漏斗（只读）" in text
    assert "共 5 位，未诊断 1 位" in text
    for stage, count in TEAM_STAGES.items():
        assert f"· {STAGE_NAMES[stage]}：{count}" in text
    assert "近 4 周：前进 1，后退 1，停滞 1，首次诊断 1" in text
    assert "· 张医生 · 泰山医院（王芳）试用 → 评估" in text
    # per rep, under the team's numbers
    assert "· 王芳：3 位（兴趣 1、评估 2）前进 1 · 后退 1 · 停滞 1" in text
    assert "· 李雷：2 位（认知 1、未诊断 1）前进 0 · 后退 0 · 停滞 0 · 首次诊断 1" in text
    # not key (tier C), or another team's: not there
    assert "周医生" not in text and "钱主任" not in text and "赵六" not in text
    assert labels_in(picture(replies)) == expected_labels(
        "east · 重点客户采纳漏斗（近 4 周）", TEAM_STAGES, TEAM_MOVES,
        "共 5 位重点客户，其中 1 位未诊断")
    assert [c.label for r in replies for c in r.choices] == [
        "全团队", "看一位代表", "按医院", "完成"]


def test_one_rep_and_by_hospital_on_request(engine: Engine) -> None:
    chats = enroll_team(engine)
    write_history(engine)
    manager = chats["赵经理"]
    one = manager.say("/funnel 王芳")
    assert "📊 王芳 · 重点客户采纳漏斗" in MemoryChat.text(one)
    assert labels_in(picture(one)) == expected_labels(
        "王芳 · 重点客户采纳漏斗（近 4 周）",
        {"awareness": 0, "interest": 1, "evaluation": 2, "trial": 0, "adoption": 0},
        {"forward": 1, "back": 1, "stalled": 1, "new": 0}, "共 3 位重点客户")
    manager.say("完成")
    hospitals = MemoryChat.text(manager.say("/funnel 医院"))
    lines = hospitals.splitlines()
    assert lines[:4] == [
        "🏥 east · 重点客户按医院（近 4 周）",
        "· 人民医院：2 位（认知 1、兴趣 1）前进 0 · 后退 0 · 停滞 1 · 首次诊断 1",
        "· 泰山医院：2 位（评估 2）前进 1 · 后退 1 · 停滞 0",
        "· 未填医院：1 位（未诊断 1）前进 0 · 后退 0 · 停滞 0",
    ]
    # the buttons lead to the same views
    manager.press("看一位代表")
    picked = MemoryChat.text(manager.press("李雷"))
    assert "📊 李雷 · 重点客户采纳漏斗" in picked and "共 2 位，未诊断 1 位" in picked
    assert "🏥 east · 重点客户按医院" in MemoryChat.text(manager.press("按医院"))
    # one hospital by its name: its own funnel, picture and all
    one = manager.say("/funnel 泰山医院")
    said = MemoryChat.text(one)
    assert "📊 泰山医院 · 重点客户采纳漏斗（只读）" in said and "共 2 位" in said
    assert "近 4 周：前进 1，后退 1，停滞 0，首次诊断 0" in said
    assert "· 王芳：2 位（评估 2）前进 1 · 后退 1 · 停滞 0" in said and "李雷" not in said
    assert labels_in(picture(one))[0] == "泰山医院 · 重点客户采纳漏斗（近 4 周）"
    unknown = MemoryChat.text(manager.say("/funnel 赵六"))
    assert "没有叫“赵六”的代表或医院" in unknown  # another team's rep is no one here
    assert "/funnel 医院名称 看一家医院" in unknown


def test_first_diagnosed_then_moved_counts_as_moved_in_funnel_digest_and_coaching(
        engine: Engine) -> None:
    """One definition of a move: a customer first diagnosed inside the window who then
    moved counts as moved (not as first diagnosed), from the first stage seen in the window
    to the stage now; /funnel, the weekly digest and /coaching say the same."""
    chats = enroll_team(engine)
    write_history(engine)
    # 吴主任: first diagnosed 认知 on 11-18, then 兴趣 on 11-20: forward
    add_history(engine, "李雷", "吴主任", "人民医院", "A", [(datetime(2026, 11, 20), "interest")])
    # 孙医生: first diagnosed 试用 on 11-01 (inside the 4 weeks), then 评估 on 11-19: back
    add_history(engine, "李雷", "孙医生", "人民医院", "B",
                [(datetime(2026, 11, 1), "trial"), (datetime(2026, 11, 19), "evaluation")])
    manager = chats["赵经理"]
    text = MemoryChat.text(manager.say("/funnel"))
    assert "近 4 周：前进 2，后退 2，停滞 1，首次诊断 0" in text
    assert "· 孙医生 · 人民医院（李雷）试用 → 评估" in text
    assert "· 李雷：3 位（兴趣 1、评估 1、未诊断 1）前进 1 · 后退 1 · 停滞 0" in text
    manager.say("完成")
    one = MemoryChat.text(manager.say("/funnel 李雷"))
    assert "近 4 周：前进 1，后退 1，停滞 0，首次诊断 0" in one
    manager.say("完成")
    with engine.database.transaction() as session:
        boss = session.execute(select(Rep).where(Rep.name == "赵经理")).scalar_one()
        [digest] = manager_digest(session, engine.library, boss, DIGEST_DUE,
                                  engine.settings.digest, 8)
    assert "📈 阶段变化：前进 1，后退 2，共 3 位" in digest.text
    assert "· 李雷 · 孙医生（人民医院）：试用 → 评估 ⬇️" in digest.text
    assert "· 李雷 · 吴主任（人民医院）：认知 → 兴趣" in digest.text
    coaching = MemoryChat.text(manager.say("/coaching 李雷"))
    assert "📉 近 4 周阶段后退：1 位" in coaching


def test_a_managers_menu_has_the_team_entries_and_a_reps_has_not(engine: Engine) -> None:
    chats = enroll_team(engine)
    write_history(engine)
    manager, rep = chats["赵经理"], chats["王芳"]
    manager.say("/menu")
    labels = [c.label for c in manager.choices()]
    assert labels[-4:] == ["🏢 团队动态", "📈 团队漏斗", "🧑‍🏫 代表辅导报告", "❓ 帮助"]
    assert "📊 east · 重点客户采纳漏斗（只读）" in MemoryChat.text(manager.press("团队漏斗"))
    manager.say("/menu")
    assert "看哪位代表的辅导报告？" in MemoryChat.text(manager.press("代表辅导报告"))
    rep.say("/menu")
    mine = [c.label for c in rep.choices()]
    assert mine[-1] == "❓ 帮助" and not any("团队" in label or "辅导" in label for label in mine)


def test_english_counts_of_one_are_singular(engine: Engine) -> None:
    chats = enroll_team(engine)
    chats["李雷"].say("/log")
    chats["李雷"].say("人民医院呼吸科吴主任，第一次见面，介绍了产品")
    chats["李雷"].press("保存")
    manager = chats["赵经理"]
    manager.say("/lang")
    manager.press("English")
    team = MemoryChat.text(manager.say("/team"))
    assert "· 李雷: 1 visit note, 1 customer" in team.splitlines()
    assert "· 王芳: 0 visit notes, 0 customers" in team.splitlines()


def test_a_manager_answering_by_number_gets_every_view(engine: Engine) -> None:
    """As on the console or WeCom: the choices are answered with their numbers."""
    chats = enroll_team(engine)
    write_history(engine)
    manager = chats["赵经理"]
    manager.say("/funnel")
    assert "看哪一位代表" in MemoryChat.text(manager.say("2"))
    assert "📊 李雷 · 重点客户采纳漏斗" in MemoryChat.text(manager.say("1"))  # by name order
    assert "🏥 east · 重点客户按医院" in MemoryChat.text(manager.say("3"))
    assert "📊 east · 重点客户采纳漏斗" in MemoryChat.text(manager.say("1"))
    done = MemoryChat.text(manager.say("4"))
    assert "回复" not in done and "过期" not in done  # understood: the flow ends


def test_reps_are_refused_and_an_empty_team_is_told_what_to_do(engine: Engine) -> None:
    chats = enroll_team(engine)
    assert "只对团队经理开放" in MemoryChat.text(chats["王芳"].say("/funnel"))
    empty = chats["赵经理"].say("/funnel")
    assert "east 还没有重点客户" in MemoryChat.text(empty)
    assert not any(r.attachment for r in empty)


def test_the_chart_draws_the_numbers_it_is_given() -> None:
    stages = [("认知", 3), ("兴趣", 5), ("评估", 2), ("试用", 1), ("采纳", 0)]
    moves = [("前进", 3), ("后退", 1), ("停滞", 4), ("首次诊断", 2)]
    with recording() as drawn:
        png = stage_funnel("东区 · 重点客户采纳漏斗", stages, moves, "共 11 位重点客户")
    texts = [d.text for d in drawn]
    for name, count in [*stages, *moves]:
        assert f"{name}  {count}" in texts
    assert set(labels_in(png)) <= set(texts)
    assert Image.open(io.BytesIO(png)).size[0] >= 700


async def test_the_funnel_through_telegram(engine: Engine) -> None:
    chats = enroll_team(engine)
    write_history(engine)
    del chats
    fake = FakeTelegram(token=TOKEN)
    await fake.start()
    try:
        async with running_bot(fake, engine) as bot:
            manager = Person(fake, bot, USERS["赵经理"], "赵经理")
            shown = await manager.say("/funnel", expect=2)
            [photo] = [m for m in shown if m.kind == "photo"]
            assert photo.file is not None
            assert labels_in(photo.file.data)[1:6] == [
                f"{STAGE_NAMES[s]}  {n}" for s, n in TEAM_STAGES.items()]
            assert "近 4 周：前进 1，后退 1，停滞 1，首次诊断 1" in manager.transcript()
            await manager.press("看一位代表")
            pressed = await manager.press("王芳")
            [photo] = [m for m in pressed.new if m.kind == "photo"]
            assert photo.file is not None and labels_in(photo.file.data)[0].startswith("王芳")
            rep = Person(fake, bot, USERS["王芳"], "王芳")
            refused = await rep.say("/funnel")
            assert "只对团队经理开放" in refused[0].text
    finally:
        await fake.close()
