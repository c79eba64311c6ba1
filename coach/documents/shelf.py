"""Where documents wait to be opened: one file each, behind a signed link that expires.

A link is `BASE/ID.EXPIRES.LOCALE.SIGNATURE`: ID is 128 random bits (the file's name, so
links cannot be guessed from one another), EXPIRES a Unix time, and SIGNATURE an HMAC-SHA256
of the rest under the deployment's secret, so a link cannot be made up or stretched past its
time. The locale rides along so that an expired link is explained in the reader's language.
A file (named by its expiry and ID) is removed once its link has expired; the store is never
asked, so a page opens however busy the database is.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_LOCALES = ("zh", "en")
SECRET_FILE = ".secret"


@dataclass(frozen=True)
class Link:
    url: str
    expires: datetime


@dataclass(frozen=True)
class Opened:
    html: str


@dataclass(frozen=True)
class Refused:
    """Why a link shows no document: not one we made ("forged", a typo included), or past its
    time or removed ("expired"). `locale` is known only for a link we made."""

    reason: Literal["forged", "expired"]
    locale: str | None = None


def _unix(moment: datetime) -> int:
    """A naive UTC moment (what the engine's clock gives) as a Unix time."""
    return calendar.timegm(moment.utctimetuple())


def load_secret(folder: Path, configured: str) -> bytes:
    """The signing key: the configured one, else one kept in the folder (made on first use,
    readable by this user only) so links stay valid across restarts."""
    if configured:
        return configured.encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32), encoding="ascii")
    return path.read_text(encoding="ascii").strip().encode("ascii")


class DocumentShelf:
    def __init__(self, folder: Path, secret: bytes, base_url: str,
                 valid_for: timedelta) -> None:
        self.folder = folder
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.valid_for = valid_for
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def valid_hours(self) -> int:
        return int(self.valid_for.total_seconds() // 3600)

    def _sign(self, body: str) -> str:
        digest = hmac.new(self.secret, body.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def put(self, html: str, locale: str, now: datetime) -> Link:
        """Keep `html` and return its link; links past their time are cleared on the way."""
        self.prune(now)
        doc_id = secrets.token_urlsafe(16)
        expires = now + self.valid_for
        body = f"{doc_id}.{_unix(expires)}.{locale if locale in _LOCALES else 'zh'}"
        (self.folder / f"{_unix(expires)}-{doc_id}.html").write_text(html, encoding="utf-8")
        return Link(f"{self.base_url}/{body}.{self._sign(body)}", expires)

    def open(self, token: str, now: datetime) -> Opened | Refused:
        parts = token.split(".")
        if len(parts) != 4:
            return Refused("forged")
        doc_id, expires, locale, signature = parts
        body = f"{doc_id}.{expires}.{locale}"
        if (not _ID.fullmatch(doc_id) or not expires.isdigit() or locale not in _LOCALES
                or not hmac.compare_digest(self._sign(body), signature)):
            return Refused("forged")
        path = self.folder / f"{expires}-{doc_id}.html"
        if int(expires) <= _unix(now) or not path.is_file():
            path.unlink(missing_ok=True)
            return Refused("expired", locale)
        return Opened(path.read_text(encoding="utf-8"))

    def prune(self, now: datetime) -> int:
        """Remove the documents whose links have expired (each file's name starts with its
        link's expiry, so no clock but the engine's is consulted)."""
        cutoff = _unix(now)
        removed = 0
        for path in self.folder.glob("*-*.html"):
            expires = path.name.split("-", 1)[0]
            if expires.isdigit() and int(expires) <= cutoff:
                path.unlink(missing_ok=True)  # another worker may have removed it first
                removed += 1
        return removed
