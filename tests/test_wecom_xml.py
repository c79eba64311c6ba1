"""WeCom callback XML: safe parsing, events, dedup keys, and the simulator's callbacks
opened with our crypto + parser over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.wecom.crypto import WecomCryptoError, decrypt, open_message
from bot.wecom.xmlmsg import MAX_XML_BYTES, WecomEvent, WecomXmlError, parse_envelope, parse_event
from testkit.fakes.wecom_sim import WecomSimulator
from testkit.wecom_messages import (
    build_envelope,
    cdata,
    encrypt,
    enter_agent_xml,
    template_card_event_xml,
    text_message_xml,
)

CORP = "ww_test_corp"
KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

OFFICIAL_PLAIN = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
    "<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n"
    "<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<xml><ToUserName>c</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><Encrypt>&xxe;</Encrypt></xml>"""


# --- parsing -----------------------------------------------------------------------------


def test_official_plaintext_parses() -> None:
    event = parse_event(OFFICIAL_PLAIN)
    assert event == WecomEvent(
        to_user="wx5823bf96d3bd56c7",
        from_user="mycreate",
        create_time=1409659813,
        msg_type="text",
        content="hello",
        msg_id="4561255354251345929",
        agent_id="218",
    )
    assert event.is_text and not event.is_card_click


def test_envelope_round_trip() -> None:
    body = build_envelope("abc+/=", CORP, 1000002)
    env = parse_envelope(body.encode())
    assert (env.to_user, env.agent_id, env.encrypt) == (CORP, "1000002", "abc+/=")


def test_envelope_without_agentid_is_fine_without_encrypt_is_not() -> None:
    env = parse_envelope("<xml><ToUserName>c</ToUserName><Encrypt>x</Encrypt></xml>")
    assert env.agent_id is None
    with pytest.raises(WecomXmlError) as err:
        parse_envelope("<xml><ToUserName>c</ToUserName><Encrypt></Encrypt></xml>")
    assert err.value.reason == "missing-field"


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE])
def test_entity_expansion_and_external_entities_rejected(body: str) -> None:
    for parse in (parse_envelope, parse_event):
        with pytest.raises(WecomXmlError) as err:
            parse(body)
        assert err.value.reason == "forbidden-dtd"
        with pytest.raises(WecomXmlError):
            parse(body.encode())


@pytest.mark.parametrize(
    "body",
    [
        "<!doctype xml><xml><Encrypt>x</Encrypt></xml>",
        "<xml><Encrypt>x</Encrypt></xml><!DOCTYPE late>",
        '<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml><Encrypt>x</Encrypt></xml>',
        "<!ENTITY a 'b'><xml><Encrypt>x</Encrypt></xml>",
    ],
)
def test_any_dtd_rejected(body: str) -> None:
    with pytest.raises(WecomXmlError) as err:
        parse_envelope(body)
    assert err.value.reason == "forbidden-dtd"


def test_dtd_smuggled_in_utf16_is_rejected() -> None:
    body = XXE.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    with pytest.raises(WecomXmlError) as err:
        parse_envelope(body)
    assert err.value.reason == "malformed"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage",
        b"<xml><Encrypt>x</Encrypt>",
        b"<xml><Encrypt>x</Encrypt></xml><xml/>",
        b"\xff\xfe\x00<",
        b'{"json": true}',
        b"<notxml><Encrypt>x</Encrypt></notxml>",
    ],
)
def test_garbage_rejected(body: bytes) -> None:
    with pytest.raises(WecomXmlError) as err:
        parse_envelope(body)
    assert err.value.reason == "malformed"


def test_oversized_rejected_before_parsing() -> None:
    big = "<xml><Encrypt>" + "A" * MAX_XML_BYTES + "</Encrypt></xml>"
    for body in (big, big.encode()):
        with pytest.raises(WecomXmlError) as err:
            parse_envelope(body)
        assert err.value.reason == "too-large"
    # multi-byte characters count in bytes, not characters
    chinese = "<xml><Encrypt>" + "测" * (MAX_XML_BYTES // 3) + "</Encrypt></xml>"
    with pytest.raises(WecomXmlError):
        parse_envelope(chinese)
    with pytest.raises(WecomXmlError):
        parse_envelope(b"<xml><Encrypt>x</Encrypt></xml>", max_bytes=10)


def test_missing_or_bad_fields() -> None:
    with pytest.raises(WecomXmlError) as err:
        parse_event("<xml><ToUserName>c</ToUserName><CreateTime>1</CreateTime></xml>")
    assert err.value.reason == "missing-field"
    with pytest.raises(WecomXmlError) as err:
        parse_event(
            "<xml><ToUserName>c</ToUserName><FromUserName>u</FromUserName>"
            "<CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>"
        )
    assert err.value.reason == "malformed"


def test_text_with_cdata_terminator_and_chinese_round_trips() -> None:
    content = "价格]]>异议 <b>&amp; ]]]]> 结束\n第二行"
    xml = text_message_xml(
        to_user=CORP, from_user="张三", create_time=5, content=content, msg_id="99", agent_id=7
    )
    event = parse_event(xml.encode())
    assert event.content == content
    assert event.from_user == "张三"
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"


def test_enter_agent_event() -> None:
    event = parse_event(enter_agent_xml(to_user=CORP, from_user="rep1", create_time=10, agent_id=5))
    assert event.msg_type == "event"
    assert event.event == "enter_agent"
    assert event.event_key is None
    assert event.msg_id is None
    assert event.dedup_key == "rep1:10::"


def test_card_click_event() -> None:
    xml = template_card_event_xml(
        to_user=CORP,
        from_user="rep1",
        create_time=20,
        agent_id=5,
        event_key="objection:price",
        task_id="task-1@x",
        response_code="rc-1",
    )
    event = parse_event(xml)
    assert event.is_card_click
    assert (event.event_key, event.task_id, event.response_code, event.card_type) == (
        "objection:price",
        "task-1@x",
        "rc-1",
        "button_interaction",
    )
    assert event.dedup_key == "rep1:20:objection:price:task-1@x"


def test_dedup_keys_distinguish_what_must_be_distinguished() -> None:
    def click(key: str, task: str, t: int = 20) -> WecomEvent:
        return parse_event(
            template_card_event_xml(
                to_user=CORP,
                from_user="rep1",
                create_time=t,
                agent_id=5,
                event_key=key,
                task_id=task,
                response_code="rc",
            )
        )

    assert click("a", "t1").dedup_key == click("a", "t1").dedup_key  # a WeCom retry
    assert click("a", "t1").dedup_key != click("b", "t1").dedup_key
    assert click("a", "t1").dedup_key != click("a", "t2").dedup_key
    assert click("a", "t1").dedup_key != click("a", "t1", t=21).dedup_key
    text1 = parse_event(
        text_message_xml(
            to_user=CORP, from_user="rep1", create_time=20, content="x", msg_id="1", agent_id=5
        )
    )
    text2 = parse_event(
        text_message_xml(
            to_user=CORP, from_user="rep1", create_time=20, content="x", msg_id="2", agent_id=5
        )
    )
    assert text1.dedup_key == "1" and text2.dedup_key == "2"


# --- the simulator's callbacks, opened by our layer over real HTTP --------------------------


@dataclass
class CallbackApp:
    """A minimal callback endpoint built only on bot.wecom.crypto and bot.wecom.xmlmsg."""

    sim: WecomSimulator
    delay_first: float = 0.0
    events: list[WecomEvent] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    hits: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        q = request.query
        try:
            if request.method == "GET":
                plain = open_message(
                    token=self.sim.token,
                    encoding_aes_key=self.sim.encoding_aes_key,
                    receive_id=self.sim.corp_id,
                    msg_signature=q.get("msg_signature", ""),
                    timestamp=q.get("timestamp", ""),
                    nonce=q.get("nonce", ""),
                    encrypted=q.get("echostr", ""),
                )
                return web.Response(text=plain)
            envelope = parse_envelope(await request.read())
            xml = open_message(
                token=self.sim.token,
                encoding_aes_key=self.sim.encoding_aes_key,
                receive_id=self.sim.corp_id,
                msg_signature=q.get("msg_signature", ""),
                timestamp=q.get("timestamp", ""),
                nonce=q.get("nonce", ""),
                encrypted=envelope.encrypt,
            )
            self.events.append(parse_event(xml))
            if self.hits == 1 and self.delay_first:
                await asyncio.sleep(self.delay_first)  # a bot that works before answering
        except (WecomCryptoError, WecomXmlError) as exc:
            self.rejections.append(str(exc))
            return web.Response(status=403)
        return web.Response(text="")


@pytest.fixture
async def wired() -> AsyncIterator[tuple[WecomSimulator, CallbackApp]]:
    async with WecomSimulator(callback_timeout=0.5) as sim:
        cb = CallbackApp(sim)
        app = web.Application()
        app.router.add_route("*", "/wecom/callback", cb.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        sim.callback_url = f"http://127.0.0.1:{port}/wecom/callback"
        try:
            yield sim, cb
        finally:
            await runner.cleanup()


async def test_sim_text_callback_is_opened_by_our_layer(
    wired: tuple[WecomSimulator, CallbackApp],
) -> None:
    sim, cb = wired
    assert await sim.send_text("rep1", "今天拜访了李主任 & <心内科>") == 200
    [event] = cb.events
    assert (event.from_user, event.msg_type, event.content) == (
        "rep1",
        "text",
        "今天拜访了李主任 & <心内科>",
    )
    assert event.to_user == sim.corp_id
    assert event.agent_id == str(sim.agent_id)
    assert event.msg_id == sim.last_msg_id
    assert len(sim.callbacks[0].attempts) == 1


async def test_sim_events_are_opened_by_our_layer(
    wired: tuple[WecomSimulator, CallbackApp],
) -> None:
    sim, cb = wired
    assert await sim.enter_agent("rep2") == 200
    assert await sim.press_button("rep2", "plan:yes", "t-1") == 200
    enter, click = cb.events
    assert enter.event == "enter_agent"
    assert click.is_card_click
    assert (click.event_key, click.task_id) == ("plan:yes", "t-1")
    assert click.response_code


async def test_sim_url_check_round_trip(wired: tuple[WecomSimulator, CallbackApp]) -> None:
    sim, _ = wired
    for echo in ("1616140317555161061", "a+b/c=d 中文"):
        assert await sim.verify_url(echo) == (200, echo)
    status, _ = await sim.verify_url("x", msg_signature="0" * 40)
    assert status == 403


async def test_sim_retries_a_slow_bot_like_wecom(wired: tuple[WecomSimulator, CallbackApp]) -> None:
    sim, cb = wired
    cb.delay_first = 1.0  # longer than the sim's 0.5 s callback timeout
    assert await sim.send_text("rep1", "hi") == 200
    attempts = sim.callbacks[0].attempts
    assert [a.status for a in attempts] == [None, 200]
    # the same message arrived twice: the dedup key is what makes it handled once
    assert len(cb.events) == 2
    assert cb.events[0].dedup_key == cb.events[1].dedup_key


async def test_sim_gives_up_after_three_tries(wired: tuple[WecomSimulator, CallbackApp]) -> None:
    sim, cb = wired
    status = await sim.send_text("rep1", "hi")  # fine, but:
    assert status == 200
    bad = await sim.post_callback(
        text_message_xml(
            to_user=sim.corp_id, from_user="x", create_time=1, content="y", msg_id="5", agent_id=1
        ),
        msg_signature="f" * 40,
    )
    assert bad == 403
    assert [a.status for a in sim.callbacks[-1].attempts] == [403, 403, 403]
    assert cb.rejections == ["bad-signature"] * 3


async def test_sim_wrong_receive_id_is_rejected(
    wired: tuple[WecomSimulator, CallbackApp],
) -> None:
    sim, cb = wired
    status = await sim.post_callback(
        enter_agent_xml(to_user="c", from_user="u", create_time=1, agent_id=1),
        receive_id="ww_someone_else",
        tries=1,
    )
    assert status == 403
    assert cb.rejections == ["bad-receive-id"]


def test_sim_crypto_matches_module_functions() -> None:
    sim = WecomSimulator()
    assert decrypt(
        encrypt("x", sim.encoding_aes_key, sim.corp_id), sim.encoding_aes_key, sim.corp_id
    )
