"""WeCom callback crypto: the official vectors, and wechatpy as an independent implementation."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from bot.wecom.crypto import (
    WecomCryptoError,
    decode_aes_key,
    decrypt,
    open_message,
    signature,
    verify_signature,
)
from bot.wecom.xmlmsg import parse_envelope, parse_event
from testkit.wecom_messages import build_envelope, encrypt

# Official vector (WeCom encryption appendix; the WXBizMsgCrypt samples in every language).
CORP_ID = "wx5823bf96d3bd56c7"
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
MSG_TIMESTAMP = "1409659813"
MSG_NONCE = "1372623149"
MSG_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
MSG_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdC"
    "Upj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4X"
    "gpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+K"
    "qCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XX"
    "ZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHB"
    "ZZIs2pDBS8R07+qN+E7Q=="
)
MSG_BODY = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
    f"<Encrypt><![CDATA[{MSG_ENCRYPT}]]></Encrypt>"
    "<AgentID><![CDATA[218]]></AgentID></xml>"
)
# URL-check half of the same vector.
URL_TIMESTAMP = "1409659589"
URL_NONCE = "263014780"
URL_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
URL_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)

CHINESE = "拜访后复盘：医生对新适应症的顾虑主要在安全性数据，下次带上III期研究的亚组分析。"


# --- official vectors --------------------------------------------------------------------


def test_official_message_signature() -> None:
    assert signature(TOKEN, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT) == MSG_SIGNATURE
    joined = "".join(sorted([TOKEN, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT]))
    assert hashlib.sha1(joined.encode()).hexdigest() == MSG_SIGNATURE


def test_official_message_decrypts_to_hello_from_mycreate() -> None:
    envelope = parse_envelope(MSG_BODY.encode())
    assert envelope.to_user == CORP_ID
    assert envelope.agent_id == "218"
    xml = open_message(
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        receive_id=CORP_ID,
        msg_signature=MSG_SIGNATURE,
        timestamp=MSG_TIMESTAMP,
        nonce=MSG_NONCE,
        encrypted=envelope.encrypt,
    )
    event = parse_event(xml)
    assert event.to_user == CORP_ID
    assert event.from_user == "mycreate"
    assert event.create_time == 1409659813
    assert event.msg_type == "text"
    assert event.content == "hello"
    assert event.msg_id == "4561255354251345929"
    assert event.agent_id == "218"
    assert event.dedup_key == "4561255354251345929"


def test_official_url_check_vector() -> None:
    assert signature(TOKEN, URL_TIMESTAMP, URL_NONCE, URL_ECHOSTR) == URL_SIGNATURE
    plain = open_message(
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        receive_id=CORP_ID,
        msg_signature=URL_SIGNATURE,
        timestamp=URL_TIMESTAMP,
        nonce=URL_NONCE,
        encrypted=URL_ECHOSTR,
    )
    assert plain == "1616140317555161061"


def test_official_message_wrong_signature_is_refused_before_decrypting() -> None:
    with pytest.raises(WecomCryptoError) as err:
        open_message(
            token=TOKEN,
            encoding_aes_key=AES_KEY,
            receive_id=CORP_ID,
            msg_signature=URL_SIGNATURE,
            timestamp=MSG_TIMESTAMP,
            nonce=MSG_NONCE,
            encrypted=MSG_ENCRYPT,
        )
    assert err.value.reason == "bad-signature"


def test_wechatpy_agrees_on_the_official_vector() -> None:
    wc = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    theirs = wc.decrypt_message(MSG_BODY, MSG_SIGNATURE, MSG_TIMESTAMP, MSG_NONCE)
    assert theirs == decrypt(MSG_ENCRYPT, AES_KEY, CORP_ID)


# --- our encrypt, pinned random ----------------------------------------------------------


def test_encrypt_is_deterministic_given_the_random_prefix() -> None:
    r16 = bytes(range(16))
    a = encrypt("hello", AES_KEY, CORP_ID, random16=r16)
    assert a == encrypt(b"hello", AES_KEY, CORP_ID, random16=r16)
    assert a != encrypt("hello", AES_KEY, CORP_ID)  # random by default
    raw = base64.b64decode(a)
    assert len(raw) % 32 == 0


def test_encrypt_rejects_a_wrong_sized_random_prefix() -> None:
    with pytest.raises(ValueError):
        encrypt("x", AES_KEY, CORP_ID, random16=b"short")


@pytest.mark.parametrize("bad", ["", "short", AES_KEY + "A", AES_KEY[:-1] + "!"])
def test_bad_encoding_aes_key_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ValueError):
        decode_aes_key(bad)


def test_aes_key_decodes_to_32_bytes() -> None:
    assert len(decode_aes_key(AES_KEY)) == 32


# --- cross-check with wechatpy, both directions -------------------------------------------


def _messages() -> list[str]:
    # 1..64 bytes after the fixed 20-byte prefix + CorpID covers every pad value 1..32 twice.
    short = ["a" * n for n in range(1, 65)]
    long = [CHINESE, CHINESE * 7, "混合 mixed 文本\n" * 300, "<xml>" + "测" * 2000 + "</xml>"]
    return short + long


@pytest.mark.parametrize("message", _messages(), ids=lambda m: f"{len(m.encode())}B")
def test_ours_encrypts_wechatpy_decrypts(message: str) -> None:
    ciphertext = encrypt(message, AES_KEY, CORP_ID)
    assert PrpCrypto(decode_aes_key(AES_KEY)).decrypt(ciphertext, CORP_ID) == message
    # and through wechatpy's full path: envelope XML + signature
    body = build_envelope(ciphertext, CORP_ID, 218)
    sig = signature(TOKEN, "1700000000", "42", ciphertext)
    wc = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    assert wc.decrypt_message(body, sig, "1700000000", "42") == message


@pytest.mark.parametrize("message", _messages(), ids=lambda m: f"{len(m.encode())}B")
def test_wechatpy_encrypts_ours_decrypts(message: str) -> None:
    ciphertext = PrpCrypto(decode_aes_key(AES_KEY)).encrypt(message, CORP_ID).decode()
    assert decrypt(ciphertext, AES_KEY, CORP_ID) == message


def test_wechatpy_signed_reply_verifies_with_ours() -> None:
    wc = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    xml = wc.encrypt_message(CHINESE, "98765", "1700000001")
    root = parse_envelope(xml)
    sig = xml.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    verify_signature(TOKEN, "1700000001", "98765", root.encrypt, sig)
    assert decrypt(root.encrypt, AES_KEY, CORP_ID) == CHINESE


def test_every_padding_length_is_used() -> None:
    pads = set()
    for n in range(1, 65):
        ciphertext = encrypt("a" * n, AES_KEY, CORP_ID)
        raw = (
            Cipher(algorithms.AES(decode_aes_key(AES_KEY)), modes.CBC(decode_aes_key(AES_KEY)[:16]))
            .decryptor()
            .update(base64.b64decode(ciphertext))
        )
        pads.add(raw[-1])
    assert pads == set(range(1, 33))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=600), st.binary(min_size=16, max_size=16))
def test_round_trip_any_text(message: str, r16: bytes) -> None:
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot be sent by anyone
    assert decrypt(encrypt(message, AES_KEY, CORP_ID, random16=r16), AES_KEY, CORP_ID) == message


# --- failures, each with its reason -------------------------------------------------------


def _raw_encrypt(plain: bytes) -> str:
    key = decode_aes_key(AES_KEY)
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def _reason(fn: object, *args: str) -> str:
    assert callable(fn)
    with pytest.raises(WecomCryptoError) as err:
        fn(*args)
    return err.value.reason


def test_bad_signature() -> None:
    ciphertext = encrypt("hi", AES_KEY, CORP_ID)
    good = signature(TOKEN, "1", "2", ciphertext)
    verify_signature(TOKEN, "1", "2", ciphertext, good)
    assert _reason(verify_signature, TOKEN, "1", "2", ciphertext, "0" * 40) == "bad-signature"
    assert _reason(verify_signature, TOKEN, "1", "3", ciphertext, good) == "bad-signature"
    assert _reason(verify_signature, TOKEN, "1", "2", ciphertext, "") == "bad-signature"
    assert _reason(verify_signature, TOKEN, "1", "2", ciphertext, "签名") == "bad-signature"


def test_wrong_receive_id() -> None:
    ciphertext = encrypt("hi", AES_KEY, "ww_other_corp")
    assert _reason(decrypt, ciphertext, AES_KEY, CORP_ID) == "bad-receive-id"
    assert _reason(decrypt, MSG_ENCRYPT, AES_KEY, CORP_ID + "x") == "bad-receive-id"


@pytest.mark.parametrize("pad_byte", [0, 33, 200])
def test_pad_value_out_of_range(pad_byte: int) -> None:
    body = b"R" * 16 + struct.pack(">I", 2) + b"hi" + CORP_ID.encode()
    body += b"\x00" * (31 - len(body) % 32) + bytes([pad_byte])
    assert len(body) % 32 == 0
    assert _reason(decrypt, _raw_encrypt(body), AES_KEY, CORP_ID) == "bad-padding"


def test_inconsistent_pad_bytes() -> None:
    body = b"R" * 16 + struct.pack(">I", 2) + b"hi" + CORP_ID.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * (pad - 1) + bytes([pad])
    body = body[:-2] + b"\x01" + body[-1:]  # one wrong byte inside the padding
    assert _reason(decrypt, _raw_encrypt(body), AES_KEY, CORP_ID) == "bad-padding"


def test_wrong_key_does_not_decrypt() -> None:
    other_key = base64.b64encode(bytes(range(32))).decode()[:-1]
    reason = _reason(decrypt, MSG_ENCRYPT, other_key, CORP_ID)
    assert reason in {"bad-padding", "bad-length", "bad-receive-id"}


def test_truncated_base64() -> None:
    assert _reason(decrypt, MSG_ENCRYPT[:-3], AES_KEY, CORP_ID) == "bad-base64"
    assert _reason(decrypt, "not base64 at all!", AES_KEY, CORP_ID) == "bad-base64"


def test_ciphertext_not_whole_blocks() -> None:
    raw = base64.b64decode(MSG_ENCRYPT)
    assert _reason(decrypt, base64.b64encode(raw[:-4]).decode(), AES_KEY, CORP_ID) == ("bad-length")
    assert _reason(decrypt, base64.b64encode(raw[:16]).decode(), AES_KEY, CORP_ID) == ("bad-length")
    assert _reason(decrypt, "", AES_KEY, CORP_ID) == "bad-length"


def test_length_field_past_the_end() -> None:
    body = b"R" * 16 + struct.pack(">I", 10_000) + b"hi" + CORP_ID.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    assert _reason(decrypt, _raw_encrypt(body), AES_KEY, CORP_ID) == "bad-length"


def test_message_not_utf8() -> None:
    ciphertext = encrypt(b"\xff\xfe\xfd", AES_KEY, CORP_ID)
    assert _reason(decrypt, ciphertext, AES_KEY, CORP_ID) == "bad-encoding"


def test_error_carries_reason_in_message() -> None:
    err = WecomCryptoError("bad-padding", "detail")
    assert err.reason == "bad-padding"
    assert "bad-padding" in str(err)
