"""The WeCom channel end to end, in process: the real `WecomChannel` behind the real webhook
server, talked to over HTTP by the WeCom simulator, on an engine with a test clock, against
SQLite and PostgreSQL (`db_url`).

Every test asserts what a rep would notice (the texts and cards the simulator recorded, the
card the pressed button turned into) and what the store holds afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError

from bot.runner import send_due_reminders
from bot.wecom import crypto
from coach.engine import Engine
from coach.settings import EngineSettings
from coach.store.repo import Directory, RepStore
from testkit.fakes.wecom_sim import SentMessage, WecomSimulator
from testkit.wecom_messages import build_envelope, encrypt, text_message_xml
from testkit.wecom_support import (
    STORED_TABLES,
    Rep,
    SlowDown,
    buttons,
    card_text,
    count,
    has_card,
    joined,
    number_of,
    numbered,
    rows,
    running_channel,
    shown,
    wecom_settings,
)
from tests.conftest import Clock


@pytest.fixture
def settings() -> EngineSettings:
    """The engine as `repcoach run` builds it with WeCom enabled and `auto_enroll: true`
    (most tests here skip the codes; the default, codes, has a test of its own)."""
    return wecom_settings()


@pytest.fixture
async def sim() -> AsyncIterator[WecomSimulator]:
    async with WecomSimulator() as simulator:
        yield simulator


def as_json(value: Any) -> Any:
    """A JSON column read with plain SQL: text on SQLite, decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def quiz_number(message: SentMessage) -> int | None:
    """The n of a quiz question card "n/18 ..."."""
    head = card_text(message).split(" ", 1)[0] if message.template_card else ""
    number, _, total = head.partition("/")
    return int(number) if number.isdigit() and total == "18" else None


# --- a visit with a follow-up, and its reminder -------------------------------------------
async def test_visit_log_and_reminder_at_due_time(engine: Engine, sim: WecomSimulator,
                                                  clock: Clock) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "liwei", channel)
        opened = await rep.open()
        assert [m.msgtype for m in opened] == ["text", "text"]
        assert "你好！我是 RepCoach" in shown(opened[0])
        menu = numbered(shown(opened[1]))  # more choices than a card holds: a numbered list
        assert len(menu) > 6 and not has_card(opened)

        got = await rep.say(number_of(menu, "📝 记录拜访"))
        assert "发生了什么？" in joined(got) and not has_card(got)
        note = "泰山医院心内科李主任关心三期数据，想看老年患者亚组，下周三带亚组分析再访"
        got = await rep.say(note)
        proposal = card_text(rep.last_card())
        assert "👤 李主任 · 泰山医院 · 心内科（新客户）" in proposal
        assert "⏰ 跟进：11月25日 周三 · 带亚组分析再访" in proposal
        got = await rep.press("📅 改日期")
        assert "哪天跟进？" in card_text(rep.last_card())
        assert [t for _, t in buttons(rep.last_card())] == ["跳过"]
        got = await rep.say("明天")
        assert "⏰ 跟进：11月23日 周一 · 带亚组分析再访" in card_text(rep.last_card())
        got = await rep.press("✅ 保存")
        done = rep.last_card()
        assert "✅ 已记下李主任的拜访。（新客户 · 泰山医院 · 心内科）" in joined(got)
        assert "⏰ 11月23日 周一提醒你跟进：带亚组分析再访。" in joined(got)
        assert [t for _, t in buttons(done)] == ["看下一步建议", "诊断客户阶段", "完成"]
        got = await rep.press("完成")
        assert "好，去忙吧" in joined(got)
        assert sim.card_updates[-1].replace_name == "完成"

        assert rows(engine.database, "SELECT text FROM notes") == [(note,)]
        assert rows(engine.database, "SELECT due_date, action, status FROM followups") == [
            ("2026-11-23", "带亚组分析再访", "open")]

        # reminders come at 09:00 Beijing time on the due day, once
        assert await send_due_reminders(engine, {"wecom": channel}) == 0
        clock.advance(hours=22)  # 2026-11-23 08:00 in Beijing
        assert await send_due_reminders(engine, {"wecom": channel}) == 0
        clock.advance(hours=1)
        assert await send_due_reminders(engine, {"wecom": channel}) == 1
        [reminder] = await rep.settle()
        assert "⏰ 跟进提醒：李主任（泰山医院）" in card_text(reminder)
        assert "要做的事：带亚组分析再访" in card_text(reminder)
        assert [t for _, t in buttons(reminder)] == ["记录这次跟进", "改日期", "不用跟进了"]
        assert await send_due_reminders(engine, {"wecom": channel}) == 0
        assert rows(engine.database, "SELECT status FROM followups") == [("sent",)]

        # the reminder's button logs the follow-up visit for the same customer
        got = await rep.press("记录这次跟进", card=reminder)
        assert sim.card_updates[-1].replace_name == "记录这次跟进"
        assert "和李主任的这次拜访怎么样？" in joined(got)  # no need to say who again
        await rep.say("送了亚组数据，他答应在科室会上讨论")
        proposal = card_text(rep.last_card())
        assert "👤 李主任 · 泰山医院 · 心内科\n" in proposal  # the reminder's customer
        assert "「亚组数据」" in proposal  # the note hints at a stage: ask first
        got = await rep.press("保存但不更新客户")
        assert "✅ 已记下李主任的拜访。" in joined(got) and "🔎" not in joined(got)
        await rep.press("完成")
    assert rows(engine.database, "SELECT status FROM followups") == [("done",)]
    assert count(engine.database, "notes") == 2
    assert count(engine.database, "accounts") == 1
    assert count(engine.database, "stage_history") == 0


# --- WeCom's retries -----------------------------------------------------------------------
async def test_retried_callbacks_are_handled_once(engine: Engine, sim: WecomSimulator) -> None:
    slow = SlowDown()
    async with running_channel(engine, sim, slow=slow) as channel:
        rep = Rep(sim, "wangfang", channel)
        await rep.open()

        # the same message (same MsgId) delivered three times
        note = "他说下个月科室会可以讲十分钟"  # names nobody: who was it?
        for _ in range(3):
            assert await sim.send_text(rep.user, note, msg_id="7000000000000000999") == 200
        [asked] = await rep.settle()
        assert "📝 见了谁？" in shown(asked)

        # a slow bot: WeCom gives up waiting twice and sends the same callback again
        # WeCom's real wait is 5 s; 1 s here leaves the third try, which is not slowed, room
        # on a loaded machine (0.15 s failed once under a benchmark running beside the suite)
        sim.callback_timeout = 1.0
        slow.delays = [1.3, 1.3]
        handled = slow.handled
        got = await rep.say("王主任 人民医院")
        assert [a.status for a in sim.callbacks[-1].attempts] == [None, None, 200]
        await slow.drained()
        got += await rep.settle()
        assert slow.handled - handled == 3  # all three tries reached the channel ...
        [offer] = got  # ... and were answered once
        assert "没找到“王主任”" in card_text(offer)

        # a button press WeCom retries: one customer, one card update
        slow.delays = [1.3, 1.3]
        updates = len(sim.card_updates)
        got = await rep.press("新建")
        await slow.drained()
        got += await rep.settle()
        assert [m.msgtype for m in got] == ["template_card"]
        # the one tap added the customer and saved the visit
        assert "✅ 已记下王主任的拜访。（新客户 · 人民医院）" in shown(got[0])
        assert len(sim.card_updates) == updates + 1
        sim.callback_timeout = 5.0

        got = await rep.press("完成")
        assert "好，去忙吧" in joined(got)
    assert rows(engine.database, "SELECT text FROM notes") == [(note,)]
    assert count(engine.database, "accounts") == 1
    assert count(engine.database, "processed_messages",
                 "message_key = :key", key="w7000000000000000999") == 1


# --- WeCom's API failing underneath a conversation -----------------------------------------
async def test_expired_token_and_busy_wecom_lose_nothing(engine: Engine,
                                                         sim: WecomSimulator) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "zhaolei", channel)
        await rep.open()
        await rep.say("/quiz")
        assert [t for _, t in buttons(rep.last_card())] == ["开始", "以后再说"]

        sim.expire_tokens()  # the cached token runs out mid-conversation
        await rep.press("开始")
        assert quiz_number(rep.last_card()) == 1
        assert len(sim.tokens_issued) == 2
        assert [c.errcode for c in sim.calls].count(42001) == 1

        sim.inject_error("message/send", 42001)  # invalidated early (another process)
        await rep.press_nth(0)
        assert quiz_number(rep.last_card()) == 2
        assert len(sim.tokens_issued) == 3

        sim.inject_error("message/update_template_card", 42001)
        updates = len(sim.card_updates)
        await rep.press_nth(1)
        assert quiz_number(rep.last_card()) == 3
        assert len(sim.card_updates) == updates + 1

        sim.inject_error("message/send", -1)  # system busy
        sim.inject_error("message/send", 45009)  # frequency limit
        await rep.press_nth(2)
        assert quiz_number(rep.last_card()) == 4
        errors = [c.errcode for c in sim.calls_to("message/send") if c.errcode]
        assert errors[-2:] == [-1, 45009]

        # WeCom busy through every retry: the question does not arrive, but the answer was
        # saved; opening the app again asks the waiting question
        sim.inject_error("message/send", -1, times=4)
        assert await rep.press_nth(3) == []
        got = await rep.open()
        assert [quiz_number(m) for m in got] == [5]

        while quiz_number(rep.last_card()) != 18:
            await rep.press_nth(0)
        got = await rep.press_nth(0)
    assert [m.msgtype for m in got] == ["image", "text", "text"]
    assert "🧭 你的思维偏好（满分 18）" in shown(got[1])
    assert "💡 绩效先锋" in shown(got[2])  # a coaching card follows the result
    numbers = [quiz_number(m) for m in rep.inbox if quiz_number(m)]
    assert numbers == list(range(1, 19))  # every question once, none lost, none repeated
    [(scores,)] = rows(engine.database, "SELECT scores FROM quiz_results")
    assert sum(as_json(scores).values()) == 18


async def test_export_arrives_as_files(engine: Engine, sim: WecomSimulator) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "hemei", channel)
        got = await rep.say("人民医院王主任说想看真实世界数据")
        assert "👤 王主任 · 人民医院（新客户）" in card_text(rep.last_card())
        await rep.press("✅ 保存")
        await rep.press("完成")
        got = await rep.say("/export")
    assert [m.msgtype for m in got] == ["file", "text", "file"]  # no file name as a message
    assert "📦 这是你在 RepCoach 里的全部数据：1 位客户，1 条拜访记录" in shown(got[1])
    files = [sim.media[str(m.media_id)] for m in got if m.msgtype == "file"]
    assert [f.filename.rsplit(".", 1)[1] for f in files] == ["json", "csv"]
    assert "人民医院王主任说想看真实世界数据" in files[0].data.decode("utf-8")


async def test_replies_to_quick_messages_do_not_interleave(engine: Engine,
                                                           sim: WecomSimulator) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "xuli", channel)
        await rep.open()
        assert await sim.send_text(rep.user, "/export") == 200  # three messages, two uploads
        assert await sim.send_text(rep.user, "/menu") == 200  # sent while those go out
        got = await rep.settle()
    assert [m.msgtype for m in got] == ["file", "text", "file", "text"]
    assert "想做什么？" in shown(got[3])


async def test_stopping_does_not_wait_for_throttled_replies(
        engine: Engine, sim: WecomSimulator, caplog: pytest.LogCaptureFixture) -> None:
    """A reply held back by the per-member limit may wait a minute; stopping waits a short
    grace, and the question the rep did not get is asked again when they open the app."""
    loop = asyncio.get_running_loop()
    async with running_channel(engine, sim, client_options={"per_user_limit": 2},
                               stop_grace=0.3) as channel:
        rep = Rep(sim, "gaoyan")  # not waiting for the channel: it would wait a minute
        await rep.open(until=lambda got: len(got) == 2)  # welcome, menu: the limit is used up
        assert await sim.send_text(rep.user, "/quiz") == 200
        await asyncio.sleep(0.2)
        assert len(rep.inbox) == 2
        stopping = loop.time()
    assert loop.time() - stopping < 2
    assert "wecom stopping: 0 messages and 1 replies" in caplog.text
    assert rows(engine.database, "SELECT playbook, step FROM conversations") == [("quiz", "intro")]

    async with running_channel(engine, sim) as channel:  # started again
        rep.channel = channel
        got = await rep.open()
    assert [t for _, t in buttons(got[-1])] == ["开始", "以后再说"]


# --- what must be refused ------------------------------------------------------------------
BOMB = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        ']><xml><ToUserName>&c;</ToUserName><Encrypt>&c;</Encrypt></xml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<xml><Encrypt>&x;</Encrypt></xml>')


async def test_untrusted_callbacks_are_refused_and_store_nothing(
        engine: Engine, sim: WecomSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.wecom.channel")
    now = int(time.time())

    def message(to_user: str | None = None, content: str = "记录拜访") -> str:
        return text_message_xml(to_user=to_user or sim.corp_id, from_user="intruder",
                                create_time=now, content=content, msg_id="7000000000000123456",
                                agent_id=sim.agent_id)

    async def post_raw(body: bytes, encrypted: str = "x") -> int:
        timestamp, nonce = str(now), "12345"
        params = {"timestamp": timestamp, "nonce": nonce,
                  "msg_signature": crypto.signature(sim.token, timestamp, nonce, encrypted)}
        async with aiohttp.ClientSession() as session, session.post(
                str(sim.callback_url), params=params, data=body) as resp:
            return resp.status

    def signed_envelope(encrypted: str) -> bytes:
        return build_envelope(encrypted, sim.corp_id, sim.agent_id).encode()

    other_key = encrypt(message(), "A" * 43, sim.corp_id)
    async with running_channel(engine, sim) as channel:
        statuses = {
            "bad signature": await sim.post_callback(message(), msg_signature="0" * 40,
                                                     tries=1),
            "signed in 2001": await sim.post_callback(message(), timestamp="1000000000",
                                                      tries=1),
            "wrong receive id": await sim.post_callback(message(), receive_id="wwothercorp",
                                                        tries=1),
            "wrong ToUserName": await sim.post_callback(message(to_user="wwothercorp"),
                                                        tries=1),
            "DTD inside the encryption": await sim.post_callback(BOMB, tries=1),
            "not XML inside the encryption": await sim.post_callback("hello", tries=1),
            "garbage body": await post_raw(b"\x00\xff\xfe garbage"),
            "XML bomb body": await post_raw(BOMB.encode()),
            "XXE body": await post_raw(XXE.encode()),
            "no Encrypt": await post_raw(b"<xml><ToUserName>x</ToUserName></xml>"),
            "Encrypt not base64": await post_raw(signed_envelope("!!not base64!!"),
                                                 "!!not base64!!"),
            "another AES key": await post_raw(signed_envelope(other_key), other_key),
            "oversized body": await post_raw(b"<xml>" + b"a" * 100_000 + b"</xml>"),
            "body over the server cap": await post_raw(b"a" * (1024 * 1024 + 10)),
        }
        url_check = await sim.verify_url("echo-1", msg_signature="0" * 40)
        await channel.idle()
    assert {name: status for name, status in statuses.items() if status == 200} == {}
    assert statuses["bad signature"] == 403 and statuses["XML bomb body"] == 400
    assert statuses["body over the server cap"] == 413
    assert url_check[0] == 403
    assert sim.messages == [] and sim.card_updates == []
    for table in STORED_TABLES:
        assert count(engine.database, table) == 0, table
    refusals = [r for r in caplog.records if r.name == "bot.wecom.channel"]
    assert len(refusals) == len(statuses) + 1
    # the administrator is told which setting to copy again (trial C, item 5)
    lines = [r.getMessage() for r in refusals]
    assert any("bad-padding" in line and "WECOM_ENCODING_AES_KEY" in line for line in lines)
    assert any(line.startswith("wecom URL check refused: bad-signature") and "WECOM_TOKEN"
               in line for line in lines), lines
    assert any("bad-receive-id" in line and "WECOM_CORP_ID" in line for line in lines)


async def test_url_verification_echoes_the_plaintext(engine: Engine,
                                                     sim: WecomSimulator) -> None:
    async with running_channel(engine, sim):
        assert await sim.verify_url("1234567890123456789") == (200, "1234567890123456789")


async def test_allow_users_refuses_others_without_storing_them(
        engine: Engine, sim: WecomSimulator) -> None:
    async with running_channel(engine, sim, allow_users=["alice"]) as channel:
        mallory = Rep(sim, "mallory", channel)
        got = await mallory.open()
        assert [shown(m) for m in got] == [
            "你还没有开通。请发送 /start 加上经理给你的开通码，例如：/start 7QK2M-X9D4F"]
        for _ in range(3):  # a message WeCom retries gets one answer
            await sim.send_text("mallory", "李主任 泰山医院 想看数据", msg_id="7000000000000000555")
        assert len(await mallory.settle()) == 1
        code = engine.enroll("Mallory")  # a code does not get round the list either
        got = await mallory.say(f"/start {code}")
        assert [shown(m)[:6] for m in got] == ["你还没有开通"]
        assert count(engine.database, "reps") == 1  # only the one `enroll` created
        assert count(engine.database, "identities") == 0
        for table in ("conversations", "accounts", "notes", "processed_messages"):
            assert count(engine.database, table) == 0, table

        shouting = Rep(sim, "ALICE", channel)  # UserIDs are case-sensitive: another member
        assert [shown(m)[:6] for m in await shouting.open()] == ["你还没有开通"]
        alice = Rep(sim, "alice", channel)
        got = await alice.open()
        assert "你好！我是 RepCoach" in joined(got)
    assert rows(engine.database, "SELECT channel, external_id FROM identities") == [
        ("wecom", "alice")]


async def test_non_text_message_gets_a_hint_and_other_events_nothing(
        engine: Engine, sim: WecomSimulator) -> None:
    def xml(kind: str, extra: str) -> str:
        return (f"<xml><ToUserName><![CDATA[{sim.corp_id}]]></ToUserName>"
                f"<FromUserName><![CDATA[sunli]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime>"
                f"<MsgType><![CDATA[{kind}]]></MsgType>{extra}"
                f"<AgentID>{sim.agent_id}</AgentID></xml>")

    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "sunli", channel)
        await rep.open()
        assert await sim.post_callback(xml("event", "<Event><![CDATA[LOCATION]]></Event>"
                                                    "<Latitude>23.1</Latitude>")) == 200
        assert await rep.settle() == []
        assert await sim.post_callback(xml("voice", "<MediaId><![CDATA[m1]]></MediaId>"
                                                    "<MsgId>7000000000000000777</MsgId>")) == 200
        got = await rep.settle()
    # a hint, and the menu that was waiting shown again: its numbers still mean the same
    assert shown(got[0]) == "收到一条空消息。发一两句拜访情况，或发 /menu。"
    assert [shown(m).split("\n")[0] for m in got[1:]] == ["sunli，想做什么？"]


# --- choices: numbered lists, pressed cards, stale buttons ----------------------------------
async def test_more_than_six_choices_become_a_numbered_list(engine: Engine,
                                                            sim: WecomSimulator) -> None:
    hospitals = ["泰山医院", "人民医院", "协和医院", "中山医院", "华山医院"]
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "chenjing", channel)
        opened = await rep.open()
        with engine.database.transaction() as session:
            owner = Directory(session).rep_for_identity("wecom", "chenjing")
            assert owner is not None
            store = RepStore(session, owner)
            for hospital in hospitals:
                store.create_account("李主任", hospital, None, engine.clock())

        got = await rep.say(number_of(numbered(joined(opened)), "记录拜访"))  # by number
        assert "发生了什么？" in joined(got)
        got = await rep.say("主任说床位紧张，暂不考虑新药")  # names nobody: who was it?
        picker = rep.last_card()  # five recent customers still fit on a card
        assert "📝 见了谁？" in card_text(picker)
        assert sorted(t for _, t in buttons(picker)) == sorted(f"李主任 · {h}" for h in hospitals)

        got = await rep.say("李主任")  # five matches + 新建 + 重新输入: seven choices
        assert not has_card(got)
        listing = numbered(joined(got))
        assert len(listing) == 7
        assert listing[6].startswith("新建：李主任") and listing[7] == "重新输入"
        chosen = listing[2]
        hospital = chosen.split(" · ")[1]

        got = await rep.say("2")  # the one choice saves the visit
        assert "✅ 已记下李主任的拜访。" in joined(got)
        await rep.press("完成")
    assert rows(engine.database, "SELECT a.hospital FROM notes n JOIN accounts a "
                                 "ON a.id = n.account_id") == [(hospital,)]


async def test_a_typed_number_answers_the_card_and_one_out_of_range_is_refused(
        engine: Engine, sim: WecomSimulator) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "sunhui", channel)
        await rep.open()
        note = "见了泰山医院心内科李主任，下周三带资料再访"
        await rep.say(note)
        assert "⏰ 跟进：11月25日 周三 · 带资料再访" in card_text(rep.last_card())
        await rep.press("📅 改日期")
        ask = rep.last_card()
        assert "哪天跟进？" in card_text(ask) and [t for _, t in buttons(ask)] == ["跳过"]
        updates = len(sim.card_updates)

        [again] = await rep.say("1")  # the only option: 跳过
        assert again.msgtype == "template_card" and "⏰ 跟进" not in card_text(again)
        assert "📌 下一步：带资料再访（没有日期，不提醒）" in card_text(again)
        assert [t for _, t in buttons(again)] == ["✅ 保存", "👤 换客户", "📅 加跟进日期"]
        assert len(sim.card_updates) == updates  # typed, not pressed: no card greyed out
        got = await rep.press("跳过", card=ask)  # and the date card's button is stale now
        assert [shown(m) for m in got] == [
            "这个按钮已过期，什么都没有改变。请用最新消息里的按钮，或发 /menu。"]
        assert len(sim.card_updates) == updates

        notice, repeated = await rep.say("7")  # three buttons: 7 is none of them
        assert (notice.msgtype, shown(notice)) == ("text", "请点一个按钮，或回复 1–3 的编号。")
        assert (card_text(repeated), buttons(repeated)) == (card_text(again), buttons(again))
        for table in ("notes", "accounts", "followups"):
            assert count(engine.database, table) == 0, table

        got = await rep.press("✅ 保存", card=again)  # the earlier card's button works too
        assert "✅ 已记下李主任的拜访。（新客户 · 泰山医院 · 心内科）" in joined(got)
        assert sim.card_updates[-1].replace_name == "✅ 保存"
    assert rows(engine.database, "SELECT text FROM notes") == [(note,)]  # never "1" or "7"
    assert count(engine.database, "followups") == 0


async def test_pressed_card_shows_the_choice_and_stale_buttons_are_refused(
        engine: Engine, sim: WecomSimulator) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "zhoumin", channel)
        await rep.open()
        await rep.say("/quiz")
        intro = rep.last_card()
        await rep.press("开始")
        [update] = sim.card_updates
        assert (update.userids, update.replace_name) == (["zhoumin"], "开始")

        first = rep.last_card()
        assert quiz_number(first) == 1
        got = await rep.press("查他的研究方向和发表文献")
        assert sim.card_updates[-1].replace_name == "查他的研究方向和发…"
        assert [quiz_number(m) for m in got] == [2]

        updates = len(sim.card_updates)
        for card, label in ((first, "写好拜访目标"), (intro, "以后再说")):
            got = await rep.press(label, card=card)
            assert [shown(m) for m in got] == [
                "这个按钮已过期，什么都没有改变。请用最新消息里的按钮，或发 /menu。"]
        assert len(sim.card_updates) == updates  # a stale card is left as it was

        got = await rep.say("1")  # the conversation is still at question 2
        assert [quiz_number(m) for m in got] == [3]
    [(state,)] = rows(engine.database, "SELECT engine FROM conversations")
    assert as_json(state)["answers"] == [["intro", 0], ["q01", 1], ["q02", 0]]  # none stale


async def test_a_press_that_could_not_be_saved_can_be_pressed_again(
        engine: Engine, sim: WecomSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "lujia", channel)
        await rep.open()
        await rep.say("/quiz")
        intro = rep.last_card()

        def database_down(*_args: object, **_kwargs: object) -> None:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))

        with monkeypatch.context() as patch:  # every way a turn reaches the database fails
            patch.setattr(engine.database, "transaction", database_down)
            patch.setattr(engine.database, "run_in_transaction", database_down)
            got = await rep.press("开始", card=intro)
        assert [shown(m) for m in got] == [
            "抱歉，系统暂时出了点问题，这条消息没有保存。请过一分钟再发一次。"]
        assert sim.card_updates == []  # the card keeps its buttons

        got = await rep.press("开始", card=intro)  # a minute later, the same button works
        assert [quiz_number(m) for m in got] == [1]
        assert [u.replace_name for u in sim.card_updates] == ["开始"]


async def test_first_text_of_a_new_rep_is_handled(engine: Engine, sim: WecomSimulator) -> None:
    """A rep may type before ever opening the app: greeted, and the note is not lost."""
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "newrep", channel)
        got = await rep.say("李主任说下个月科室会可以讲十分钟")
        assert "你好！我是 RepCoach" in shown(got[0])
        assert "📝 这样记下？\n👤 李主任（新客户）" in joined(got)
        got = await rep.press("✅ 保存")
        assert "✅ 已记下李主任的拜访。" in joined(got)
        await rep.press("完成")
    assert rows(engine.database, "SELECT text FROM notes") == [
        ("李主任说下个月科室会可以讲十分钟",)]


async def test_without_auto_enroll_a_member_needs_a_code_and_a_revoked_one_stays_out(
        engine: Engine, sim: WecomSimulator) -> None:
    """The default: nobody gets in by just writing, /start CODE works in WeCom (managers
    too), and a revoked member's next message does not make a fresh account."""
    engine = Engine(engine.database, engine.library, wecom_settings(auto_enroll=False),
                    clock=engine.clock)
    async with running_channel(engine, sim) as channel:
        stranger = Rep(sim, "zhangsan", channel)
        assert [shown(m)[:6] for m in await stranger.open()] == ["你还没有开通"]
        manager_code = engine.enroll("赵经理", role="manager", team="east")
        got = await stranger.say(f"/start {manager_code}")
        assert "开通成功" in joined(got)
        assert "east 团队" in joined(await stranger.say("/team"))
        rep_code = engine.enroll("王芳", team="east")
        wang = Rep(sim, "wangfang", channel)
        assert "开通成功" in joined(await wang.say(f"/start {rep_code}"))
        engine.revoke(name="王芳")
        refused = joined(await wang.say("李主任 泰山医院 想看数据"))
        assert "权限已被停用" in refused
        assert count(engine.database, "reps") == 2  # no fresh account was made
        again = engine.enroll("王芳", team="east")  # an admin enrolls her again
        assert "开通成功" in joined(await wang.say(f"/start {again}"))
    assert rows(engine.database, "SELECT r.name, r.active FROM identities i JOIN reps r "
                                 "ON r.id = i.rep_id WHERE i.external_id = 'wangfang'") == [
        ("王芳", True)]


async def test_a_failed_upload_still_sends_the_words(engine: Engine,
                                                     sim: WecomSimulator) -> None:
    """A failed image or file upload once dropped the whole reply, text and all."""
    async with running_channel(engine, sim) as channel:
        rep = Rep(sim, "hemei", channel)
        await rep.say("人民医院王主任说想看真实世界数据")
        await rep.press("✅ 保存")
        await rep.press("完成")
        sim.inject_error("media/upload", 40004, times=2)  # both files of the export
        got = await rep.say("/export")
    texts = [shown(m) for m in got if m.msgtype == "text"]
    assert any("📦 这是你在 RepCoach 里的全部数据" in t for t in texts)
    assert any("没能发出去" in t for t in texts)
    assert [m.msgtype for m in got if m.msgtype == "file"] == []
