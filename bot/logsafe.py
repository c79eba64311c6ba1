"""Log records never carry a secret, at any level.

httpx logs every request URL at INFO, and a Telegram Bot API URL holds the bot token
(`…/bot123456:ABC…/getMe`); WeCom's token URL holds `corpsecret=`. This filter rewrites the
rendered message of every record before any handler sees it: the token patterns of both
platforms, and any secret value the configuration names, become `[redacted]`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

#: Telegram bot tokens in URLs, and the query parameters WeCom puts secrets in.
_PATTERNS = (
    re.compile(r"(?<=/bot)\d{5,}:[A-Za-z0-9_-]{20,}"),
    re.compile(r"(?<=corpsecret=)[^&\s\"']+", re.IGNORECASE),
    re.compile(r"(?<=access_token=)[^&\s\"']+", re.IGNORECASE),
)
REDACTED = "[redacted]"


class SecretFilter(logging.Filter):
    """Rewrites each record's message with secrets removed (a filter on every handler)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if scrubbed != message or record.args:
            record.msg, record.args = scrubbed, ()
        return True


def protect_logs(secrets: Iterable[str] = ()) -> SecretFilter:
    """Install the filter on every handler of the root logger (call after basicConfig)."""
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
    return secret_filter
