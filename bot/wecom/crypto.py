"""WeCom callback cryptography (the "WXBizMsgCrypt" scheme), as pure functions.

WeCom signs and encrypts every callback it sends to the app, and expects the URL check's
`echostr` to be decrypted and echoed. The scheme, from WeCom's encryption appendix:

* signature: SHA-1 hex of the lexicographically sorted strings token, timestamp, nonce and the
  base64 ciphertext, concatenated;
* key: base64-decode `EncodingAESKey + "="` (43 characters give 32 bytes); AES-256-CBC with the
  first 16 key bytes as IV;
* plaintext: 16 random bytes + message length (4 bytes, big-endian) + message + receive id
  (the CorpID for a self-built app), PKCS#7-padded to a multiple of **32** bytes (pad values
  1..32; a 16-byte-block unpadder would reject valid messages).

Every failure is raised as `WecomCryptoError` with a short machine-readable `reason`, so the
callback endpoint has exactly one exception to map to an HTTP answer and one field to log;
the underlying library errors (binascii, cryptography, struct, unicode) never leak past here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "BLOCK_SIZE",
    "CryptoErrorReason",
    "WecomCryptoError",
    "decode_aes_key",
    "decrypt",
    "open_message",
    "signature",
    "verify_signature",
]

BLOCK_SIZE = 32
"""WeCom's PKCS#7 block size: pads to a multiple of 32 bytes, not AES's 16."""

_RANDOM_LEN = 16
_LENGTH_LEN = 4

CryptoErrorReason = Literal[
    "bad-signature",
    "bad-padding",
    "bad-receive-id",
    "bad-base64",
    "bad-length",
    "bad-encoding",
    "stale-timestamp",
]


#: what an administrator checks first for each reason, in the log line of a refused request
#: (a WeCom app whose Token or EncodingAESKey was copied wrong refuses every callback)
ADMIN_HINTS: dict[str, str] = {
    "bad-signature": "the signature does not match channels.wecom.token (WECOM_TOKEN): copy "
                     "the app's Token (接收消息 → API 接收) again, or the request is not from "
                     "WeCom",
    "bad-padding": "it does not decrypt with channels.wecom.encoding_aes_key "
                   "(WECOM_ENCODING_AES_KEY): copy the app's EncodingAESKey again, or the "
                   "request is not from WeCom",
    "bad-length": "it does not decrypt with channels.wecom.encoding_aes_key "
                  "(WECOM_ENCODING_AES_KEY): copy the app's EncodingAESKey again",
    "bad-base64": "the encrypted part is not base64: the request is not from WeCom, or a proxy "
                  "changed it",
    "bad-receive-id": "it is addressed to another CorpID: check channels.wecom.corp_id "
                      "(WECOM_CORP_ID)",
    "bad-encoding": "the decrypted message is not UTF-8: the request is not from WeCom",
    "stale-timestamp": "its timestamp is too old: check this machine's clock, or the request "
                       "was replayed",
}


class WecomCryptoError(Exception):
    """A callback that must not be trusted or could not be opened.

    `reason` is one of: ``bad-signature`` (msg_signature does not match), ``bad-padding``
    (PKCS#7 padding invalid: wrong key or tampered ciphertext), ``bad-receive-id`` (decrypted
    fine but addressed to another CorpID), ``bad-base64``, ``bad-length`` (ciphertext not a
    whole number of AES blocks, or the embedded length runs past the plaintext) and
    ``bad-encoding`` (the message is not UTF-8).
    """

    def __init__(self, reason: CryptoErrorReason, detail: str = "") -> None:
        self.reason: CryptoErrorReason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """Turn the 43-character EncodingAESKey into the 32-byte AES key.

    A wrong key is a configuration mistake, not a hostile request, so it raises `ValueError`
    (call this once at start-up to fail fast).
    """
    if len(encoding_aes_key) != 43:
        raise ValueError(f"EncodingAESKey must be 43 characters long, not "
                         f"{len(encoding_aes_key)}: copy it again from the app's API "
                         "receiving settings (接收消息 › API接收) in the WeCom admin console")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("EncodingAESKey is not valid base64") from exc
    if len(key) != 32:  # pragma: no cover - 43 valid base64 chars always give 32 bytes
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA-1 hex of the sorted four strings, concatenated (WeCom's `msg_signature`)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def verify_signature(
    token: str, timestamp: str, nonce: str, encrypted: str, msg_signature: str
) -> None:
    """Raise `WecomCryptoError("bad-signature")` unless `msg_signature` matches.

    Compared in constant time (`hmac.compare_digest`) on bytes, so a non-ASCII query value is
    a plain mismatch rather than a `TypeError`.
    """
    expected = signature(token, timestamp, nonce, encrypted).encode("ascii")
    if not hmac.compare_digest(expected, msg_signature.strip().lower().encode("utf-8")):
        raise WecomCryptoError("bad-signature")


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def decrypt(encrypted_b64: str, encoding_aes_key: str, expected_receive_id: str) -> str:
    """Decrypt a WeCom ciphertext and check it is addressed to `expected_receive_id`.

    Returns the message text (the XML of a callback, or the URL check's echo string).
    """
    key = decode_aes_key(encoding_aes_key)
    try:
        ciphertext = base64.b64decode(encrypted_b64.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WecomCryptoError("bad-base64", str(exc)) from exc
    if len(ciphertext) < BLOCK_SIZE or len(ciphertext) % 16:
        raise WecomCryptoError(
            "bad-length", f"{len(ciphertext)} bytes is not a whole number of AES blocks"
        )
    decryptor = _cipher(key).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()

    pad = padded[-1]
    if not 1 <= pad <= BLOCK_SIZE or padded[-pad:] != bytes([pad]) * pad:
        raise WecomCryptoError("bad-padding")
    content = padded[_RANDOM_LEN:-pad]
    if len(content) < _LENGTH_LEN:
        raise WecomCryptoError("bad-length", "no room for the length field")
    (msg_len,) = struct.unpack(">I", content[:_LENGTH_LEN])
    if _LENGTH_LEN + msg_len > len(content):
        raise WecomCryptoError("bad-length", "message length runs past the plaintext")
    message = content[_LENGTH_LEN : _LENGTH_LEN + msg_len]
    receive_id = content[_LENGTH_LEN + msg_len :]
    if receive_id != expected_receive_id.encode("utf-8"):
        raise WecomCryptoError("bad-receive-id")
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WecomCryptoError("bad-encoding", str(exc)) from exc


def open_message(
    *,
    token: str,
    encoding_aes_key: str,
    receive_id: str,
    msg_signature: str,
    timestamp: str,
    nonce: str,
    encrypted: str,
) -> str:
    """Verify the signature, then decrypt: the whole check for a callback or a URL check.

    For the URL check pass `echostr` as `encrypted`; for a message pass the envelope's
    `<Encrypt>` text. The signature is checked first, so nothing unsigned is ever decrypted.
    """
    verify_signature(token, timestamp, nonce, encrypted, msg_signature)
    return decrypt(encrypted, encoding_aes_key, receive_id)
