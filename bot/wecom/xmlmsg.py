"""WeCom callback XML: the encrypted envelope and the decrypted message, parsed safely.

A callback body is `<xml><ToUserName/><AgentID/><Encrypt/></xml>`; `Encrypt` decrypts (see
`bot.wecom.crypto`) to a second XML document, the message or event itself. Both are parsed
here with the standard library's expat, hardened the cheap, explicit way:

* a size limit before anything is parsed (a WeCom text message is at most 2048 bytes of
  content, so 64 KiB leaves ample room and bounds the work a hostile body can cause);
* bytes must be UTF-8, and the document is handed to expat as text, so an `encoding=`
  declaration cannot switch the decoder and smuggle markup past the next check;
* any `<!DOCTYPE` or `<!ENTITY` is refused before parsing: WeCom never sends a DTD, and with no
  DTD there is no entity expansion (billion laughs) and no external entity (XXE).

Failures raise `WecomXmlError` with a `reason`, mirroring `WecomCryptoError`.

Building goes the other way, and only WeCom (here: its simulator) does it:
`testkit/wecom_messages.py`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MAX_XML_BYTES",
    "WecomEnvelope",
    "WecomEvent",
    "WecomXmlError",
    "XmlErrorReason",
    "parse_envelope",
    "parse_event",
]

MAX_XML_BYTES = 64 * 1024
"""Default size limit for an envelope or a decrypted message, in UTF-8 bytes."""

XmlErrorReason = Literal["too-large", "forbidden-dtd", "malformed", "missing-field"]

_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class WecomXmlError(Exception):
    """A callback body (or decrypted message) that is not acceptable WeCom XML.

    `reason` is one of ``too-large``, ``forbidden-dtd`` (DOCTYPE/ENTITY present), ``malformed``
    (not UTF-8, not well-formed, or root is not `<xml>`) and ``missing-field``.
    """

    def __init__(self, reason: XmlErrorReason, detail: str = "") -> None:
        self.reason: XmlErrorReason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class WecomEnvelope:
    """The outer, still-encrypted callback body."""

    to_user: str
    agent_id: str | None
    encrypt: str


@dataclass(frozen=True)
class WecomEvent:
    """A decrypted callback: a message a member sent, or an event (enter_agent, card click).

    Fields are the XML elements WeCom documents, as text (`create_time` as an int); elements
    that a given message type lacks are `None`.
    """

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    content: str | None = None
    msg_id: str | None = None
    agent_id: str | None = None
    event: str | None = None
    event_key: str | None = None
    task_id: str | None = None
    response_code: str | None = None
    card_type: str | None = None

    @property
    def dedup_key(self) -> str:
        """Identity of this callback across WeCom's retries (three tries in all).

        Messages carry a `MsgId`; events do not, so they are identified by sender, second and,
        for card clicks, the pressed key and the card's task id.
        """
        if self.msg_type != "event" and self.msg_id:
            return self.msg_id
        return f"{self.from_user}:{self.create_time}:{self.event_key or ''}:{self.task_id or ''}"

    @property
    def is_text(self) -> bool:
        return self.msg_type == "text"

    @property
    def is_card_click(self) -> bool:
        return self.msg_type == "event" and self.event == "template_card_event"


def _parse_root(body: bytes | str, max_bytes: int) -> ET.Element:
    if isinstance(body, bytes):
        if len(body) > max_bytes:
            raise WecomXmlError("too-large", f"{len(body)} bytes > {max_bytes}")
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise WecomXmlError("malformed", "not UTF-8") from exc
    else:
        text = body
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise WecomXmlError("too-large", f"more than {max_bytes} bytes")
    if _FORBIDDEN.search(text):
        raise WecomXmlError("forbidden-dtd")
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError) as exc:  # ValueError: e.g. lone surrogates
        raise WecomXmlError("malformed", str(exc)) from exc
    if root.tag != "xml":
        raise WecomXmlError("malformed", f"root element is <{root.tag}>, not <xml>")
    return root


def _text(root: ET.Element, tag: str) -> str | None:
    el = root.find(tag)
    if el is None:
        return None
    return (el.text or "").strip() if tag != "Content" else (el.text or "")


def _required(root: ET.Element, tag: str) -> str:
    value = _text(root, tag)
    if not value:
        raise WecomXmlError("missing-field", tag)
    return value


def parse_envelope(body: bytes | str, *, max_bytes: int = MAX_XML_BYTES) -> WecomEnvelope:
    """Parse the POSTed callback body; `Encrypt` is required, the rest informative."""
    root = _parse_root(body, max_bytes)
    return WecomEnvelope(
        to_user=_text(root, "ToUserName") or "",
        agent_id=_text(root, "AgentID") or None,
        encrypt=_required(root, "Encrypt"),
    )


def parse_event(xml: bytes | str, *, max_bytes: int = MAX_XML_BYTES) -> WecomEvent:
    """Parse a decrypted message or event.

    `ToUserName`, `FromUserName`, `CreateTime` (an integer) and `MsgType` are required.
    """
    root = _parse_root(xml, max_bytes)
    raw_time = _required(root, "CreateTime")
    try:
        create_time = int(raw_time)
    except ValueError as exc:
        raise WecomXmlError("malformed", f"CreateTime {raw_time!r} is not an integer") from exc
    return WecomEvent(
        to_user=_required(root, "ToUserName"),
        from_user=_required(root, "FromUserName"),
        create_time=create_time,
        msg_type=_required(root, "MsgType"),
        content=_text(root, "Content"),
        msg_id=_text(root, "MsgId") or None,
        agent_id=_text(root, "AgentID") or None,
        event=_text(root, "Event") or None,
        event_key=_text(root, "EventKey") or None,
        task_id=_text(root, "TaskId") or None,
        response_code=_text(root, "ResponseCode") or None,
        card_type=_text(root, "CardType") or None,
    )
