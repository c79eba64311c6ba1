"""A fake Telegram Bot API server on loopback, for end-to-end tests of the real PTB adapter.

Usage::

    async with FakeTelegram(token="123:ABC") as fake:
        app = (ApplicationBuilder().token(fake.token)
               .base_url(fake.base_url).base_file_url(fake.base_file_url).build())
        ...start the application with polling...
        fake.user_sends(42, "hello")                       # a person types into the chat
        [msg] = await fake.wait_for_messages(42, 1)          # what that person now sees
        fake.user_presses(42, msg.message_id, msg.buttons[0][1])

Bot side (``base_url`` = ``http://127.0.0.1:PORT/bot``; PTB appends ``{token}/{method}``):
every method is reachable by GET or POST with a query string, a form-encoded body, a JSON body
or a multipart body, as on the real Bot API, and method names are case-insensitive. Parameters
are decoded the way Telegram reads them: form fields hold JSON for nested values (PTB sends
``reply_markup`` as a JSON string, integers as decimal strings, booleans as ``true``), multipart
parts with a filename are files. Implemented: getMe, deleteWebhook, setWebhook, getWebhookInfo,
getUpdates (long poll, ``offset`` confirmation, 409 when a webhook is set or a newer poll
arrives), sendMessage, sendPhoto, sendDocument, editMessageText, editMessageCaption,
editMessageReplyMarkup, deleteMessage, answerCallbackQuery, setMyCommands, getMyCommands,
deleteMyCommands, sendChatAction, getFile (downloads under ``base_file_url``).

Validation follows Telegram where it catches real bugs: the HTML parse mode is parsed like
Telegram does (an unescaped ``<`` or an unsupported tag such as ``<br>`` is a 400 "can't parse
entities"), text is stripped and limited to 4096 characters after parsing and captions to 1024,
``callback_data`` to 1-64 bytes, callback answers to 200 characters and one answer per query,
edits that change nothing are refused ("message is not modified"), editMessageText without
``reply_markup`` removes the inline keyboard, photos must be real images (PNG, JPEG, GIF, WebP,
BMP), and sending to a chat nobody opened is "chat not found" (see `add_user`).

Every request is kept as a `Call` (`calls`); what each chat shows is kept as `SentMessage`
(`messages_to`, `last_keyboard`, `transcript`). Faults are queued per method with `fail_next`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from aiohttp import hdrs, web

__all__ = [
    "Button",
    "Call",
    "CallbackPress",
    "FakeTelegram",
    "SentMessage",
    "UploadedFile",
    "WebhookDelivery",
]

JSONDict = dict[str, Any]
T = TypeVar("T")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
PHOTO_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = 50 * 1024 * 1024

METHODS = (
    "getMe",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "getUpdates",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "sendChatAction",
    "getFile",
)
_CANONICAL = {name.lower(): name for name in METHODS}

# Form fields Telegram reads as strings even when they look like numbers or JSON.
STRING_FIELDS = frozenset({
    "text", "caption", "parse_mode", "url", "secret_token", "language_code",
    "callback_query_id", "action", "ip_address", "message_effect_id", "business_connection_id",
    "inline_message_id", "photo", "document", "thumbnail", "certificate", "file_id", "emoji",
})

CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})

_STATUS_TEXT = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


# --- records ---------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """One multipart part that carried a file."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One HTTP request to the Bot API, in arrival order, and what the fake answered."""

    method: str  # canonical name ("sendMessage"), or the path segment as sent if unknown
    params: JSONDict  # decoded: ints are ints, reply_markup is a dict, text stays a string
    files: dict[str, UploadedFile]  # multipart parts with a filename, by part name
    http_method: str
    content_type: str  # "application/x-www-form-urlencoded", "multipart/form-data", ...
    token: str
    at: float  # event-loop time the request arrived
    status: int = 0  # HTTP status answered; 0 while a long poll is still open
    response: JSONDict | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def error(self) -> str | None:
        if self.response is None or self.response.get("ok"):
            return None
        return str(self.response.get("description"))


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None
    url: str | None
    raw: JSONDict


@dataclass
class SentMessage:
    """A message in a chat, in its current state (edits applied).

    `text` is what the person reads: the text or the caption after parse-mode markup was
    parsed (tags gone, ``&lt;`` unescaped, surrounding whitespace stripped); `source` is the
    string the bot sent and `parse_mode` how it asked for it to be read.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    kind: str  # "text", "photo" or "document"
    text: str
    source: str
    parse_mode: str | None
    entities: list[JSONDict]
    reply_markup: JSONDict | None
    date: int
    sender: JSONDict = field(repr=False)
    chat: JSONDict = field(repr=False)
    file: UploadedFile | None = None
    media: Any = field(default=None, repr=False)  # photo sizes (list) or document (dict)
    edit_date: int | None = None
    history: list[str] = field(default_factory=list)  # earlier visible texts, oldest first
    deleted: bool = False

    @property
    def keyboard(self) -> list[list[Button]]:
        """The inline keyboard, row by row; empty without one."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [
            [Button(str(b.get("text", "")), b.get("callback_data"), b.get("url"), b)
             for b in row]
            for row in rows
        ]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every callback button, in reading order."""
        return [(b.text, b.callback_data) for row in self.keyboard for b in row
                if b.callback_data is not None]

    @property
    def caption(self) -> str | None:
        return self.text if self.kind != "text" and self.text else None

    def to_json(self) -> JSONDict:
        """The Telegram Message object for the current state."""
        data: JSONDict = {
            "message_id": self.message_id,
            "from": copy.deepcopy(self.sender),
            "chat": copy.deepcopy(self.chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.kind == "text":
            data["text"] = self.text
            if self.entities:
                data["entities"] = copy.deepcopy(self.entities)
        else:
            data[self.kind] = copy.deepcopy(self.media)
            if self.text:
                data["caption"] = self.text
                if self.entities:
                    data["caption_entities"] = copy.deepcopy(self.entities)
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = copy.deepcopy(self.reply_markup)
        return data


@dataclass
class CallbackPress:
    """A button press the fake delivered, and the bot's answerCallbackQuery if any."""

    query_id: str
    update_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: JSONDict | None = None  # the answerCallbackQuery params


@dataclass
class WebhookDelivery:
    update_id: int
    url: str
    secret_sent: str | None
    status: int
    body: str


@dataclass
class _Queued:
    update: JSONDict
    again: bool = False  # a deliver_again copy: immune to offset until handed out once
    handed_out: int = 0

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSONDict | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    path: str
    data: bytes


@dataclass
class _Input:
    """A file parameter: uploaded now, a file_id sent before, or a URL Telegram would fetch."""

    part: UploadedFile | None = None
    stored: _StoredFile | None = None
    url: str | None = None

    @property
    def data(self) -> bytes:
        if self.part is not None:
            return self.part.data
        return self.stored.data if self.stored is not None else b""


class ApiError(Exception):
    """An error answer: HTTP status and Telegram's description."""

    def __init__(self, status: int, description: str,
                 parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --- parameter helpers -----------------------------------------------------------------------


def _decode_field(name: str, value: str) -> Any:
    """A form field as Telegram reads it: JSON for numbers, booleans and nested values."""
    if name in STRING_FIELDS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, str) or (isinstance(decoded, float) and decoded != decoded):
        return value
    return decoded


def _opt_int(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad(f"wrong parameter {name} in request")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise _bad(f"wrong parameter {name} in request")


def _int(params: Mapping[str, Any], name: str, empty: str | None = None) -> int:
    value = _opt_int(params, name)
    if value is None:
        raise _bad(empty or f"{name} is empty")
    return value


def _opt_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise _bad(f"wrong parameter {name} in request")
    return value if isinstance(value, str) else json.dumps(value)


def _bool(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _opt_float(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(f"wrong parameter {name} in request") from None


def _json_field(params: Mapping[str, Any], name: str) -> Any:
    """A nested field: PTB sends JSON text in forms, JSON bodies carry it directly."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- HTML parse mode -------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Plain text and entities of an HTML-mode message, or an ApiError as Telegram gives."""
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, JSONDict]] = []
    entities: list[JSONDict] = []
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i)
            if end < 0:
                raise _bad(f"can't parse entities: Unclosed start tag at byte offset "
                           f"{byte_offset(i)}")
            inner = source[i + 1:end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _bad(f"can't parse entities: Unexpected end tag at byte offset "
                               f"{byte_offset(i)}")
                open_name, start, attrs = stack.pop()
                if name != open_name:
                    raise _bad(f'can\'t parse entities: Unmatched end tag at byte offset '
                               f'{byte_offset(i)}, expected "</{open_name}>", found '
                               f'"</{name}>"')
                entity = _html_entity(open_name, attrs, start, pos16 - start, stack)
                if entity is not None:
                    entities.append(entity)
            else:
                match = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", inner)
                name = match.group(0).lower() if match else ""
                if name not in _HTML_TAGS:
                    raise _bad(f'can\'t parse entities: Unsupported start tag "{name}" at byte '
                               f'offset {byte_offset(i)}')
                attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                         for m in _ATTR_RE.finditer(inner[len(name):])}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _bad('can\'t parse entities: Tag "span" must have class "tg-spoiler" '
                               f'at byte offset {byte_offset(i)}')
                stack.append((name, pos16, attrs))
            i = end + 1
            continue
        if char == "&":
            match = _ENTITY_RE.match(source, i)
            if match:
                ref = match.group(1)
                text: str | None
                if ref.startswith("#x"):
                    text = chr(int(ref[2:], 16)) if int(ref[2:], 16) <= 0x10FFFF else None
                elif ref.startswith("#"):
                    text = chr(int(ref[1:])) if int(ref[1:]) <= 0x10FFFF else None
                else:
                    text = _NAMED_ENTITIES.get(ref.lower())
                if text is not None:
                    out.append(text)
                    pos16 += _utf16_len(text)
                    i = match.end()
                    continue
        out.append(char)
        pos16 += _utf16_len(char)
        i += 1
    if stack:
        raise _bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag '
                   f'"{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(name: str, attrs: Mapping[str, str], offset: int, length: int,
                 outer: list[tuple[str, int, JSONDict]]) -> JSONDict | None:
    if length <= 0:
        return None
    kind = _HTML_TAGS[name]
    entity: JSONDict = {"type": kind, "offset": offset, "length": length}
    if name == "a":
        href = attrs.get("href")
        if not href:
            return None
        entity["url"] = href
    elif name == "code" and outer and outer[-1][0] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            outer[-1][2]["language"] = language.removeprefix("language-")
        return None
    elif name == "pre" and "language" in attrs:
        entity["language"] = attrs["language"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return entity


def _strip(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram trims surrounding whitespace; entities move with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[:len(text) - len(text.lstrip())])
    size = _utf16_len(stripped)
    kept: list[JSONDict] = []
    for entity in entities:
        start = max(int(entity["offset"]) - lead, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --- images ----------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a PNG, JPEG, GIF, WebP or BMP image; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "bmp", abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "webp", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return ("webp", int.from_bytes(data[24:27], "little") + 1,
                    int.from_bytes(data[27:30], "little") + 1)
        return None
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2:i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if i + 9 > len(data):
                    return None
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", width, height
            i += 2 + length
    return None


def _photo_sizes(width: int, height: int, size: int,
                 new_file: Callable[[str], _StoredFile]) -> list[JSONDict]:
    """Telegram's ladder of sizes: thumbnails up to the original, capped at 2560."""
    sizes: list[JSONDict] = []
    longest = max(width, height)
    for limit in (90, 320, 800, 1280, 2560):
        scale = min(1.0, limit / longest)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        stored = new_file("photos")
        fraction = (w * h) / max(1, width * height)
        sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                      "file_size": max(1, int(size * fraction)), "width": w, "height": h})
        if limit >= longest:
            break
    return sizes


# --- the server ------------------------------------------------------------------------------


class FakeTelegram:
    """Loopback fake of the Telegram Bot API (see the module docstring)."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "repcoach_test_bot",
        bot_first_name: str = "RepCoach",
        host: str = "127.0.0.1",
        first_update_id: int = 700_000_001,
        require_https_webhook: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.host = host
        self.require_https_webhook = require_https_webhook
        self._clock = clock
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 777
        self.bot_user: JSONDict = {
            "id": bot_id, "is_bot": True, "first_name": bot_first_name, "username": bot_username,
        }

        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []

        self._calls: list[Call] = []
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._updates: dict[int, JSONDict] = {}
        self._queue: list[_Queued] = []
        self._allowed_updates: list[str] | None = None
        self._presses: dict[str, CallbackPress] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._faults: dict[str, deque[_Fault]] = {name: deque() for name in METHODS}
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(4_712_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._poller: object | None = None
        self._event = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0
        self._handlers: dict[str, Callable[[Call], Any]] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
        }

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=UPLOAD_MAX_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        self._closing = True
        self._changed()  # open long polls answer [] at once
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("FakeTelegram not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`: PTB appends ``{token}/{method}``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)`: PTB appends ``{token}/{file_path}``."""
        return f"http://{self.host}:{self.port}/file/bot"

    def method_url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}{token if token is not None else self.token}/{method}"

    # --- inspection ----------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request so far, in order; only those to `method` (any case) if given."""
        if method is None:
            return list(self._calls)
        wanted = _CANONICAL.get(method.lower(), method)
        return [c for c in self._calls if c.method == wanted]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """What the person sees from the bot in `chat_id`: bot messages, oldest first, with
        edits applied and their current inline keyboards; deleted ones left out."""
        return sorted(
            (m for (chat, _), m in self._messages.items()
             if chat == chat_id and m.from_bot and not m.deleted),
            key=lambda m: m.message_id,
        )

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """Any message of the chat (the bot's or the person's) by id, current state."""
        try:
            return self._messages[(chat_id, message_id)]
        except KeyError:
            raise KeyError(f"no message {message_id} in chat {chat_id}") from None

    def last_keyboard_message(self, chat_id: int) -> SentMessage | None:
        """The newest bot message in `chat_id` whose current inline keyboard has buttons."""
        for message in reversed(self.messages_to(chat_id)):
            if message.keyboard and any(message.keyboard):
                return message
        return None

    def last_keyboard(self, chat_id: int) -> list[tuple[str, str]]:
        """(text, callback_data) of the callback buttons of `last_keyboard_message`; [] if
        no message in the chat has a keyboard any more."""
        message = self.last_keyboard_message(chat_id)
        return message.buttons if message is not None else []

    def transcript(self, chat_id: int) -> list[str]:
        """The chat as lines, for assertion messages: ``> person``, ``< bot [buttons]``."""
        lines: list[str] = []
        for (chat, _), message in sorted(self._messages.items(), key=lambda kv: kv[0][1]):
            if chat != chat_id or message.deleted:
                continue
            text = message.text if message.kind == "text" else f"[{message.kind}] {message.text}"
            buttons = " | ".join(f"{label}={data}" for label, data in message.buttons)
            line = ("< " if message.from_bot else "> ") + text
            lines.append(f"{line} [{buttons}]" if buttons else line)
        return lines

    def callback_presses(self) -> list[CallbackPress]:
        return list(self._presses.values())

    def unanswered_callbacks(self) -> list[CallbackPress]:
        """Presses delivered to the bot without an answerCallbackQuery (the spinner stays)."""
        return [p for p in self._presses.values() if not p.answered]

    def commands(self, language_code: str = "",
                 scope: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """(command, description) set by setMyCommands for that language and scope."""
        stored = self._commands.get((self._scope_key(scope), language_code), [])
        return [(str(c["command"]), str(c["description"])) for c in stored]

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates (or accepted by the webhook)."""
        return [copy.deepcopy(q.update) for q in self._queue]

    def update(self, update_id: int) -> JSONDict:
        return copy.deepcopy(self._updates[update_id])

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    # --- waiting -------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0,
                       what: str | None = None) -> T:
        """Wait until `predicate()` is truthy and return its value.

        Checked after every request the fake answers and at least every 50 ms, so predicates
        on other state (a database) work too. Raises AssertionError after `timeout` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for "
                                     f"{what or getattr(predicate, '__name__', 'condition')}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    async def wait_for_messages(self, chat_id: int, count: int,
                                timeout: float = 5.0) -> list[SentMessage]:
        """Wait until the bot has at least `count` visible messages in `chat_id`; all of them."""
        try:
            await self.wait_for(lambda: len(self.messages_to(chat_id)) >= count, timeout)
        except AssertionError:
            lines = "\n  ".join(self.transcript(chat_id)) or "(empty)"
            raise AssertionError(
                f"expected {count} bot messages in chat {chat_id} within {timeout}s, got "
                f"{len(self.messages_to(chat_id))}; chat:\n  {lines}"
            ) from None
        return self.messages_to(chat_id)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0,
                             ok: bool = True) -> list[Call]:
        """Wait until `count` answered calls to `method` (successful ones if `ok`)."""
        def matching() -> list[Call]:
            return [c for c in self.calls(method) if c.status and (c.ok or not ok)]

        await self.wait_for(lambda: len(matching()) >= count, timeout,
                            what=f"{count} call(s) to {method}")
        return matching()

    def _changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    # --- the person's side ---------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str | None = None, *,
                 last_name: str | None = None, username: str | None = None,
                 language_code: str | None = "zh-hans") -> JSONDict:
        """Register a person with an open private chat (they pressed Start some time ago).
        Names not given keep their earlier values."""
        known = self._users.get(user_id, {})
        user: JSONDict = {"id": user_id, "is_bot": False,
                          "first_name": first_name or known.get("first_name", f"Rep{user_id}")}
        for key, value in (("last_name", last_name), ("username", username)):
            if value or known.get(key):
                user[key] = value or known[key]
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        chat: JSONDict = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user_id] = chat
        return copy.deepcopy(user)

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to them answer 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def user_sends(self, user_id: int, text: str, first_name: str | None = None, *,
                   last_name: str | None = None, username: str | None = None,
                   language_code: str | None = "zh-hans", chat_id: int | None = None) -> int:
        """The person sends `text` (in their private chat, or in group `chat_id`); enqueue the
        message Update and return its update_id. A leading ``/command`` gets its entity."""
        user = self.add_user(user_id, first_name, last_name=last_name, username=username,
                             language_code=language_code)
        chat = self._chat_for_user(user_id, chat_id)
        message_id = self._new_message_id(int(chat["id"]))
        entities: list[JSONDict] = []
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0,
                             "length": _utf16_len(command.group(0))})
        message = SentMessage(
            chat_id=int(chat["id"]), message_id=message_id, from_bot=False, kind="text",
            text=text, source=text, parse_mode=None, entities=entities, reply_markup=None,
            date=self._now(), sender=user, chat=chat,
        )
        self._messages[(message.chat_id, message_id)] = message
        return self.enqueue({"message": message.to_json()})

    def user_presses(self, user_id: int, message_id: int, callback_data: str, *,
                     chat_id: int | None = None, strict: bool = True) -> int:
        """The person presses the button with `callback_data` under message `message_id`;
        enqueue the callback_query Update (with the message as it is now) and return its id.

        With `strict` the button must be on the message's current keyboard; `strict=False`
        simulates a stale client pressing a button already gone."""
        chat = chat_id if chat_id is not None else user_id
        message = self._messages.get((chat, message_id))
        if message is None or message.deleted or not message.from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat}: "
                             f"{self.transcript(chat)}")
        if strict and callback_data not in [data for _, data in message.buttons]:
            raise ValueError(f"message {message_id} has no button {callback_data!r}; "
                             f"buttons now: {message.buttons}")
        user = self._users.get(user_id) or self.add_user(user_id)
        query_id = str(next(self._query_ids))
        update_id = self.enqueue({"callback_query": {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": message.to_json(),
            "chat_instance": str(-(abs(chat) * 7919 + 1_000_003)),
            "data": callback_data,
        }})
        self._presses[query_id] = CallbackPress(query_id, update_id, user_id, chat, message_id,
                                                callback_data)
        return update_id

    def enqueue(self, update: Mapping[str, Any]) -> int:
        """Enqueue a raw Update (an update_id is assigned unless given); return its id."""
        body = copy.deepcopy(dict(update))
        update_id = int(body.get("update_id") or next(self._update_ids))
        body["update_id"] = update_id
        self._updates[update_id] = body
        self._queue.append(_Queued(copy.deepcopy(body)))
        self._changed()
        return update_id

    def deliver_again(self, update_id: int) -> int:
        """Enqueue an identical copy of update `update_id` (same id), as Telegram does when it
        was not confirmed in time. The copy is handed out once even if the bot's offset has
        passed it already."""
        if update_id not in self._updates:
            raise KeyError(f"unknown update {update_id}")
        self._queue.append(_Queued(copy.deepcopy(self._updates[update_id]), again=True))
        self._changed()
        return update_id

    async def push_webhook_update(self, update: int | Mapping[str, Any], *,
                                  secret_token: str | None = None, omit_secret: bool = False,
                                  url: str | None = None, timeout: float = 10.0) -> int:
        """POST an update (an id from `user_sends`/`user_presses`, or a raw Update) to the
        webhook set with setWebhook, as Telegram does; return the HTTP status.

        The header ``X-Telegram-Bot-Api-Secret-Token`` carries the registered secret, or
        `secret_token` if given, or nothing with `omit_secret`. A 2xx answer removes the update
        from the pending queue. Every try is kept in `webhook_deliveries`."""
        if self._session is None:
            raise RuntimeError("FakeTelegram not started")
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook set (setWebhook not called) and no url given")
        body = (copy.deepcopy(self._updates[update]) if isinstance(update, int)
                else copy.deepcopy(dict(update)))
        if "update_id" not in body:
            body["update_id"] = next(self._update_ids)
        secret = None if omit_secret else (secret_token if secret_token is not None
                                           else self.webhook_secret_token)
        headers: dict[str, str] = {hdrs.CONTENT_TYPE: "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with self._session.post(target, data=json.dumps(body, ensure_ascii=False),
                                      headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            text = await response.text()
            status = response.status
        update_id = int(body["update_id"])
        self.webhook_deliveries.append(WebhookDelivery(update_id, target, secret, status, text))
        if 200 <= status < 300:
            for queued in self._queue:
                if queued.update_id == update_id:
                    self._queue.remove(queued)
                    break
        self._changed()
        return status

    # --- fault injection -----------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1,
                  description: str | None = None) -> None:
        """Answer the next `times` calls to `method` with an error in Telegram's shape.

        429 carries ``parameters.retry_after`` (PTB raises RetryAfter); other statuses (400,
        403, 500, 502, ...) carry `description`, default "<status phrase>". Faults apply after
        the token was checked and are queued per method, in order."""
        name = _CANONICAL.get(method.lower())
        if name is None:
            raise ValueError(f"unknown method {method!r}; one of {METHODS}")
        if status == 429:
            fault = _Fault(status, description or f"Too Many Requests: retry after {retry_after}",
                           {"retry_after": retry_after})
        else:
            phrase = _STATUS_TEXT.get(status, "Error")
            fault = _Fault(status, description or phrase, None)
        self._faults[name].extend(fault for _ in range(times))

    # --- HTTP ----------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _read_params(self, request: web.Request
                           ) -> tuple[JSONDict, dict[str, UploadedFile], str]:
        params: JSONDict = {k: _decode_field(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        content_type = request.content_type if request.body_exists else ""
        if not request.body_exists:
            return params, files, content_type
        if content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                body = json.loads(raw.decode("utf-8"))
                if not isinstance(body, dict):
                    raise _bad("JSON body must be an object")
                params.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if part.filename is not None:
                    files[part.name] = UploadedFile(part.name, part.filename,
                                                    part.headers.get(hdrs.CONTENT_TYPE), data)
                else:
                    value = data.decode(part.get_charset(default="utf-8"))
                    params[part.name] = _decode_field(part.name, value)
        else:  # application/x-www-form-urlencoded, or anything Telegram would read as a form
            form = await request.post()
            for key, field_value in form.items():
                if isinstance(field_value, str):
                    params[key] = _decode_field(key, field_value)
        return params, files, content_type

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        name = request.match_info["method"]
        canonical = _CANONICAL.get(name.lower())
        loop_time = asyncio.get_running_loop().time()
        try:
            params, files, content_type = await self._read_params(request)
            parse_error: ApiError | None = None
        except (ValueError, ApiError) as exc:
            params, files, content_type = {}, {}, request.content_type
            parse_error = exc if isinstance(exc, ApiError) else _bad(f"can't parse JSON: {exc}")
        call = Call(canonical or name, params, files, request.method, content_type, token,
                    loop_time)
        self._calls.append(call)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if canonical is None:
                raise ApiError(404, "Not Found")
            if parse_error is not None:
                raise parse_error
            if self._faults[canonical]:
                fault = self._faults[canonical].popleft()
                raise ApiError(fault.status, fault.description, fault.parameters)
            if canonical == "getUpdates":
                result = await self._get_updates(call)
            else:
                result = self._handlers[canonical](call)
            body: JSONDict = {"ok": True, "result": result}
            status = 200
        except ApiError as exc:
            body, status = exc.body(), exc.status
        call.status, call.response = status, body
        self._changed()
        return web.json_response(body, status=status, dumps=_dumps)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.path == path:
                return web.Response(body=stored.data)
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    # --- chats and messages --------------------------------------------------------------

    def _chat_for_user(self, user_id: int, chat_id: int | None) -> JSONDict:
        if chat_id is None or chat_id == user_id:
            return self._chats[user_id]
        if chat_id not in self._chats:
            kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
            self._chats[chat_id] = {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        return self._chats[chat_id]

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _target_chat(self, params: Mapping[str, Any]) -> JSONDict:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        chat_id = _opt_int(params, "chat_id") if not (
            isinstance(raw, str) and raw.startswith("@")) else None
        if chat_id is None or chat_id not in self._chats:
            raise _bad("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self._chats[chat_id]

    def _bot_message(self, params: Mapping[str, Any], missing: str) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad("inline messages are not supported by FakeTelegram")
        chat = self._target_chat(params)
        message_id = _int(params, "message_id", "message identifier is not specified")
        message = self._messages.get((int(chat["id"]), message_id))
        if message is None or message.deleted:
            raise _bad(missing)
        if not message.from_bot:
            raise _bad("message can't be edited")
        return message

    def _formatted(self, params: Mapping[str, Any], key: str,
                   entities_key: str) -> tuple[str, str, str | None, list[JSONDict]]:
        """(visible text, source, parse_mode, entities) of a text or caption parameter."""
        source = _opt_str(params, key) or ""
        parse_mode = _opt_str(params, "parse_mode") or None
        entities: list[JSONDict]
        if parse_mode is not None and parse_mode.lower() == "html":
            text, entities = parse_html(source)
        elif parse_mode is not None and parse_mode.lower() not in ("markdown", "markdownv2"):
            raise _bad(f"unsupported parse_mode {parse_mode!r}")
        else:  # plain, or Markdown which the fake does not parse
            given = _json_field(params, entities_key)
            text, entities = source, list(given) if isinstance(given, list) else []
        text, entities = _strip(text, entities)
        return text, source, parse_mode, entities

    @staticmethod
    def _markup(params: Mapping[str, Any], inline_only: bool = False) -> JSONDict | None:
        markup = _json_field(params, "reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only or not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
                raise _bad("can't parse inline keyboard button: InlineKeyboardMarkup expected")
            return dict(markup)
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse inline keyboard button: Field \"inline_keyboard\" of the "
                       "InlineKeyboardMarkup must be an Array of Arrays")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad("can't parse inline keyboard button: Text must be a String")
                actions = set(button) - {"text"}
                if not actions:
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed "
                               "in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and (not isinstance(data, str)
                                         or not 1 <= len(data.encode("utf-8"))
                                         <= CALLBACK_DATA_LIMIT):
                    raise _bad("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"(https?|tg)://\S+$", str(url)):
                    raise _bad("BUTTON_URL_INVALID")
        if not any(rows):
            return None  # an empty inline keyboard is no keyboard
        return dict(markup)

    def _store(self, chat: JSONDict, kind: str, text: str, source: str, parse_mode: str | None,
               entities: list[JSONDict], markup: JSONDict | None,
               file: UploadedFile | None = None, media: Any = None) -> SentMessage:
        chat_id = int(chat["id"])
        message = SentMessage(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), from_bot=True, kind=kind,
            text=text, source=source, parse_mode=parse_mode, entities=entities,
            reply_markup=markup, date=self._now(), sender=self.bot_user, chat=chat, file=file,
            media=media,
        )
        self._messages[(chat_id, message.message_id)] = message
        return message

    def _new_file(self, folder: str, data: bytes, extension: str) -> _StoredFile:
        number = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"AgAC{secrets.token_hex(10)}{number}",
            file_unique_id=f"AQAD{secrets.token_hex(4)}{number}",
            path=f"{folder}/file_{number}.{extension}",
            data=data,
        )
        self._files[stored.file_id] = stored
        return stored

    def _input_file(self, call: Call, field_name: str) -> _Input:
        """The uploaded part for `field_name` (directly or via attach://), a file_id sent
        before, or an HTTP URL."""
        if field_name in call.files:
            return _Input(part=call.files[field_name])
        value = _opt_str(call.params, field_name)
        if not value:
            raise _bad(f"there is no {field_name} in the request")
        if value.startswith("attach://"):
            part = call.files.get(value.removeprefix("attach://"))
            if part is None:
                raise _bad(f"wrong HTTP URL specified: {value}")
            return _Input(part=part)
        if value in self._files:
            return _Input(stored=self._files[value])
        if re.match(r"https?://\S+$", value):
            return _Input(url=value)
        raise _bad("wrong file identifier/HTTP URL specified")

    # --- methods -------------------------------------------------------------------------

    def _get_me(self, call: Call) -> JSONDict:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def _delete_webhook(self, call: Call) -> bool:
        self.webhook_url, self.webhook_secret_token = "", None
        if _bool(call.params, "drop_pending_updates"):
            self._queue.clear()
        return True

    def _set_webhook(self, call: Call) -> bool:
        url = _opt_str(call.params, "url") or ""
        secret = _opt_str(call.params, "secret_token")
        if url:
            scheme = "https" if self.require_https_webhook else "https?"
            if not re.match(rf"{scheme}://[^/\s]+", url):
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("bad webhook: secret token contains unallowed characters")
        allowed = _json_field(call.params, "allowed_updates")
        if _bool(call.params, "drop_pending_updates"):
            self._queue.clear()
        self.webhook_url = url
        self.webhook_secret_token = secret if url else None
        if isinstance(allowed, list):
            self.webhook_allowed_updates = [str(a) for a in allowed]
        return True

    def _get_webhook_info(self, call: Call) -> JSONDict:
        info: JSONDict = {"url": self.webhook_url, "has_custom_certificate": False,
                          "pending_update_count": len(self._queue)}
        if self.webhook_url:
            info["max_connections"] = 40
            if self.webhook_allowed_updates is not None:
                info["allowed_updates"] = list(self.webhook_allowed_updates)
        return info

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = self._queue[offset:]
            self._queue = keep
            return
        self._queue = [q for q in self._queue
                       if q.update_id >= offset or (q.again and not q.handed_out)]

    def _take(self, limit: int) -> list[JSONDict]:
        batch: list[JSONDict] = []
        allowed = self._allowed_updates
        for queued in list(self._queue):
            if allowed and not any(kind in queued.update for kind in allowed):
                self._queue.remove(queued)  # Telegram drops updates of types not asked for
                continue
            if len(batch) >= limit:
                break
            queued.handed_out += 1
            batch.append(copy.deepcopy(queued.update))
        return batch

    async def _get_updates(self, call: Call) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = _opt_int(call.params, "offset")
        limit = _opt_int(call.params, "limit") or 100
        limit = max(1, min(limit, 100))
        timeout = max(0.0, _opt_float(call.params, "timeout") or 0.0)
        allowed = _json_field(call.params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        if offset:
            self._confirm(offset)
        me = object()
        self._poller = me
        self._changed()  # an older long poll still open now answers 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._poller is not me:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make "
                                    "sure that only one bot instance is running")
            if self._closing:
                return []
            batch = self._take(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                if self._poller is me:
                    self._poller = None
                return batch
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _send_message(self, call: Call) -> JSONDict:
        chat = self._target_chat(call.params)
        text, source, parse_mode, entities = self._formatted(call.params, "text", "entities")
        if not text:
            raise _bad("message text is empty")
        if len(text) > TEXT_LIMIT:
            raise _bad("message is too long")
        markup = self._markup(call.params)
        return self._store(chat, "text", text, source, parse_mode, entities, markup).to_json()

    def _caption(self, call: Call) -> tuple[str, str, str | None, list[JSONDict]]:
        caption = self._formatted(call.params, "caption", "caption_entities")
        if len(caption[0]) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        return caption

    def _send_photo(self, call: Call) -> JSONDict:
        chat = self._target_chat(call.params)
        source_file = self._input_file(call, "photo")
        text, source, parse_mode, entities = self._caption(call)
        markup = self._markup(call.params)
        data = source_file.data
        found: tuple[str, int, int] | None
        if source_file.url is not None:
            found = ("jpeg", 800, 600)  # Telegram would fetch the URL; the fake does not
        else:
            if not data:
                raise _bad("file must be non-empty")
            if len(data) > PHOTO_MAX_BYTES:
                raise _bad("PHOTO_SAVE_FILE_INVALID")
            found = image_size(data)
        if found is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        _, width, height = found
        if width + height > 10_000 or max(width, height) > 20 * max(1, min(width, height)):
            raise _bad("PHOTO_INVALID_DIMENSIONS")
        sizes = _photo_sizes(width, height, len(data),
                             lambda folder: self._new_file(folder, data, "jpg"))
        return self._store(chat, "photo", text, source, parse_mode, entities, markup,
                           source_file.part, sizes).to_json()

    def _send_document(self, call: Call) -> JSONDict:
        chat = self._target_chat(call.params)
        source_file = self._input_file(call, "document")
        text, source, parse_mode, entities = self._caption(call)
        markup = self._markup(call.params)
        data = source_file.data
        if source_file.part is not None and not data:
            raise _bad("file must be non-empty")
        if len(data) > UPLOAD_MAX_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        part = source_file.part
        if part is not None and part.filename:
            filename = part.filename
        elif source_file.url is not None:
            filename = source_file.url.rsplit("/", 1)[-1] or "document"
        else:
            filename = "document"
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = source_file.stored or self._new_file("documents", data, extension)
        document: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                              "file_name": filename, "file_size": len(data)}
        if part is not None and part.content_type:
            document["mime_type"] = part.content_type
        return self._store(chat, "document", text, source, parse_mode, entities, markup, part,
                           document).to_json()

    def _apply_edit(self, message: SentMessage, text: str, source: str, parse_mode: str | None,
                    entities: list[JSONDict], markup: JSONDict | None) -> JSONDict:
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _bad(NOT_MODIFIED)
        if text != message.text:
            message.history.append(message.text)
        message.text, message.source, message.parse_mode = text, source, parse_mode
        message.entities, message.reply_markup = entities, markup
        message.edit_date = self._now()
        return message.to_json()

    def _edit_message_text(self, call: Call) -> JSONDict:
        message = self._bot_message(call.params, "message to edit not found")
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        text, source, parse_mode, entities = self._formatted(call.params, "text", "entities")
        if not text:
            raise _bad("message text is empty")
        if len(text) > TEXT_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")
        markup = self._markup(call.params, inline_only=True)  # omitted: keyboard removed
        return self._apply_edit(message, text, source, parse_mode, entities, markup)

    def _edit_message_caption(self, call: Call) -> JSONDict:
        message = self._bot_message(call.params, "message to edit not found")
        if message.kind == "text":
            raise _bad("there is no caption in the message to edit")
        text, source, parse_mode, entities = self._caption(call)
        markup = self._markup(call.params, inline_only=True)
        return self._apply_edit(message, text, source, parse_mode, entities, markup)

    def _edit_message_reply_markup(self, call: Call) -> JSONDict:
        message = self._bot_message(call.params, "message to edit not found")
        markup = self._markup(call.params, inline_only=True)
        if markup == message.reply_markup:
            raise _bad(NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_date = self._now()
        return message.to_json()

    def _delete_message(self, call: Call) -> bool:
        chat = self._target_chat(call.params)
        message_id = _int(call.params, "message_id", "message identifier is not specified")
        message = self._messages.get((int(chat["id"]), message_id))
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        message.deleted = True
        return True

    def _answer_callback_query(self, call: Call) -> bool:
        query_id = _opt_str(call.params, "callback_query_id") or ""
        press = self._presses.get(query_id)
        if press is None or press.answered:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = _opt_str(call.params, "text") or ""
        if len(text) > CALLBACK_ANSWER_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")
        press.answered, press.answer = True, dict(call.params)
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope or (isinstance(scope, Mapping) and scope.get("type") == "default"):
            return "default"
        return json.dumps(scope, sort_keys=True)

    def _commands_key(self, call: Call) -> tuple[str, str]:
        language = _opt_str(call.params, "language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("LANG_CODE_INVALID")
        return self._scope_key(_json_field(call.params, "scope")), language

    def _set_my_commands(self, call: Call) -> bool:
        commands = _json_field(call.params, "commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        clean: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand")
            name = str(command.get("command", "")).removeprefix("/")
            description = str(command.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        self._commands[self._commands_key(call)] = clean
        return True

    def _get_my_commands(self, call: Call) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(call), []))

    def _delete_my_commands(self, call: Call) -> bool:
        self._commands.pop(self._commands_key(call), None)
        return True

    def _send_chat_action(self, call: Call) -> bool:
        self._target_chat(call.params)
        if _opt_str(call.params, "action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _get_file(self, call: Call) -> JSONDict:
        stored = self._files.get(_opt_str(call.params, "file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.path}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)

