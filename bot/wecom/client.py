"""Async client for the WeCom server API, as a self-built app (自建应用) uses it.

Why it looks the way it does:

* **Replies go through the API, not the callback answer.** WeCom retries a callback that is not
  answered within 5 s, so the bot answers 200 at once and sends its reply with this client.
* **The access token is cached** until shortly before `expires_in` (WeCom rate-limits
  `gettoken`), and refreshed once when WeCom says it expired (42001) or is invalid (40014) —
  tokens can be invalidated early, e.g. when another process fetched a new one.
* **Errors are sorted into a few kinds the adapter can act on**: `WecomAuthError` (bad secret,
  untrusted IP: an operator must fix configuration; never retried in a loop),
  `WecomUnavailable` (busy/frequency/concurrency limits that persisted through bounded
  exponential backoff, or the network), `WecomRejected` (any other errcode: the request itself
  is wrong).
* **Per-member throttling.** WeCom accepts at most 30 messages per member per minute from an
  app and silently drops the excess, so the client keeps each member under a configurable limit
  (default 28 per rolling 60 s); excess messages wait, they are never dropped. Messages to one
  member also go out one at a time, in call order, so split parts stay in sequence.
* **Long text is split** on paragraph, then line, then word boundaries into messages of at most
  2048 UTF-8 bytes (WeCom's limit for text and markdown), never inside a character.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import aiohttp

from bot.splitting import split_text, utf8_len
from coach.messages import safe_filename

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MAX_BUTTONS",
    "MAX_CONTENT_BYTES",
    "MediaKind",
    "SendResult",
    "WecomAuthError",
    "WecomClient",
    "WecomError",
    "WecomRejected",
    "WecomUnavailable",
    "split_utf8",
]

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://qyapi.weixin.qq.com"
MAX_CONTENT_BYTES = 2048
"""WeCom's limit for `text.content` and `markdown.content`, in UTF-8 bytes."""
MAX_BUTTONS = 6
"""A `button_interaction` template card holds at most six buttons."""
DUPLICATE_CHECK_SECONDS = 600
"""How far back WeCom looks for the same message when a send asks it to drop repeats."""

MediaKind = Literal["image", "voice", "video", "file"]
_MEDIA_MAX_BYTES: dict[str, int] = {
    "image": 10 * 1024 * 1024,
    "voice": 2 * 1024 * 1024,
    "video": 10 * 1024 * 1024,
    "file": 20 * 1024 * 1024,
}
_MEDIA_MIN_BYTES = 5

_TOKEN_EXPIRED = frozenset({40014, 42001})  # invalid / expired access_token: refresh once
_TRANSIENT = frozenset({-1, 45009, 45033})  # busy, frequency limit, concurrency limit
_ERR_BAD_SECRET = 40001
_ERR_BAD_CORPID = 40013
_ERR_UNTRUSTED_IP = 60020
_ERR_ALL_RECIPIENTS_INVALID = 81013

_TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")


class WecomError(Exception):
    """Base of every error this client raises: the adapter catches this one type.

    `errcode`/`errmsg` are WeCom's when the platform answered, `None`/"" otherwise.
    """

    def __init__(self, message: str, *, errcode: int | None = None, errmsg: str = "") -> None:
        super().__init__(message)
        self.errcode = errcode
        self.errmsg = errmsg


class WecomAuthError(WecomError):
    """Credentials or network placement are wrong (bad secret/CorpID, IP not trusted, token
    rejected even after a refresh). Retrying cannot help: report it to an operator."""


class WecomUnavailable(WecomError):
    """WeCom was busy or rate-limited (-1, 45009, 45033), or unreachable, through every retry.
    The message was not sent; trying later may work."""


class WecomRejected(WecomError):
    """WeCom refused the request itself (any other errcode): bad parameters, unknown member,
    content WeCom will not take. Resending it unchanged would fail again."""


class _Transient(Exception):
    """Internal: a network failure or 5xx/429 answer, retried like errcode -1."""


@dataclass(frozen=True)
class SendResult:
    """What WeCom returned for one sent message.

    `response_code` is set for template cards: it can be used once with
    `update_card_pressed` (as can the `ResponseCode` of the click event).
    """

    msgid: str
    response_code: str | None = None


def split_utf8(text: str, limit: int = MAX_CONTENT_BYTES) -> list[str]:
    """Split `text` into pieces of at most `limit` UTF-8 bytes (WeCom's unit), in order."""
    return split_text(text, limit, utf8_len)


@dataclass
class _Member:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sent: deque[float] = field(default_factory=deque)


class _MemberThrottle:
    """At most `limit` messages per member in any rolling `window` seconds.

    One lock per member makes sends to that member sequential and FIFO; inside it, each message
    takes a slot, sleeping until the oldest slot leaves the window when all are taken.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("throttle limit must be >= 1 and window > 0")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._members: dict[str, _Member] = {}

    @asynccontextmanager
    async def member(self, user: str) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """Hold `user`'s send order; yields `take_slot()` to await before each message."""
        if len(self._members) > 1024:
            self._forget_idle()
        member = self._members.setdefault(user, _Member())

        async def take_slot() -> None:
            while True:
                now = self._clock()
                while member.sent and member.sent[0] <= now - self._window:
                    member.sent.popleft()
                if len(member.sent) < self._limit:
                    member.sent.append(now)
                    return
                wait = member.sent[0] + self._window - now
                log.debug("wecom throttle: member %s waits %.2fs", user, wait)
                await self._sleep(max(wait, 0.0))

        async with member.lock:
            yield take_slot

    def _forget_idle(self) -> None:
        horizon = self._clock() - self._window
        for user, m in list(self._members.items()):
            if not m.lock.locked() and (not m.sent or m.sent[-1] <= horizon):
                del self._members[user]


FormFactory = Callable[[], aiohttp.FormData]


class WecomClient:
    """Sends messages as one WeCom app (`agent_id`) of one corporation.

    `session_factory` builds the `aiohttp.ClientSession` on first use (the client closes it in
    `close()`); tests and the simulator need nothing special, only `api_base_url`.
    `retry_base_delay`, `per_user_window`, `clock` and `sleep` are there so tests run fast.
    """

    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int | str,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        session_factory: Callable[[], aiohttp.ClientSession] | None = None,
        request_timeout: float = 10.0,
        max_attempts: int = 4,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 8.0,
        token_margin: float = 300.0,
        per_user_limit: int = 28,
        per_user_window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.corp_id = corp_id
        self.agent_id = int(agent_id)
        self._secret = secret
        self._base = api_base_url.rstrip("/")
        self._session_factory = session_factory or aiohttp.ClientSession
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_attempts = max_attempts
        self._retry_base_delay = retry_base_delay
        self._retry_max_delay = retry_max_delay
        self._token_margin = token_margin
        self._clock = clock
        self._sleep = sleep
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self._throttle = _MemberThrottle(per_user_limit, per_user_window, clock, sleep)

    # --- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> WecomClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = self._session_factory()
        return self._session

    # --- sending -----------------------------------------------------------------------

    async def send_text(self, user: str, content: str, *,
                        drop_repeat: bool = False) -> list[SendResult]:
        """Send text, split into as many messages as WeCom's 2048-byte limit needs.

        `drop_repeat` asks WeCom to drop it if the same message went to `user` in the last
        DUPLICATE_CHECK_SECONDS (used for replies resent after a crash, which may have
        arrived already); never for ordinary replies, which may rightly repeat."""
        return await self._send_split(user, "text", content, drop_repeat)

    async def send_button_card(
        self,
        user: str,
        title: str,
        description: str,
        buttons: Sequence[tuple[str, str]],
        task_id: str,
        *,
        drop_repeat: bool = False,
    ) -> SendResult:
        """Send a `button_interaction` template card; `buttons` are `(key, text)` pairs.

        A press comes back as a `template_card_event` callback with the key as `EventKey` and
        this `task_id` as `TaskId`. `task_id` must be unique per app (letters, digits, `_-@`,
        at most 128), keys unique and at most 1024 bytes, at most six buttons.
        """
        if not 1 <= len(buttons) <= MAX_BUTTONS:
            raise ValueError(f"a button card holds 1..{MAX_BUTTONS} buttons, got {len(buttons)}")
        if not _TASK_ID.fullmatch(task_id):
            raise ValueError("task_id: 1-128 of letters, digits, '_', '-', '@'")
        keys = [key for key, _ in buttons]
        if len(set(keys)) != len(keys) or any(not k or utf8_len(k) > 1024 for k in keys):
            raise ValueError("button keys must be unique, non-empty and at most 1024 bytes")
        if not title and not description:
            raise ValueError("a button card needs a title or a description")
        card: dict[str, Any] = {
            "card_type": "button_interaction",
            "main_title": {"title": title},
            "task_id": task_id,
            "button_list": [{"text": text, "style": 1, "key": key} for key, text in buttons],
        }
        if description:
            card["sub_title_text"] = description
        async with self._throttle.member(_check_user(user)) as take_slot:
            await take_slot()
            return await self._send_message(user, "template_card", card, drop_repeat)

    async def send_media(self, user: str, kind: Literal["image", "file"], media_id: str, *,
                         drop_repeat: bool = False) -> SendResult:
        """Send an image or file uploaded with `upload_media(kind, ...)`."""
        async with self._throttle.member(_check_user(user)) as take_slot:
            await take_slot()
            return await self._send_message(user, kind, {"media_id": media_id}, drop_repeat)

    async def send_image(self, user: str, media_id: str) -> SendResult:
        return await self.send_media(user, "image", media_id)

    async def send_file(self, user: str, media_id: str) -> SendResult:
        return await self.send_media(user, "file", media_id)

    async def update_card_pressed(
        self, userids: Sequence[str], response_code: str, replace_text: str
    ) -> None:
        """Turn a card's buttons into one grey, unclickable button reading `replace_text`.

        `response_code` comes from the click event (or the send) and works once. Not a
        message, so not throttled.
        """
        body = {
            "userids": list(userids),
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_text},
        }
        await self._call("POST", "message/update_template_card", json_body=body)

    async def upload_media(
        self,
        kind: MediaKind,
        filename: str,
        data: bytes,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Upload a temporary medium (kept 3 days by WeCom); returns its `media_id`."""
        limit = _MEDIA_MAX_BYTES.get(kind)
        if limit is None:
            raise ValueError(f"unknown media kind {kind!r}")
        if not _MEDIA_MIN_BYTES <= len(data) <= limit:
            raise ValueError(f"{kind} must be {_MEDIA_MIN_BYTES}..{limit} bytes, got {len(data)}")

        # WeCom shows the file name to the member: send it as raw UTF-8 (what browsers and
        # urllib3 do), not percent-encoded, which would show up as "%E8%AE%A1...".
        # a name from user data ("王"主任.html, a/b) must not break the multipart header
        safe_name = safe_filename(filename)

        def form() -> aiohttp.FormData:
            fd = aiohttp.FormData(quote_fields=False)
            fd.add_field("media", data, filename=safe_name, content_type=content_type)
            return fd

        answer = await self._call("POST", "media/upload", params={"type": kind}, form_factory=form)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WecomRejected("media/upload answered without a media_id")
        return media_id

    async def _send_split(
        self, user: str, msgtype: Literal["text", "markdown"], content: str,
        drop_repeat: bool = False,
    ) -> list[SendResult]:
        parts = split_utf8(content, MAX_CONTENT_BYTES)
        if not parts:
            raise ValueError("cannot send an empty message")
        results: list[SendResult] = []
        async with self._throttle.member(_check_user(user)) as take_slot:
            for part in parts:
                await take_slot()
                results.append(await self._send_message(user, msgtype, {"content": part},
                                                        drop_repeat))
        return results

    async def _send_message(self, user: str, msgtype: str, payload: dict[str, Any],
                            drop_repeat: bool = False) -> SendResult:
        body = {"touser": user, "msgtype": msgtype, "agentid": self.agent_id, msgtype: payload}
        if drop_repeat:
            body.update(enable_duplicate_check=1,
                        duplicate_check_interval=DUPLICATE_CHECK_SECONDS)
        answer = await self._call("POST", "message/send", json_body=body)
        invalid = str(answer.get("invaliduser") or "")
        if invalid:
            raise WecomRejected(
                f"member {invalid!r} is unknown or outside the app's visible range",
                errcode=_ERR_ALL_RECIPIENTS_INVALID,
            )
        rc = answer.get("response_code")
        return SendResult(
            msgid=str(answer.get("msgid", "")),
            response_code=str(rc) if rc else None,
        )

    # --- access token ------------------------------------------------------------------

    async def _access_token(self) -> str:
        if self._token is not None and self._clock() < self._token_expires_at:
            return self._token
        async with self._token_lock:
            # Another task may have refreshed while this one waited for the lock.
            if self._token is not None and self._clock() < self._token_expires_at:
                return self._token
            answer = await self._call(
                "GET",
                "gettoken",
                params={"corpid": self.corp_id, "corpsecret": self._secret},
                auth=False,
            )
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise WecomAuthError("gettoken answered without an access_token")
            try:
                expires_in = float(answer.get("expires_in", 7200))
            except (TypeError, ValueError):
                expires_in = 7200.0
            margin = min(self._token_margin, expires_in / 2)
            self._token = token
            self._token_expires_at = self._clock() + expires_in - margin
            log.info("wecom: new access token, valid %.0fs", expires_in)
            return token

    def _forget_token(self, stale: str) -> None:
        # Only drop the token that failed: a concurrent task may already hold a newer one.
        if self._token == stale:
            self._token = None
            self._token_expires_at = 0.0

    # --- one API call ------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        form_factory: FormFactory | None = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        """One API call with the whole error policy; returns the JSON answer (errcode 0)."""
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            query = dict(params or {})
            token: str | None = None
            if auth:
                token = await self._access_token()
                query["access_token"] = token
            try:
                answer = await self._request(method, path, query, json_body, form_factory)
            except _Transient as exc:
                if attempt >= self._max_attempts:
                    raise WecomUnavailable(f"{path}: {exc} (after {attempt} tries)") from exc
                await self._backoff(path, attempt, str(exc))
                continue

            errcode, errmsg = _errcode(answer)
            if errcode == 0:
                return answer
            if auth and token is not None and errcode in _TOKEN_EXPIRED:
                if refreshed:
                    raise WecomAuthError(
                        f"{path}: access token rejected right after a refresh ({errcode})",
                        errcode=errcode,
                        errmsg=errmsg,
                    )
                log.info("wecom: access token rejected (%s), refreshing once", errcode)
                refreshed = True
                self._forget_token(token)
                attempt -= 1  # a refresh is not a failed try
                continue
            if errcode == _ERR_BAD_SECRET:
                raise WecomAuthError(
                    f"{path}: invalid secret ({errcode} {errmsg}); check the app's Secret "
                    "and CorpID — not retried",
                    errcode=errcode,
                    errmsg=errmsg,
                )
            if errcode == _ERR_BAD_CORPID:
                raise WecomAuthError(
                    f"{path}: invalid CorpID ({errcode} {errmsg})", errcode=errcode, errmsg=errmsg
                )
            if errcode == _ERR_UNTRUSTED_IP:
                raise WecomAuthError(
                    f"{path}: this server's IP is not in the app's trusted IP list (企业可信IP); "
                    f"add it in the WeCom admin console ({errcode} {errmsg})",
                    errcode=errcode,
                    errmsg=errmsg,
                )
            if errcode in _TRANSIENT:
                if attempt >= self._max_attempts:
                    raise WecomUnavailable(
                        f"{path}: WeCom busy or rate-limited ({errcode} {errmsg}) "
                        f"after {attempt} tries",
                        errcode=errcode,
                        errmsg=errmsg,
                    )
                await self._backoff(path, attempt, f"errcode {errcode}")
                continue
            raise WecomRejected(f"{path}: {errcode} {errmsg}", errcode=errcode, errmsg=errmsg)

    async def _backoff(self, path: str, attempt: int, why: str) -> None:
        delay = min(self._retry_max_delay, self._retry_base_delay * 2 ** (attempt - 1))
        delay *= 1 + random.random() * 0.2  # jitter: spread retries of concurrent senders
        log.warning("wecom %s: %s, retry %d in %.2fs", path, why, attempt, delay)
        await self._sleep(delay)

    async def _request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        json_body: dict[str, Any] | None,
        form_factory: FormFactory | None,
    ) -> dict[str, Any]:
        url = f"{self._base}/cgi-bin/{path}"
        data = form_factory() if form_factory is not None else None
        try:
            async with self._http().request(
                method, url, params=query, json=json_body, data=data, timeout=self._timeout
            ) as resp:
                if resp.status >= 500 or resp.status == 429:
                    raise _Transient(f"HTTP {resp.status}")
                if resp.status != 200:
                    raise WecomRejected(f"{path}: HTTP {resp.status}")
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # ValueError covers a non-JSON body (json.JSONDecodeError).
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, dict):
            raise _Transient("answer is not a JSON object")
        return answer


def _errcode(answer: dict[str, Any]) -> tuple[int, str]:
    raw = answer.get("errcode", 0)
    try:
        code = int(raw)
    except (TypeError, ValueError):
        code = -1
    return code, str(answer.get("errmsg", ""))


def _check_user(user: str) -> str:
    """One member per call: refuse empty ids and WeCom's list/broadcast syntax."""
    if not user or "|" in user or user == "@all":
        raise ValueError(f"not a single WeCom UserID: {user!r}")
    return user
