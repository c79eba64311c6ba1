"""WecomClient against the WeCom simulator over real HTTP: what members would receive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.wecom.client import (
    MAX_CONTENT_BYTES,
    WecomAuthError,
    WecomClient,
    WecomRejected,
    WecomUnavailable,
    split_utf8,
)
from testkit.fakes.wecom_sim import WecomSimulator


class FakeClock:
    """A monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def sim() -> AsyncIterator[WecomSimulator]:
    async with WecomSimulator() as s:
        yield s


def make_client(sim: WecomSimulator, **kwargs: object) -> WecomClient:
    options: dict[str, object] = {"retry_base_delay": 0.01, "request_timeout": 5.0}
    options.update(kwargs)
    return WecomClient(
        sim.corp_id,
        sim.secret,
        sim.agent_id,
        api_base_url=sim.api_base_url,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(sim: WecomSimulator) -> AsyncIterator[WecomClient]:
    async with make_client(sim) as c:
        yield c


def texts(sim: WecomSimulator, user: str) -> list[str | None]:
    return [m.content for m in sim.messages_to(user)]


# --- token ---------------------------------------------------------------------------------


async def test_token_cached_across_sends(sim: WecomSimulator, client: WecomClient) -> None:
    for word in ("one", "two", "three"):
        await client.send_text("rep1", word)
    assert texts(sim, "rep1") == ["one", "two", "three"]
    assert len(sim.calls_to("gettoken")) == 1
    sent_with = {c.query["access_token"] for c in sim.calls_to("message/send")}
    assert sent_with == {sim.tokens_issued[0]}


async def test_token_refreshed_before_expiry(sim: WecomSimulator) -> None:
    clock = FakeClock()
    sim.token_expires_in = 7200
    async with make_client(sim, clock=clock, sleep=clock.sleep) as client:
        await client.send_text("rep1", "a")
        clock.now += 7200 - 300 - 1  # still inside the margin
        await client.send_text("rep1", "b")
        assert len(sim.calls_to("gettoken")) == 1
        clock.now += 2  # within 300 s of expiry: refresh proactively
        await client.send_text("rep1", "c")
    assert len(sim.calls_to("gettoken")) == 2
    assert texts(sim, "rep1") == ["a", "b", "c"]


async def test_expired_token_mid_conversation_is_refreshed_and_delivered_once(
    sim: WecomSimulator, client: WecomClient
) -> None:
    await client.send_text("rep1", "first")
    sim.expire_tokens()
    await client.send_text("rep1", "second")
    assert texts(sim, "rep1") == ["first", "second"]
    assert [c.errcode for c in sim.calls_to("message/send")] == [0, 42001, 0]
    assert len(sim.calls_to("gettoken")) == 2


async def test_injected_40014_refreshes_once(sim: WecomSimulator, client: WecomClient) -> None:
    await client.send_text("rep1", "warm up")
    sim.inject_error("message/send", 40014)
    await client.send_text("rep1", "after")
    assert texts(sim, "rep1") == ["warm up", "after"]
    assert len(sim.calls_to("gettoken")) == 2


async def test_token_rejected_twice_is_an_auth_error(
    sim: WecomSimulator, client: WecomClient
) -> None:
    sim.inject_error("message/send", 42001, times=2)
    with pytest.raises(WecomAuthError):
        await client.send_text("rep1", "x")
    assert sim.messages == []
    assert len(sim.calls_to("message/send")) == 2  # no loop


async def test_bad_secret_is_an_auth_error_and_not_retried(sim: WecomSimulator) -> None:
    client = WecomClient(sim.corp_id, "stale-secret", sim.agent_id, api_base_url=sim.api_base_url)
    async with client:
        with pytest.raises(WecomAuthError) as err:
            await client.send_text("rep1", "x")
    assert err.value.errcode == 40001
    assert len(sim.calls_to("gettoken")) == 1
    assert sim.messages == []


async def test_injected_40001_on_send_is_an_auth_error(
    sim: WecomSimulator, client: WecomClient
) -> None:
    sim.inject_error("message/send", 40001)
    with pytest.raises(WecomAuthError):
        await client.send_text("rep1", "x")
    assert len(sim.calls_to("message/send")) == 1


async def test_untrusted_ip_names_the_trusted_ip_list(
    sim: WecomSimulator, client: WecomClient
) -> None:
    sim.inject_error("message/send", 60020, errmsg="not allow to access from your ip")
    with pytest.raises(WecomAuthError, match="trusted IP") as err:
        await client.send_text("rep1", "x")
    assert err.value.errcode == 60020
    assert len(sim.calls_to("message/send")) == 1


# --- transient errors ---------------------------------------------------------------------


@pytest.mark.parametrize("errcode", [-1, 45009, 45033])
async def test_busy_and_rate_limits_are_retried_then_delivered(
    sim: WecomSimulator, client: WecomClient, errcode: int
) -> None:
    sim.inject_error("message/send", errcode, times=2)
    [result] = await client.send_text("rep1", "persist")
    assert texts(sim, "rep1") == ["persist"]
    assert result.msgid == sim.messages[0].msgid
    assert [c.errcode for c in sim.calls_to("message/send")] == [errcode, errcode, 0]


async def test_persistent_busy_gives_up_after_bounded_tries(sim: WecomSimulator) -> None:
    sim.inject_error("message/send", -1, times=10)
    async with make_client(sim, max_attempts=3) as client:
        with pytest.raises(WecomUnavailable) as err:
            await client.send_text("rep1", "x")
    assert err.value.errcode == -1
    assert len(sim.calls_to("message/send")) == 3
    assert sim.messages == []


async def test_backoff_is_exponential(sim: WecomSimulator) -> None:
    clock = FakeClock()
    sim.inject_error("message/send", 45009, times=3)
    async with make_client(
        sim, clock=clock, sleep=clock.sleep, retry_base_delay=1.0, max_attempts=4
    ) as client:
        await client.send_text("rep1", "x")
    assert len(clock.sleeps) == 3
    for got, base in zip(clock.sleeps, [1.0, 2.0, 4.0], strict=True):
        assert base <= got <= base * 1.2


async def test_http_503_is_retried(sim: WecomSimulator, client: WecomClient) -> None:
    sim.inject_error("message/send", -1, http_status=503)
    await client.send_text("rep1", "through")
    assert texts(sim, "rep1") == ["through"]


async def test_busy_gettoken_is_retried(sim: WecomSimulator, client: WecomClient) -> None:
    sim.inject_error("gettoken", -1)
    await client.send_text("rep1", "x")
    assert texts(sim, "rep1") == ["x"]
    assert [c.errcode for c in sim.calls_to("gettoken")] == [-1, 0]


async def test_unreachable_api_is_unavailable() -> None:
    async with WecomSimulator() as s:
        url = s.api_base_url  # port now closed
    client = WecomClient("c", "s", 1, api_base_url=url, retry_base_delay=0.01, max_attempts=2)
    async with client:
        with pytest.raises(WecomUnavailable):
            await client.send_text("rep1", "x")


async def test_other_errcodes_are_rejections(sim: WecomSimulator, client: WecomClient) -> None:
    sim.known_users = {"rep1"}
    with pytest.raises(WecomRejected) as err:
        await client.send_text("ghost", "x")
    assert err.value.errcode == 81013
    sim.inject_error("message/send", 40058, errmsg="invalid parameter")
    with pytest.raises(WecomRejected):
        await client.send_text("rep1", "x")
    assert sim.messages == []


async def test_refuses_broadcast_and_lists(client: WecomClient) -> None:
    for bad in ("", "@all", "a|b"):
        with pytest.raises(ValueError):
            await client.send_text(bad, "x")
    with pytest.raises(ValueError):
        await client.send_text("rep1", "  \n\n ")


# --- splitting ------------------------------------------------------------------------------


async def test_long_text_split_on_line_boundaries_in_order(
    sim: WecomSimulator, client: WecomClient
) -> None:
    lines = [f"{i:03d} 拜访要点：强调依从性和随访计划，记录医生的顾虑。" for i in range(120)]
    text = "\n".join(lines)
    assert len(text.encode()) > 3 * MAX_CONTENT_BYTES
    results = await client.send_text("rep1", text)
    got = texts(sim, "rep1")
    assert len(got) == len(results) >= 4
    for part in got:
        assert part is not None
        assert len(part.encode()) <= MAX_CONTENT_BYTES
        assert not part.startswith("\n") and not part.endswith("\n")
    rebuilt = "\n".join(p for p in got if p is not None)
    assert rebuilt == text  # every line, whole, in order


async def test_paragraphs_preferred_over_lines(sim: WecomSimulator, client: WecomClient) -> None:
    para_a = "A" * 1500
    para_b = "B1\n" + "B" * 1000
    await client.send_text("rep1", f"{para_a}\n\n{para_b}")
    assert texts(sim, "rep1") == [para_a, para_b]


def test_split_never_cuts_a_character() -> None:
    text = "测" * 3000  # no separators: must cut, but between characters
    parts = split_utf8(text)
    assert "".join(parts) == text
    assert all(len(p.encode()) <= MAX_CONTENT_BYTES for p in parts)
    mixed = ("a" + "😀" * 700) * 3
    parts = split_utf8(mixed, 100)
    assert "".join(parts) == mixed
    assert all(len(p.encode()) <= 100 for p in parts)


def test_split_short_text_untouched_and_blank_parts_dropped() -> None:
    assert split_utf8("hello\n\nworld") == ["hello\n\nworld"]
    assert split_utf8("x" * 10 + "\n\n\n\n" + "y" * 10, 12) == ["x" * 10, "y" * 10]
    assert split_utf8("") == []


def test_split_prefers_words_inside_a_long_line() -> None:
    line = " ".join(["word"] * 100)
    parts = split_utf8(line, 50)
    assert all(p.strip() == p and set(p) <= set("word ") for p in parts)
    assert " ".join(parts) == line


# --- cards and media ------------------------------------------------------------------------


async def test_button_card_with_six_buttons(sim: WecomSimulator, client: WecomClient) -> None:
    buttons = [(f"k{i}", f"选项{i}") for i in range(6)]
    result = await client.send_button_card(
        "rep1", "医生的主要异议？", "选一个最接近的", buttons, task_id="visit-42_q1"
    )
    [msg] = sim.messages_to("rep1")
    assert msg.msgtype == "template_card"
    card = msg.template_card
    assert card is not None
    assert card["card_type"] == "button_interaction"
    assert card["task_id"] == "visit-42_q1"
    assert card["main_title"]["title"] == "医生的主要异议？"
    assert card["sub_title_text"] == "选一个最接近的"
    assert [(b["key"], b["text"]) for b in card["button_list"]] == buttons
    assert result.response_code == msg.response_code is not None


async def test_button_card_limits(client: WecomClient) -> None:
    seven = [(f"k{i}", "x") for i in range(7)]
    with pytest.raises(ValueError):
        await client.send_button_card("rep1", "t", "", seven, task_id="t1")
    with pytest.raises(ValueError):
        await client.send_button_card("rep1", "t", "", [("k", "a"), ("k", "b")], task_id="t2")
    with pytest.raises(ValueError):
        await client.send_button_card("rep1", "t", "", [("k", "a")], task_id="bad id!")


async def test_reused_task_id_is_rejected_by_wecom(
    sim: WecomSimulator, client: WecomClient
) -> None:
    await client.send_button_card("rep1", "t", "", [("k", "a")], task_id="same")
    with pytest.raises(WecomRejected):
        await client.send_button_card("rep1", "t", "", [("k", "a")], task_id="same")


async def test_update_card_pressed(sim: WecomSimulator, client: WecomClient) -> None:
    result = await client.send_button_card("rep1", "t", "", [("yes", "是")], task_id="t-up")
    assert result.response_code
    await client.update_card_pressed(["rep1"], result.response_code, "已选择：是")
    [update] = sim.card_updates
    assert update.userids == ["rep1"]
    assert update.replace_name == "已选择：是"
    assert update.body["agentid"] == sim.agent_id
    with pytest.raises(WecomRejected):  # single use
        await client.update_card_pressed(["rep1"], result.response_code, "again")


async def test_upload_and_send_image_and_file(sim: WecomSimulator, client: WecomClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    image_id = await client.upload_media("image", "chart.png", png, "image/png")
    doc_id = await client.upload_media("file", "计划.txt", "拜访计划".encode())
    assert sim.media[image_id].data == png
    assert sim.media[image_id].filename == "chart.png"
    assert sim.media[doc_id].filename == "计划.txt"
    [upload_call, _] = sim.calls_to("media/upload")
    assert upload_call.query["type"] == "image"
    assert upload_call.body["field"] == "media"
    await client.send_image("rep1", image_id)
    await client.send_file("rep1", doc_id)
    assert [(m.msgtype, m.media_id) for m in sim.messages_to("rep1")] == [
        ("image", image_id),
        ("file", doc_id),
    ]
    with pytest.raises(WecomRejected):
        await client.send_image("rep1", "no-such-media")


async def test_upload_limits(client: WecomClient) -> None:
    with pytest.raises(ValueError):
        await client.upload_media("image", "x.png", b"1234")
    with pytest.raises(ValueError):
        await client.upload_media("image", "x.png", b"0" * (10 * 1024 * 1024 + 1))


async def test_upload_retried_after_busy(sim: WecomSimulator, client: WecomClient) -> None:
    sim.inject_error("media/upload", -1)
    media_id = await client.upload_media("file", "a.txt", b"hello world")
    assert sim.media[media_id].data == b"hello world"


# --- per-member throttle --------------------------------------------------------------------


async def test_fourth_message_waits_for_the_window_not_dropped(sim: WecomSimulator) -> None:
    async with make_client(sim, per_user_limit=3, per_user_window=1.0) as client:
        sends = [asyncio.create_task(client.send_text("rep1", f"m{i}")) for i in range(4)]
        await sim.wait_for_messages("rep1", 3, timeout=2)
        await asyncio.sleep(0.1)
        assert texts(sim, "rep1") == ["m0", "m1", "m2"]  # the 4th is waiting
        await client.send_text("rep2", "other member is not held up")
        assert texts(sim, "rep2") == ["other member is not held up"]
        await asyncio.gather(*sends)
    msgs = sim.messages_to("rep1")
    assert [m.content for m in msgs] == ["m0", "m1", "m2", "m3"]
    assert msgs[3].at - msgs[0].at >= 0.95


async def test_throttle_with_fake_clock_default_window(sim: WecomSimulator) -> None:
    clock = FakeClock()
    async with make_client(sim, per_user_limit=3, clock=clock, sleep=clock.sleep) as client:
        for i in range(3):
            await client.send_text("rep1", f"m{i}")
            clock.now += 5
        assert clock.sleeps == []
        await client.send_text("rep1", "m3")  # 15 s after m0: waits the other 45 s
        assert clock.sleeps == [pytest.approx(45.0)]
        await client.send_text("rep1", "m4")  # m1 (sent at +5) leaves the window 5 s later
    assert texts(sim, "rep1") == ["m0", "m1", "m2", "m3", "m4"]
    assert clock.sleeps == [pytest.approx(45.0), pytest.approx(5.0)]


async def test_split_parts_count_against_the_limit_and_stay_in_order(
    sim: WecomSimulator,
) -> None:
    clock = FakeClock()
    async with make_client(sim, per_user_limit=1, clock=clock, sleep=clock.sleep) as client:
        long = "\n".join(["x" * 1500] * 3)
        await asyncio.gather(client.send_text("rep1", long), client.send_text("rep1", "after"))
    assert texts(sim, "rep1") == ["x" * 1500] * 3 + ["after"]
    # one message a minute: parts 2 and 3 and "after" each waited a full window
    assert clock.sleeps == [pytest.approx(60.0)] * 3
