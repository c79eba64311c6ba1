"""A WeCom simulator for tests: the server API and the callback-pushing platform, on loopback.

Usage::

    async with WecomSimulator(callback_url="http://127.0.0.1:8080/wecom/callback") as sim:
        client = WecomClient(sim.corp_id, sim.secret, sim.agent_id,
                             api_base_url=sim.api_base_url, retry_base_delay=0.01)
        status = await sim.send_text("rep1", "hello")      # WeCom -> bot callback
        [msg] = await sim.wait_for_messages("rep1", 1)       # bot -> WeCom API

API side (``api_base_url``): ``cgi-bin/gettoken``, ``message/send``,
``message/update_template_card`` and ``media/upload``, validating what real WeCom validates
(token, agentid, content size, at most six buttons, known media ids, single-use response codes)
and recording every call (`calls`) and every delivered message (`messages`). Faults are queued
per endpoint with `inject_error`; `expire_tokens` makes the current tokens answer 42001.

Platform side: `send_text`, `press_button`, `enter_agent` and raw `post_callback` encrypt and
sign like WeCom and POST to `callback_url`; an answer other than HTTP 200 within
`callback_timeout` is retried, three tries in all, like WeCom. `verify_url` does the GET URL
check. Every delivery and its tries are kept in `callbacks`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.wecom import crypto
from testkit.wecom_messages import (
    build_envelope,
    encrypt,
    enter_agent_xml,
    template_card_event_xml,
    text_message_xml,
)

__all__ = [
    "ApiCall",
    "CallbackAttempt",
    "CallbackDelivery",
    "CardUpdate",
    "SentMessage",
    "UploadedMedia",
    "WecomSimulator",
]

ENDPOINTS = ("gettoken", "message/send", "message/update_template_card", "media/upload")

# errcodes the simulator answers with, as real WeCom does
ERR_BAD_SECRET = 40001
ERR_BAD_MEDIA_ID = 40007
ERR_BAD_CORPID = 40013
ERR_BAD_TOKEN = 40014
ERR_BAD_AGENTID = 40056
ERR_BAD_PARAMETER = 40058
ERR_NO_TOKEN = 41001
ERR_TOKEN_EXPIRED = 42001
ERR_EMPTY_CONTENT = 44004
ERR_CONTENT_TOO_LONG = 45002
ERR_ALL_RECIPIENTS_INVALID = 81013


@dataclass
class ApiCall:
    """One API request as the simulator saw it, and the errcode it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    errcode: int = 0


@dataclass
class SentMessage:
    """A message accepted by ``message/send`` (what the member would see)."""

    touser: str
    msgtype: str
    content: str | None
    template_card: dict[str, Any] | None
    media_id: str | None
    msgid: str
    response_code: str | None
    at: float
    body: dict[str, Any]


@dataclass
class CardUpdate:
    """An accepted ``message/update_template_card``."""

    userids: list[str]
    response_code: str
    replace_name: str | None
    body: dict[str, Any]


@dataclass
class UploadedMedia:
    media_id: str
    kind: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class CallbackAttempt:
    """One try at delivering a callback. `status` is None when no answer came in time."""

    try_no: int
    status: int | None
    body: str
    elapsed: float
    error: str | None = None


@dataclass
class CallbackDelivery:
    """A callback (plaintext XML) and every try at delivering it."""

    xml: str
    attempts: list[CallbackAttempt] = field(default_factory=list)

    @property
    def status(self) -> int:
        """Status of the last try; 0 when the bot never answered."""
        for attempt in reversed(self.attempts):
            if attempt.status is not None:
                return attempt.status
        return 0


@dataclass
class _Fault:
    errcode: int
    errmsg: str
    http_status: int


def random_aes_key() -> str:
    """A fresh EncodingAESKey: 43 characters of base64, as the WeCom admin console makes."""
    return base64.b64encode(os.urandom(32)).decode("ascii")[:-1]


class WecomSimulator:
    """Loopback fake of WeCom (see the module docstring)."""

    def __init__(
        self,
        *,
        corp_id: str = "wwsimcorp00000001",
        secret: str = "sim-app-secret",
        agent_id: int = 1000002,
        token: str = "simCallbackToken",
        encoding_aes_key: str | None = None,
        callback_url: str | None = None,
        token_expires_in: int = 7200,
        callback_timeout: float = 5.0,
        callback_tries: int = 3,
        known_users: set[str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.token = token
        self.encoding_aes_key = encoding_aes_key or random_aes_key()
        crypto.decode_aes_key(self.encoding_aes_key)  # fail fast on a bad key
        self.callback_url = callback_url
        self.token_expires_in = token_expires_in
        self.callback_timeout = callback_timeout
        self.callback_tries = callback_tries
        self.known_users = known_users
        self.host = host

        self.calls: list[ApiCall] = []
        self.messages: list[SentMessage] = []
        self.card_updates: list[CardUpdate] = []
        self.media: dict[str, UploadedMedia] = {}
        self.callbacks: list[CallbackDelivery] = []
        self.tokens_issued: list[str] = []
        self.last_msg_id: str | None = None

        self._tokens: dict[str, float] = {}  # token -> loop time it expires
        self._faults: dict[str, deque[_Fault]] = {e: deque() for e in ENDPOINTS}
        self._response_codes: set[str] = set()
        self._task_ids: set[str] = set()
        self._fingerprints: dict[str, float] = {}
        self.repeats_dropped: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(7_000_000_000_000_000_001)
        self._changed = asyncio.Condition()
        self._sends_open = asyncio.Event()
        self._sends_open.set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._message_send)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_card)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WecomSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def api_base_url(self) -> str:
        """Give this to `WecomClient(api_base_url=...)`."""
        if not self._port:
            raise RuntimeError("simulator not started")
        return f"http://{self.host}:{self._port}"

    # --- test controls -----------------------------------------------------------------

    def inject_error(
        self,
        endpoint: str,
        errcode: int,
        times: int = 1,
        *,
        errmsg: str | None = None,
        http_status: int = 200,
    ) -> None:
        """Make the next `times` calls to `endpoint` fail with `errcode` (queued, in order).

        `endpoint` is one of ``gettoken``, ``message/send``, ``message/update_template_card``,
        ``media/upload`` (a ``cgi-bin/`` prefix is accepted). With `http_status` other than
        200 the answer is that HTTP status instead of a WeCom JSON error. Faults apply after
        the access token was checked.
        """
        endpoint = endpoint.removeprefix("/").removeprefix("cgi-bin/")
        if endpoint not in self._faults:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        for _ in range(times):
            self._faults[endpoint].append(
                _Fault(errcode, errmsg or f"injected error {errcode}", http_status)
            )

    def hold_sends(self) -> None:
        """Keep every ``message/send`` waiting, unanswered, until `release_sends`: a reply
        caught mid-send (a slow network, WeCom's throttle). A send whose caller hung up
        meanwhile is not taken when released (its process is gone)."""
        self._sends_open.clear()

    def release_sends(self) -> None:
        self._sends_open.set()

    def expire_tokens(self) -> None:
        """Expire every token issued so far: their next use answers 42001."""
        now = asyncio.get_running_loop().time()
        for tok in self._tokens:
            self._tokens[tok] = min(self._tokens[tok], now)

    def calls_to(self, endpoint: str) -> list[ApiCall]:
        path = "/cgi-bin/" + endpoint.removeprefix("/").removeprefix("cgi-bin/")
        return [c for c in self.calls if c.path == path]

    def messages_to(self, user: str) -> list[SentMessage]:
        return [m for m in self.messages if m.touser == user]

    async def wait_for_messages(
        self, user: str, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until at least `count` messages to `user` were accepted; return them all."""
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: len(self.messages_to(user)) >= count)
        except TimeoutError:
            got = [(m.msgtype, m.content) for m in self.messages_to(user)]
            raise AssertionError(
                f"expected {count} messages to {user!r} within {timeout}s, got {len(got)}: {got}"
            ) from None
        return self.messages_to(user)

    async def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until `ready()` holds, checked each time a message is accepted; False when
        `timeout` seconds passed first (for drivers that keep their own counts)."""
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(ready)
        except TimeoutError:
            return False
        return True

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- API side ----------------------------------------------------------------------

    def _answer(self, call: ApiCall, errcode: int, errmsg: str, **extra: Any) -> web.Response:
        call.errcode = errcode
        return web.json_response({"errcode": errcode, "errmsg": errmsg, **extra})

    def _fault(self, endpoint: str, call: ApiCall) -> web.Response | None:
        queue = self._faults[endpoint]
        if not queue:
            return None
        fault = queue.popleft()
        if fault.http_status != 200:
            call.errcode = fault.errcode
            return web.Response(status=fault.http_status, text="injected HTTP failure")
        return self._answer(call, fault.errcode, fault.errmsg)

    def _check_token(self, request: web.Request, call: ApiCall) -> web.Response | None:
        token = request.query.get("access_token", "")
        if not token:
            return self._answer(call, ERR_NO_TOKEN, "access_token missing")
        expires = self._tokens.get(token)
        if expires is None:
            return self._answer(call, ERR_BAD_TOKEN, "invalid access_token")
        if asyncio.get_running_loop().time() >= expires:
            return self._answer(call, ERR_TOKEN_EXPIRED, "access_token expired")
        return None

    async def _record(self, request: web.Request, body: Any) -> ApiCall:
        call = ApiCall(request.method, request.path, dict(request.query), body)
        self.calls.append(call)
        return call

    async def _json_body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return raw

    async def _gettoken(self, request: web.Request) -> web.Response:
        call = await self._record(request, None)
        if request.query.get("corpid") != self.corp_id:
            return self._answer(call, ERR_BAD_CORPID, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return self._answer(call, ERR_BAD_SECRET, "invalid credential")
        fault = self._fault("gettoken", call)
        if fault is not None:
            return fault
        token = f"simtok-{next(self._ids)}-{secrets.token_hex(8)}"
        self._tokens[token] = asyncio.get_running_loop().time() + self.token_expires_in
        self.tokens_issued.append(token)
        return self._answer(call, 0, "ok", access_token=token, expires_in=self.token_expires_in)

    async def _message_send(self, request: web.Request) -> web.Response:
        await self._sends_open.wait()
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=503, text="caller gone")
        body = await self._json_body(request)
        call = await self._record(request, body)
        problem = self._check_token(request, call) or self._fault("message/send", call)
        if problem is not None:
            return problem
        if not isinstance(body, dict):
            return self._answer(call, ERR_BAD_PARAMETER, "body is not a JSON object")
        if body.get("agentid") != self.agent_id:
            return self._answer(call, ERR_BAD_AGENTID, "invalid agentid")
        touser = str(body.get("touser") or "")
        if not touser or (self.known_users is not None and touser not in self.known_users):
            return self._answer(
                call, ERR_ALL_RECIPIENTS_INVALID, "all recipients invalid", invaliduser=touser
            )
        msgtype = body.get("msgtype")
        payload = body.get(str(msgtype))
        if not isinstance(payload, dict):
            return self._answer(call, ERR_BAD_PARAMETER, f"missing {msgtype} object")
        # enable_duplicate_check: the same message to the same member within the interval
        # is accepted and dropped (compared on content, as WeCom does)
        fingerprint = json.dumps([touser, msgtype, payload], sort_keys=True, ensure_ascii=False)
        now = time.monotonic()
        if body.get("enable_duplicate_check") == 1:
            interval = float(body.get("duplicate_check_interval") or 1800)
            if now - self._fingerprints.get(fingerprint, -interval - 1) <= interval:
                self.repeats_dropped.append(body)
                return self._answer(call, 0, "ok", invaliduser="", msgid="")
        content: str | None = None
        card: dict[str, Any] | None = None
        media_id: str | None = None
        response_code: str | None = None
        if msgtype in ("text", "markdown"):
            content = payload.get("content")
            if not isinstance(content, str) or not content:
                return self._answer(call, ERR_EMPTY_CONTENT, "empty content")
            if len(content.encode("utf-8")) > 2048:
                return self._answer(call, ERR_CONTENT_TOO_LONG, "content size out of limit")
        elif msgtype == "template_card":
            card = payload
            error = self._check_card(card)
            if error:
                return self._answer(call, ERR_BAD_PARAMETER, error)
            self._task_ids.add(str(card["task_id"]))
            response_code = f"rc-{secrets.token_hex(8)}"
            self._response_codes.add(response_code)
        elif msgtype in ("image", "file"):
            media_id = payload.get("media_id")
            if not isinstance(media_id, str) or media_id not in self.media:
                return self._answer(call, ERR_BAD_MEDIA_ID, "invalid media_id")
        else:
            return self._answer(call, ERR_BAD_PARAMETER, f"msgtype {msgtype!r} not simulated")
        msgid = f"simmsg-{next(self._ids)}"
        self._fingerprints[fingerprint] = now
        self.messages.append(
            SentMessage(
                touser=touser,
                msgtype=str(msgtype),
                content=content,
                template_card=card,
                media_id=media_id,
                msgid=msgid,
                response_code=response_code,
                at=asyncio.get_running_loop().time(),
                body=body,
            )
        )
        await self._notify()
        extra: dict[str, Any] = {"invaliduser": "", "msgid": msgid}
        if response_code:
            extra["response_code"] = response_code
        return self._answer(call, 0, "ok", **extra)

    def _check_card(self, card: dict[str, Any]) -> str | None:
        if card.get("card_type") != "button_interaction":
            return "only button_interaction cards are simulated"
        task_id = card.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            return "task_id missing"
        if task_id in self._task_ids:
            return "task_id already used by this app"
        buttons = card.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            return "button_list must hold 1..6 buttons"
        keys = [b.get("key") for b in buttons if isinstance(b, dict)]
        if len(keys) != len(buttons) or len(set(keys)) != len(keys) or not all(keys):
            return "button keys must be unique and non-empty"
        title = (card.get("main_title") or {}).get("title")
        if not title and not card.get("sub_title_text"):
            return "main_title.title or sub_title_text required"
        return None

    async def _update_card(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        call = await self._record(request, body)
        problem = self._check_token(request, call) or self._fault(
            "message/update_template_card", call
        )
        if problem is not None:
            return problem
        if not isinstance(body, dict) or body.get("agentid") != self.agent_id:
            return self._answer(call, ERR_BAD_AGENTID, "invalid agentid")
        code = body.get("response_code")
        if not isinstance(code, str) or code not in self._response_codes:
            return self._answer(call, ERR_BAD_PARAMETER, "invalid or used response_code")
        self._response_codes.discard(code)  # single use
        button = body.get("button")
        if not isinstance(button, dict):
            button = {}
        self.card_updates.append(
            CardUpdate(
                userids=list(body.get("userids") or []),
                response_code=code,
                replace_name=button.get("replace_name"),
                body=body,
            )
        )
        await self._notify()
        return self._answer(call, 0, "ok", invaliduser=[])

    async def _media_upload(self, request: web.Request) -> web.Response:
        kind = request.query.get("type", "")
        data = b""
        filename = ""
        content_type = ""
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, aiohttp.BodyPartReader) and part.name == "media":
                    data = await part.read()
                    filename = part.filename or ""
                    content_type = part.headers.get("Content-Type", "")
        part_info = {"field": "media", "filename": filename, "size": len(data)}
        call = await self._record(request, part_info)
        problem = self._check_token(request, call) or self._fault("media/upload", call)
        if problem is not None:
            return problem
        if kind not in ("image", "voice", "video", "file"):
            return self._answer(call, 40004, "invalid media type")
        if len(data) < 5 or not filename:
            return self._answer(call, ERR_BAD_PARAMETER, "no 'media' file part (>= 5 bytes)")
        media_id = f"simmedia-{next(self._ids)}-{secrets.token_hex(4)}"
        self.media[media_id] = UploadedMedia(media_id, kind, filename, content_type, data)
        return self._answer(
            call, 0, "ok", type=kind, media_id=media_id, created_at=str(int(time.time()))
        )

    # --- platform side -----------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("simulator not started")
        return self._session

    def _callback_target(self) -> str:
        if not self.callback_url:
            raise RuntimeError("set sim.callback_url to the bot's callback URL first")
        return self.callback_url

    async def post_callback(
        self,
        xml_plaintext: str,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
        msg_signature: str | None = None,
        receive_id: str | None = None,
        timeout: float | None = None,
        tries: int | None = None,
    ) -> int:
        """Encrypt, sign and POST a callback like WeCom, retrying like WeCom.

        A try that is not answered 200 within `timeout` (default `callback_timeout`) is
        followed by another, `tries` (default `callback_tries`, 3) in all; the same body is
        resent each time. Returns the last HTTP status, 0 when the bot never answered.
        `msg_signature` and `receive_id` override the real ones to test rejections.
        """
        url = self._callback_target()
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        encrypted = encrypt(xml_plaintext, self.encoding_aes_key, receive_id or self.corp_id)
        signature = msg_signature or crypto.signature(self.token, timestamp, nonce, encrypted)
        body = build_envelope(encrypted, self.corp_id, self.agent_id).encode("utf-8")
        params = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
        delivery = CallbackDelivery(xml=xml_plaintext)
        self.callbacks.append(delivery)
        limit = self.callback_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        for try_no in range(1, (tries or self.callback_tries) + 1):
            started = loop.time()
            try:
                async with self._client().post(
                    url,
                    params=params,
                    data=body,
                    headers={"Content-Type": "text/xml; charset=utf-8"},
                    timeout=aiohttp.ClientTimeout(total=limit),
                ) as resp:
                    text = await resp.text()
                    attempt = CallbackAttempt(try_no, resp.status, text, loop.time() - started)
            except (TimeoutError, aiohttp.ClientError) as exc:
                attempt = CallbackAttempt(
                    try_no, None, "", loop.time() - started, f"{type(exc).__name__}: {exc}"
                )
            delivery.attempts.append(attempt)
            if attempt.status == 200:
                break
        return delivery.status

    async def send_text(
        self,
        from_user: str,
        content: str,
        *,
        msg_id: str | None = None,
        create_time: int | None = None,
    ) -> int:
        """A member types `content` in the app's chat. Returns the bot's HTTP status."""
        msg_id = msg_id or str(next(self._msg_ids))
        self.last_msg_id = msg_id
        xml = text_message_xml(
            to_user=self.corp_id,
            from_user=from_user,
            create_time=create_time or int(time.time()),
            content=content,
            msg_id=msg_id,
            agent_id=self.agent_id,
        )
        return await self.post_callback(xml)

    async def press_button(
        self,
        from_user: str,
        event_key: str,
        task_id: str,
        *,
        response_code: str | None = None,
        card_type: str = "button_interaction",
        create_time: int | None = None,
    ) -> int:
        """A member presses a template-card button. The event carries a fresh, single-use
        `ResponseCode` that `message/update_template_card` accepts."""
        if response_code is None:
            response_code = f"rc-{secrets.token_hex(8)}"
            self._response_codes.add(response_code)
        xml = template_card_event_xml(
            to_user=self.corp_id,
            from_user=from_user,
            create_time=create_time or int(time.time()),
            agent_id=self.agent_id,
            event_key=event_key,
            task_id=task_id,
            response_code=response_code,
            card_type=card_type,
        )
        return await self.post_callback(xml)

    async def enter_agent(self, from_user: str, *, create_time: int | None = None) -> int:
        """A member opens the app's conversation (``enter_agent`` event)."""
        xml = enter_agent_xml(
            to_user=self.corp_id,
            from_user=from_user,
            create_time=create_time or int(time.time()),
            agent_id=self.agent_id,
        )
        return await self.post_callback(xml)

    async def verify_url(
        self,
        echostr_plain: str,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
        msg_signature: str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str]:
        """The URL check WeCom does when the callback URL is saved: GET with an encrypted
        `echostr`; the bot must answer the decrypted plaintext. Returns (status, body)."""
        url = self._callback_target()
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        echostr = encrypt(echostr_plain, self.encoding_aes_key, self.corp_id)
        signature = msg_signature or crypto.signature(self.token, timestamp, nonce, echostr)
        params = {
            "msg_signature": signature,
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        limit = self.callback_timeout if timeout is None else timeout
        async with self._client().get(
            url, params=params, timeout=aiohttp.ClientTimeout(total=limit)
        ) as resp:
            return resp.status, await resp.text()
