"""The Telegram channel in process: the real adapter and python-telegram-bot, real HTTP to the
fake Bot API, the real engine on SQLite and PostgreSQL, a clock the test moves.

Every assertion is something a rep would notice (the messages in their chat, the buttons,
what a pressed button says) or a row in the store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.runner import Channel, send_due_reminders
from bot.server import WebhookServer
from bot.telegram import TelegramChannel
from coach.charts import can_draw_chinese, labels_in, quadrant_scores
from coach.engine import Engine
from coach.library import Library
from coach.messages import Attachment, Choice, Incoming, Reply
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.turn.result import Outcome, TurnResult
from testkit.fakes.telegram_api import SECRET_HEADER, FakeTelegram, SentMessage, image_size
from testkit.telegram_support import (
    TOKEN,
    Person,
    TrackedChannel,
    conversation,
    count,
    counts,
    rows,
    running_bot,
    telegram_config,
)
from tests.conftest import Clock

WANG, LI, STRANGER = 1001, 1002, 1003

# python-telegram-bot's own rate limiter reads RetryAfter.retry_after, deprecated in 22.2
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*attribute `retry_after` will be of type:DeprecationWarning")


def png_bytes() -> bytes:
    """A small real picture, drawn the way the quiz draws its chart."""
    return quadrant_scores({"A": 3, "B": 1, "C": 2, "D": 0}, {}, "chart", ("A",))
STRANGER_TABLES = ("identities", "processed_messages", "conversations", "notes")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram, engine: Engine) -> AsyncIterator[TrackedChannel]:
    async with running_bot(fake, engine) as channel:
        yield channel


def person(fake: FakeTelegram, bot: TrackedChannel, user_id: int, name: str = "王芳",
           language_code: str | None = "zh-hans") -> Person:
    return Person(fake, bot, user_id, name, language_code)


async def enrolled(fake: FakeTelegram, bot: TrackedChannel, engine: Engine, user_id: int,
                   name: str = "王芳", language_code: str | None = "zh-hans") -> Person:
    rep = person(fake, bot, user_id, name, language_code)
    code = engine.enroll(name)
    new = await rep.say(f"/start {code}")
    assert new and new[-1].buttons, rep.transcript()
    return rep


# --- access -----------------------------------------------------------------------------------


async def test_access_needs_a_valid_unused_code(fake: FakeTelegram, bot: TrackedChannel,
                                                engine: Engine, library: Library) -> None:
    stranger = person(fake, bot, STRANGER, "路人")
    [refused] = await stranger.say("你好，我想用一下")
    assert refused.text == library.message("not_enrolled", "zh")
    assert "/start" in refused.text and refused.buttons == []
    [refused_en] = await person(fake, bot, STRANGER + 1, "Joe", "en").say("/quiz")
    assert refused_en.text == library.message("not_enrolled", "en")
    assert counts(engine, ("reps", *STRANGER_TABLES)) == dict.fromkeys(("reps",
                                                                        *STRANGER_TABLES), 0)

    code = engine.enroll("王芳")
    [wrong] = await stranger.say("/start 0BADC0DE")
    assert wrong.text == library.message("enroll_bad_code", "zh")

    wang = person(fake, bot, WANG, "王芳")
    ok, welcome, menu = await wang.say(f"/start {code.lower()}")
    assert ok.text == "开通成功，王芳！"
    assert welcome.text.startswith("王芳，你好！我是 RepCoach")
    assert "想做什么？" in menu.text and any("思维偏好" in label for label, _ in menu.buttons)

    [used] = await stranger.say(f"/start {code}")
    assert used.text == library.message("enroll_bad_code", "zh")
    assert count(engine, "reps") == 1
    assert count(engine, "identities") == 1
    # only 王芳's enrolling update is recorded (a redelivery is ignored); no stranger's
    assert counts(engine, ("processed_messages",)) == {"processed_messages": 1}
    assert fake.unanswered_callbacks() == []


async def test_command_menus_per_language(fake: FakeTelegram, bot: TrackedChannel,
                                          library: Library) -> None:
    zh = fake.commands("zh")
    en = fake.commands("en")
    assert [name for name, _ in zh] == [c.name for c in library.catalog.commands]
    assert ("quiz", "我的思维偏好自我反思") in zh and ("log", "记录一次拜访") in zh
    assert ("quiz", "My thinking-preference self-reflection") in en and ("log", "Log a visit") in en
    assert fake.commands("") == zh  # clients in other languages: the configured locale


# --- the self-reflection, with Telegram throttling in the middle -------------------------------


def quiz_answers(library: Library, letters: str, locale: str = "zh") -> list[str]:
    """For each quiz question in order, the label of the choice scoring `letters[i]`."""
    asks = [s for s in library.playbooks["quiz"].steps if s.choices and s.id.startswith("q")]
    labels = []
    for step, letter in zip(asks, letters, strict=True):
        [choice] = [c for c in step.choices or [] if letter in c.scores]
        labels.append(choice.label.get(locale))
    return labels


async def test_quiz_by_buttons_survives_429s_and_ends_with_the_chart(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine, library: Library) -> None:
    wang = await enrolled(fake, bot, engine, WANG)
    letters = "A" * 10 + "C" * 8
    answers = quiz_answers(library, letters)
    assert len(answers) == 18

    pressed = await wang.press("思维偏好")
    [intro] = pressed.new
    assert "18 道小题" in intro.text and [label for label, _ in intro.buttons] == ["开始",
                                                                                  "以后再说"]
    await wang.press("开始")
    loop_time = asyncio.get_running_loop().time
    slow: list[float] = []
    for number, label in enumerate(answers, start=1):
        question = wang.keyboard_message()
        asked = question.text  # the fake updates `question` in place when it is edited
        assert asked.startswith(f"{number}/18 "), wang.transcript()
        if number == 5:  # Telegram throttles the next question
            fake.fail_next("sendMessage", status=429, retry_after=1)
        if number == 12:  # ... then the answer to the press and the edit of the question
            fake.fail_next("answerCallbackQuery", status=429, retry_after=1)
            fake.fail_next("editMessageText", status=429, retry_after=1)
        started = loop_time()
        press = await wang.press(label, question)
        if number in (5, 12):
            slow.append(loop_time() - started)
        assert press.answered and press.notice is None
        # the question now shows the choice made, and its buttons are gone
        assert question.text == f"{asked}\n\n→ {label}" and question.keyboard == []
        # the last answer brings the chart and, after it, a coaching card (course unit 1)
        assert len(press.new) == (2 if number == 18 else 1), wang.transcript()

    assert all(seconds >= 0.95 for seconds in slow), slow  # waited retry_after, then sent
    failed = [c for c in fake.calls() if c.status == 429]
    assert [c.method for c in failed] == ["sendMessage", "answerCallbackQuery",
                                          "editMessageText"]
    [photo] = [m for m in wang.messages() if m.kind == "photo"]
    assert photo.caption is not None and photo.caption.startswith("🧭 你的思维偏好")
    assert "分析型" in photo.caption
    assert photo.file is not None and image_size(photo.file.data) is not None
    style = "分析型" if can_draw_chinese() else "Analytical"
    assert any(style in label for label in labels_in(photo.file.data))

    questions = [t for t in wang.texts() if "/18 " in t]
    assert len(questions) == 18  # none lost, none sent twice
    [(scores, dominant)] = rows(engine, "SELECT scores, dominant FROM quiz_results")
    scores = json.loads(scores) if isinstance(scores, str) else scores
    assert scores == {"A": 10, "B": 0, "C": 8, "D": 0} and dominant == "A"
    assert fake.unanswered_callbacks() == []


# --- a customer: style, stage, next steps ------------------------------------------------------


def observations(library: Library, playbook: str, dimension: str) -> list[str]:
    """For each scored question of `playbook`, the label of the choice scoring `dimension`
    highest (the unscored "don't know" where none does)."""
    labels = []
    for step in library.playbooks[playbook].steps:
        choices = step.choices or []
        if not choices or any(c.next for c in choices):
            continue
        best = max(choices, key=lambda c: (c.scores.get(dimension, 0), not c.scores))
        labels.append(best.label.get("zh"))
    return labels


async def test_style_stage_and_next_steps_by_buttons(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine, library: Library) -> None:
    wang = await enrolled(fake, bot, engine, WANG)

    [who] = await wang.say("/style")
    assert who.text.startswith("要评估哪位客户？") and who.buttons == []
    [not_found] = await wang.say("王主任 人民医院 心内科")
    assert [label for label, _ in not_found.buttons] == ["新建：王主任 · 人民医院 · 心内科",
                                                         "重新输入"]
    created = await wang.press("新建")
    assert created.new[0].text == "已新建客户：王主任 · 人民医院 · 心内科"
    for label in observations(library, "style", "A"):
        await wang.press(label)
    result = wang.keyboard_message()
    assert result.text.startswith("🔎 王主任的思维偏好（假设）") and "偏分析型" in result.text
    assert [(s, n) for s, n in rows(engine, "SELECT style, name FROM accounts")] == [("A",
                                                                                     "王主任")]
    assert count(engine, "style_assessments") == 1
    await wang.press("完成")

    [picker] = await wang.say("/stage")
    assert picker.buttons[0][0] == "王主任 · 人民医院 · 心内科"
    await wang.press("王主任")
    for label in observations(library, "stage", "evaluation"):
        await wang.press(label)
    diagnosis = wang.keyboard_message()
    assert diagnosis.text.startswith("📍 王主任的采纳阶段") and "「评估」" in diagnosis.text
    assert rows(engine, "SELECT stage FROM stage_history") == [("evaluation",)]

    [suggestion] = (await wang.press("看下一步建议")).new
    assert suggestion.text.startswith("💡 给王主任的下一步") and "为什么：" in suggestion.text
    assert [label for label, _ in suggestion.buttons] == ["✅ 采纳", "⏳ 稍后", "✖️ 不合适"]
    accepted = await wang.press("采纳", expect=2)
    assert accepted.new[0].text.startswith("好，记下了")
    await wang.press("再来一条")
    await wang.press("不合适")
    reasons = wang.keyboard_message()
    assert reasons.text == "哪里不合适？" and len(reasons.buttons) == 5
    dismissed = await wang.press("时机不对", expect=2)
    assert dismissed.new[0].text.startswith("明白，这个原因会用来调整之后的建议")
    [bye] = (await wang.press("不用了")).new
    assert bye.text == "好，去忙吧。需要时发 /menu。"
    assert rows(engine, "SELECT status, reason FROM suggestions ORDER BY id") == [
        ("accepted", None), ("dismissed", "timing")]
    # every question answered by a button shows its choice; only the first menu, left by
    # typing /style, still has buttons, and they are stale now
    answered = [m for m in wang.messages() if "\n\n→ " in m.text]
    assert len(answered) == len(fake.callback_presses()) == 1 + 9 + 1 + 1 + 8 + 1 + 5
    assert all(not m.keyboard for m in answered)
    menu = wang.keyboard_message()
    assert menu.text.endswith("想做什么？")
    stale = await wang.press("记录拜访", menu, expect=0)
    assert stale.notice == library.message("stale_button", "zh") and stale.new == []
    assert menu.buttons and conversation(engine, "王芳")[:2] == (None, None)
    assert fake.unanswered_callbacks() == []


# --- visit log, follow-up reminders --------------------------------------------------------------


async def log_visit(rep: Person, note: str, customer: str) -> SentMessage:
    """Log a visit as a rep now does: /log, one note naming the customer (hospital,
    department, follow-up), then ✅ 保存 on the proposal. The saved message."""
    [what] = await rep.say("/log")
    assert what.text.startswith("发生了什么？")
    [proposal] = await rep.say(note)
    assert proposal.text.startswith("📝 这样记下？") and f"👤 {customer}" in proposal.text, (
        rep.transcript())
    [done] = (await rep.press("✅ 保存", proposal)).new
    assert done.text.startswith(f"✅ 已记下{customer}的拜访。")
    assert proposal.text.endswith("\n\n→ ✅ 保存") and proposal.keyboard == []
    await rep.press("完成")
    return done


async def test_follow_up_reminder_buttons_reschedule_and_drop(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine, clock: Clock,
        library: Library) -> None:
    wang = await enrolled(fake, bot, engine, WANG)
    li = await enrolled(fake, bot, engine, LI, "李娜")
    note = "见了泰山医院心内科李主任，关心三期数据，想看老年患者亚组，下周三带亚组数据再访"
    done = await log_visit(wang, note, "李主任")
    assert "⏰ 11月25日 周三提醒你跟进：带亚组数据再访。" in done.text
    assert done.text == wang.texts()[-2]
    [(followup_id, due, status)] = rows(engine, "SELECT id, due_date, status FROM followups")
    assert (due, status) == ("2026-11-25", "open")
    assert rows(engine, "SELECT text FROM notes") == [(note,)]

    channels: dict[str, Channel] = {"telegram": bot}
    clock.advance(days=1, hours=22, minutes=59)  # Tue 2026-11-24 08:59 Beijing time
    assert await send_due_reminders(engine, channels) == 0
    clock.advance(days=1)  # Wednesday 08:59: still a minute early
    assert await send_due_reminders(engine, channels) == 0
    clock.advance(minutes=1)
    assert await send_due_reminders(engine, channels) == 1
    assert await send_due_reminders(engine, channels) == 0  # once, not on every pass
    reminder = wang.messages()[-1]
    assert reminder.text == ("⏰ 跟进提醒：李主任（泰山医院）\n要做的事：带亚组数据再访\n"
                             "约定日期：2026-11-25")
    assert reminder.buttons == [("记录这次跟进", f"r{followup_id}.l"),
                                ("改日期", f"r{followup_id}.s"),
                                ("不用跟进了", f"r{followup_id}.d")]
    assert li.texts()[-1].endswith("想做什么？")  # nothing of Wang's reached Li

    [ask] = (await wang.press("改日期", reminder)).new
    assert ask.text.startswith("李主任的跟进改到哪天？")
    [moved] = await wang.say("明天")
    assert moved.text == "好，改到 2026-11-26，到时再提醒你。"
    assert rows(engine, "SELECT due_date, status FROM followups") == [("2026-11-26", "open")]

    clock.advance(days=1)
    assert await send_due_reminders(engine, channels) == 1
    again = wang.messages()[-1]
    assert again.text.endswith("约定日期：2026-11-26") and len(again.buttons) == 3

    # another rep cannot touch Wang's follow-up, neither by forging the key nor via the engine
    li_menu = li.keyboard_message()
    forged = await li.press_data(li_menu.message_id, f"r{followup_id}.d", strict=False,
                                 expect=0)
    assert forged.notice == library.message("stale_button", "zh") and forged.new == []
    assert await engine.handle(Incoming("telegram", str(LI), button=f"r{followup_id}.d",
                                        message_id="forged-1")) == TurnResult(
        (Reply(library.message("stale_button", "zh"), toast=True),), Outcome.STALE)
    assert rows(engine, "SELECT status FROM followups") == [("sent",)]

    dropped = await wang.press("不用跟进了", again)
    assert dropped.notice is None and [m.text for m in dropped.new] == [
        "好，这条跟进已取消，不会再提醒。"]
    assert again.text.endswith("\n\n→ 不用跟进了") and again.keyboard == []
    assert rows(engine, "SELECT status FROM followups") == [("dropped",)]
    # a second press of drop (a slow client still showing the buttons) is refused
    twice = await wang.press_data(again.message_id, f"r{followup_id}.d", strict=False,
                                  expect=0)
    assert twice.notice == library.message("stale_button", "zh") and twice.new == []
    assert reminder.text.endswith("\n\n→ 改日期") and reminder.keyboard == []
    clock.advance(days=30)
    assert await send_due_reminders(engine, channels) == 0
    assert rows(engine, "SELECT status FROM followups") == [("dropped",)]
    assert fake.unanswered_callbacks() == []


async def test_a_reminder_waits_for_a_rep_who_blocked_the_bot(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    """Telegram refuses every message to a rep who blocked the bot. A turn's reply is then
    dropped (nobody can read it); a reminder is not: it waits in the outbox, is tried again
    every 30 minutes by whichever worker passes, and arrives once the rep unblocks. The
    admin's log says so in one line, with Telegram's reason, not a traceback."""
    wang = await enrolled(fake, bot, engine, WANG)
    await log_visit(wang, "见了泰山医院心内科李主任，关心三期数据，下周三带亚组数据再访", "李主任")
    channels: dict[str, Channel] = {"telegram": bot}

    def refused() -> int:
        return sum(1 for call in fake.calls("sendMessage")
                   if call.status == 403 and call.params.get("chat_id") == WANG)

    def reminders() -> list[str]:
        return [t for t in wang.texts() if t.startswith("⏰ 跟进提醒：李主任")]

    fake.block(WANG)
    clock.advance(days=3)
    with caplog.at_level(logging.WARNING, logger="bot.runner"):
        assert await send_due_reminders(engine, channels) == 0 and refused() == 1
    [logged] = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert logged.levelno == logging.WARNING and logged.exc_info is None
    assert re.fullmatch(r"telegram message \d+ not delivered \(Forbidden: .+\); "
                        r"tried again in 30 min", logged.getMessage()), logged.getMessage()
    await bot.recover()
    assert refused() == 1  # not before its time
    clock.advance(minutes=31)
    await bot.recover()
    await fake.wait_for(lambda: refused() == 2 and rows(engine, "SELECT worker FROM outbox")
                        == [("",)], what="a second try, refused and released again")
    fake.unblock(WANG)
    clock.advance(minutes=31)
    await bot.recover()
    await fake.wait_for(reminders, what="the reminder")
    clock.advance(minutes=31)
    await bot.recover()
    assert await send_due_reminders(engine, channels) == 0
    assert len(reminders()) == 1 and rows(engine, "SELECT id FROM outbox") == []


async def test_reminder_survives_a_restart_and_its_log_button_logs_the_follow_up(
        fake: FakeTelegram, database: Database, library: Library, settings: EngineSettings,
        clock: Clock) -> None:
    first = Engine(database, library, settings, clock=clock)
    async with running_bot(fake, first) as bot:
        wang = await enrolled(fake, bot, first, WANG)
        await log_visit(wang, "市一院张医生第一次见，约了科室会，3天后确认科室会时间", "张医生")
    # the process is gone; a new one on the same database sends what fell due meanwhile
    clock.advance(days=3)
    restarted = Database(database.url)
    second = Engine(restarted, library, settings, clock=clock)
    async with running_bot(fake, second) as bot:
        wang = Person(fake, bot, WANG)
        assert await send_due_reminders(second, {"telegram": bot}) == 1
        reminder = wang.messages()[-1]
        assert reminder.text.startswith("⏰ 跟进提醒：张医生（市一院）")
        [what] = (await wang.press("记录这次跟进", reminder)).new
        assert what.text.startswith("和张医生的这次拜访怎么样？")  # the customer is already known
        [proposal] = await wang.say("定了下周二科室会，讲十分钟")
        assert "👤 张医生 · 市一院\n" in proposal.text and "新客户" not in proposal.text
        assert "⏰ 跟进：12月1日 周二" in proposal.text  # the date the note names ...
        [done] = (await wang.press("🔕 保存，不提醒")).new  # ... the rep wants no reminder for
        assert done.text.startswith("✅ 已记下张医生的拜访。") and "⏰" not in done.text
    restarted.dispose()
    assert rows(first, "SELECT status FROM followups") == [("done",)]
    assert [n for (n,) in rows(first, "SELECT text FROM notes ORDER BY id")] == [
        "市一院张医生第一次见，约了科室会，3天后确认科室会时间", "定了下周二科室会，讲十分钟"]


# --- buttons that must do nothing ----------------------------------------------------------------


async def quiz_at_question_two(fake: FakeTelegram, bot: TrackedChannel,
                               engine: Engine) -> tuple[Person, SentMessage, SentMessage]:
    """Wang in the quiz, question 1 answered by typing, so its buttons are still shown."""
    wang = await enrolled(fake, bot, engine, WANG)
    await wang.say("/quiz")
    await wang.press("开始")
    first = wang.keyboard_message()
    assert first.text.startswith("1/18 ")
    [second] = await wang.say("2")
    assert second.text.startswith("2/18 ") and first.buttons
    return wang, first, second


async def test_stale_forged_and_other_reps_buttons_change_nothing(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine, library: Library) -> None:
    wang, first, second = await quiz_at_question_two(fake, bot, engine)
    li = await enrolled(fake, bot, engine, LI, "李娜")
    notice = library.message("stale_button", "zh")
    playbook, step, seq, variables, state = conversation(engine, "王芳")
    assert (playbook, step) == ("quiz", "q02")
    assert state["answers"] == [["intro", 0], ["q01", 1]] and state["scores"]
    tables = ("notes", "quiz_results", "accounts", "followups", "reps", "identities")
    before = counts(engine, tables)
    shown = wang.transcript()

    refused = [
        await wang.press_nth(0, first, expect=0),  # stale: an earlier question's button
        await wang.press_data(second.message_id, "999.0", strict=False, expect=0),
        await wang.press_data(second.message_id, "garbage", strict=False, expect=0),
        await wang.press_data(second.message_id, "", strict=False, expect=0),
        await wang.press_data(second.message_id, "r1.d", strict=False, expect=0),
        await wang.press_data(second.message_id, "9" * 64, strict=False, expect=0),
        # Li presses Wang's button in Wang's chat (a client bug, a forwarded keyboard)
        await li.press_data(second.message_id, second.buttons[0][1], chat_id=WANG, expect=0),
    ]
    assert [(p.answered, p.notice, p.new) for p in refused] == [(True, notice, [])] * 7
    now = conversation(engine, "王芳")
    assert now[:3] == (playbook, step, seq) and counts(engine, tables) == before
    assert now[3:] == (variables, state)  # answers, scores and the waiting question kept
    assert wang.transcript() == shown and first.buttons and second.buttons
    assert li.texts()[-1].endswith("想做什么？")  # Li was not sent anything either

    answered = await wang.press_nth(1, second)  # the real button still works
    assert answered.notice is None and answered.new[0].text.startswith("3/18 ")
    assert conversation(engine, "王芳")[1] == "q03"
    assert fake.unanswered_callbacks() == []


async def test_a_stale_press_leaves_the_conversation_row_as_it_was(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine) -> None:
    wang, first, _ = await quiz_at_question_two(fake, bot, engine)
    before = conversation(engine, "王芳")
    stale = await wang.press_nth(0, first, expect=0)
    assert stale.notice is not None
    assert conversation(engine, "王芳") == before


async def test_callback_data_stays_short_whatever_the_labels_say(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine) -> None:
    wang = await enrolled(fake, bot, engine, WANG)
    name = "欧阳" + "𠮷😀" * 5  # 12 characters (the longest name read as one), 46 bytes
    await wang.say("/log")
    [who] = await wang.say("床位紧张，暂不考虑新药")  # a note that names nobody
    assert who.text.startswith("📝 见了谁？")
    [offer] = await wang.say(f"{name} 北京协和医院 心内科")
    assert offer.buttons[0][0].startswith(f"新建：{name}")
    created = await wang.press("新建", expect=2)
    assert created.new[-1].text.startswith(f"✅ 已记下{name}的拜访。")
    await wang.say("/log")
    [who] = await wang.say("又去了一次，床位还是紧张")
    picker = wang.keyboard_message()
    assert picker.message_id == who.message_id and picker.buttons[0][0].startswith(name)
    sent = [b for c in fake.calls() if c.ok and isinstance(c.params.get("reply_markup"), dict)
            for row in c.params["reply_markup"].get("inline_keyboard", []) for b in row]
    assert sent and all(1 <= len(b["callback_data"].encode()) <= 64 for b in sent)
    assert max(len(b["text"].encode()) for b in sent) > 64  # the labels are long, not the keys
    [saved] = (await wang.press(name[:4], picker)).new
    assert saved.text.startswith(f"✅ 已记下{name}的拜访。")


# --- redelivery ----------------------------------------------------------------------------------


async def test_the_same_update_twice_records_one_note(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine) -> None:
    wang = await enrolled(fake, bot, engine, WANG)
    [proposal] = await wang.say("赵主任说下个月科室会可以讲十分钟")
    assert proposal.text.startswith("📝 这样记下？\n👤 赵主任（新客户）")
    assert await wang.again() == []
    changed = await wang.press("📅 改日期")
    assert await wang.again() == []  # answered and edited once; the repeat changes nothing
    assert changed.new[-1].text.startswith("哪天跟进？") and changed.new[-1].buttons[0][0] == "跳过"
    [again] = await wang.say("跳过")  # typed, not pressed: no follow-up date
    assert again.text.startswith("📝 这样记下？") and "⏰ 跟进" not in again.text
    assert await wang.again() == []
    [done] = (await wang.press("✅ 保存")).new
    assert done.text.startswith("✅ 已记下赵主任的拜访。")
    assert await wang.again() == []
    assert rows(engine, "SELECT text FROM notes") == [("赵主任说下个月科室会可以讲十分钟",)]
    assert count(engine, "accounts") == 1 and count(engine, "followups") == 0
    texts = wang.texts()
    assert len(texts) == len(set(texts))  # nothing shown twice
    [(answers,)] = rows(engine, "SELECT COUNT(*) FROM processed_messages")
    assert answers == 5  # /start CODE and the four updates above, each once


async def test_the_enrolling_update_twice_shows_the_menu_once(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine) -> None:
    wang = await enrolled(fake, bot, engine, WANG)
    assert await wang.again() == []


# --- numbers typed instead of pressed ------------------------------------------------------------


async def test_a_typed_number_answers_the_question_and_one_out_of_range_is_refused(
        fake: FakeTelegram, bot: TrackedChannel, engine: Engine, library: Library) -> None:
    wang = await enrolled(fake, bot, engine, WANG)
    note = "见了泰山医院心内科李主任，下周三带资料再访"
    [proposal] = await wang.say(note)
    assert "⏰ 跟进：11月25日 周三 · 带资料再访" in proposal.text
    [ask] = (await wang.press("📅 改日期", proposal)).new
    assert ask.text.startswith("哪天跟进？") and [label for label, _ in ask.buttons] == ["跳过"]

    [again] = await wang.say("1")  # the only option: 跳过
    assert again.text.startswith("📝 这样记下？") and "⏰ 跟进" not in again.text
    assert "📌 下一步：带资料再访（没有日期，不提醒）" in again.text
    assert [label for label, _ in again.buttons] == ["✅ 保存", "👤 换客户", "📅 加跟进日期"]
    # answered by typing: the date question keeps its keyboard, but its button is stale now
    assert ask.buttons and not ask.text.endswith("→ 跳过")
    stale = await wang.press("跳过", ask, expect=0)
    assert stale.notice == library.message("stale_button", "zh") and stale.new == []
    assert ask.buttons

    notice, repeated = await wang.say("7", expect=2)  # three buttons: 7 is none of them
    assert notice.text == "请点一个按钮，或回复 1–3 的编号。" and notice.buttons == []
    assert (repeated.text, repeated.buttons) == (again.text, again.buttons)  # still valid
    assert counts(engine, ("notes", "accounts", "followups")) == {
        "notes": 0, "accounts": 0, "followups": 0}

    [done] = (await wang.press("✅ 保存", again)).new  # the earlier copy's button works too
    assert done.text.startswith("✅ 已记下李主任的拜访。（新客户 · 泰山医院 · 心内科）")
    assert again.text.endswith("\n\n→ ✅ 保存") and again.keyboard == []
    assert rows(engine, "SELECT text FROM notes") == [(note,)]  # never "1" or "7"
    assert count(engine, "followups") == 0
    assert fake.unanswered_callbacks() == []


# --- long replies --------------------------------------------------------------------------------


async def test_long_replies_split_on_paragraphs_escaped_buttons_on_the_last(
        fake: FakeTelegram, bot: TrackedChannel) -> None:
    fake.add_user(WANG)  # the bot writes first: the rep must have opened the chat
    paragraphs = [f"第{i}段 <b>不是标签</b> & 5 < 6 " + "拜访要点，" * 150 for i in range(1, 9)]
    paragraphs[3] = "😀" * 2100  # counts two UTF-16 units each: 4200 of Telegram's 4096
    text = "\n\n".join(paragraphs)
    choices = (Choice("7.0", "好的"), Choice("7.1", "再说"))
    await bot.deliver(str(WANG), [Reply(text, choices)])

    shown = fake.messages_to(WANG)
    assert len(shown) > 1 and all(len(m.text) <= 4096 for m in shown)
    assert all(m.source.count("&lt;b&gt;") == m.text.count("<b>") for m in shown)
    assert [m.buttons for m in shown] == [[]] * (len(shown) - 1) + [[("好的", "7.0"),
                                                                      ("再说", "7.1")]]
    # every cut is at a paragraph break, except inside the one paragraph too long on its own
    whole = [m.text for m in shown if "😀" not in m.text]
    assert all(any(m.startswith(p) for p in paragraphs) and any(m.endswith(p)
               for p in paragraphs) for m in whole)
    assert "".join(m.text for m in shown if "😀" in m.text) == paragraphs[3]
    assert "\n\n".join(m.text for m in shown if "😀" not in m.text) == "\n\n".join(
        p for p in paragraphs if "😀" not in p)

    # a picture with text too long for a caption: the photo, then the text
    chart = Attachment("chart.png", "image/png", png_bytes(), kind="photo")
    await bot.deliver(str(WANG), [Reply("说明\n\n" + "很长的说明。" * 300, choices, chart)])
    photo, *rest = fake.messages_to(WANG)[len(shown):]
    assert photo.kind == "photo" and photo.caption is None and photo.keyboard == []
    assert rest and rest[0].text.startswith("说明") and rest[-1].buttons == [("好的", "7.0"),
                                                                             ("再说", "7.1")]
    await bot.deliver(str(WANG), [Reply("短说明 <ok>", (), chart)])
    assert fake.messages_to(WANG)[-1].caption == "短说明 <ok>"


# --- webhook mode --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_webhook_mode_names_everything_it_misses_at_once(
        fake: FakeTelegram, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Trial C, item 10: only the missing secret was named, then the missing public_url on
    the next try; both are named at once, and public_url alone is a warning (a webhook may
    be registered by another worker)."""
    with pytest.raises(ValueError) as missing:
        TelegramChannel(telegram_config(fake, mode="webhook", public_url=None),
                        engine, WebhookServer())
    assert "secret_token is required" in str(missing.value)
    assert "public_url is not set" in str(missing.value)
    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        TelegramChannel(telegram_config(fake, mode="webhook", public_url=None,
                                        secret_token="s3cret"), engine, WebhookServer())
    assert any("without channels.telegram.public_url" in r.getMessage()
               for r in caplog.records)


async def test_webhook_needs_the_secret_and_a_well_formed_update(
        fake: FakeTelegram, engine: Engine, library: Library) -> None:
    port, secret = free_port(), "s3cret-Token_1"
    server = WebhookServer()
    url = f"http://127.0.0.1:{port}"
    async with running_bot(fake, engine, server=server, mode="webhook", listen="127.0.0.1",
                           port=port, path="/tg/hook", public_url=url + "/",
                           secret_token=secret) as bot:
        await server.start([("127.0.0.1", port)])
        try:
            assert (fake.webhook_url, fake.webhook_secret_token) == (url + "/tg/hook", secret)
            code = engine.enroll("王芳")
            update_id = fake.user_sends(WANG, f"/start {code}")
            assert await fake.push_webhook_update(update_id, secret_token="wrong") == 403
            assert await fake.push_webhook_update(update_id, secret_token=secret[:-1]) == 403
            assert await fake.push_webhook_update(update_id, omit_secret=True) == 403
            async with aiohttp.ClientSession() as http:
                for body in (b"{not json", b"[1, 2]", b'{"message": {"text": "hi"}}',
                             b'{"update_id": "7"}', b'{"update_id": true}',
                             b'{"update_id": 7, "message": "oops"}', "\udcff".encode(
                                 "utf-8", "surrogatepass")):
                    async with http.post(url + "/tg/hook", data=body,
                                         headers={SECRET_HEADER: secret}) as response:
                        assert response.status == 400, body
            await asyncio.sleep(0.2)  # had anything been queued, it would show by now
            assert bot.handled == [] and fake.messages_to(WANG) == []
            assert counts(engine, STRANGER_TABLES) == dict.fromkeys(STRANGER_TABLES, 0)
            assert rows(engine, "SELECT used_at FROM enrollment_codes") == [(None,)]

            assert await fake.push_webhook_update(update_id) == 200
            await fake.wait_for(lambda: update_id in bot.handled)
            ok, _, menu = fake.messages_to(WANG)
            assert ok.text == "开通成功，王芳！" and menu.buttons
            assert count(engine, "identities") == 1

            quiz = next(b for b in menu.buttons if b[0] == "🧭 我的思维偏好")
            press_id = fake.user_presses(WANG, menu.message_id, quiz[1])
            assert await fake.push_webhook_update(press_id) == 200
            await fake.wait_for(lambda: press_id in bot.handled)
            assert fake.messages_to(WANG)[-1].text.startswith("🧭 思维偏好自我反思")
            assert menu.text.endswith("→ 🧭 我的思维偏好") and menu.keyboard == []
            assert await fake.push_webhook_update(press_id) == 200  # Telegram retries
            await fake.wait_for(lambda: bot.handled.count(press_id) == 2)
            assert len(fake.messages_to(WANG)) == 4
            assert fake.unanswered_callbacks() == []
            assert [d.status for d in fake.webhook_deliveries] == [403] * 3 + [200] * 3
            assert fake.calls("getUpdates") == []  # webhook mode never polls
        finally:
            await server.stop()
