"""What WeCom sends to the app, built the way WeCom builds it: the encrypted callback
envelope and the decrypted messages and events inside it.

The bot only ever reads these (bot/wecom/xmlmsg.py parses, bot/wecom/crypto.py decrypts);
building them is the platform's side, needed by the WeCom simulator, the tests and the
benchmarks, so it lives here and not in the production modules.
"""

from __future__ import annotations

import base64
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.wecom.crypto import BLOCK_SIZE, decode_aes_key

RANDOM_LEN = 16  # the random bytes WeCom puts before the message length


def encrypt(
    plaintext: bytes | str,
    encoding_aes_key: str,
    receive_id: str,
    random16: bytes | None = None,
) -> str:
    """Encrypt a message the way WeCom does; returns the base64 ciphertext.

    `random16` pins the 16 leading random bytes (tests, reproducible vectors); by default they
    come from `os.urandom`.
    """
    key = decode_aes_key(encoding_aes_key)
    if random16 is None:
        random16 = os.urandom(RANDOM_LEN)
    if len(random16) != RANDOM_LEN:
        raise ValueError("random16 must be exactly 16 bytes")
    message = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    body = random16 + struct.pack(">I", len(message)) + message + receive_id.encode("utf-8")
    pad = BLOCK_SIZE - len(body) % BLOCK_SIZE  # 1..32, a full block when already aligned
    body += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    ciphertext = encryptor.update(body) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode("ascii")


def cdata(value: str) -> str:
    """Wrap text in CDATA, splitting any `]]>` so the text survives any content."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_envelope(encrypted: str, to_user: str, agent_id: str | int) -> str:
    """The outer callback body WeCom POSTs: `<xml><ToUserName/><AgentID/><Encrypt/></xml>`."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<AgentID>{cdata(str(agent_id))}</AgentID>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    )


def text_message_xml(
    *,
    to_user: str,
    from_user: str,
    create_time: int,
    content: str,
    msg_id: str,
    agent_id: str | int,
) -> str:
    """A decrypted text message, as WeCom sends it."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        f"<MsgId>{msg_id}</MsgId>"
        f"<AgentID>{agent_id}</AgentID></xml>"
    )


def enter_agent_xml(*, to_user: str, from_user: str, create_time: int, agent_id: str | int) -> str:
    """The event WeCom sends when a member opens the app's conversation."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('event')}</MsgType>"
        f"<AgentID>{agent_id}</AgentID>"
        f"<Event>{cdata('enter_agent')}</Event>"
        f"<EventKey>{cdata('')}</EventKey></xml>"
    )


def template_card_event_xml(
    *,
    to_user: str,
    from_user: str,
    create_time: int,
    agent_id: str | int,
    event_key: str,
    task_id: str,
    response_code: str,
    card_type: str = "button_interaction",
) -> str:
    """The event WeCom sends when a member presses a template-card button."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata('template_card_event')}</Event>"
        f"<EventKey>{cdata(event_key)}</EventKey>"
        f"<TaskId>{cdata(task_id)}</TaskId>"
        f"<CardType>{cdata(card_type)}</CardType>"
        f"<ResponseCode>{cdata(response_code)}</ResponseCode>"
        f"<AgentID>{agent_id}</AgentID></xml>"
    )
