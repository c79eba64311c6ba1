"""No secret reaches a log line, at any level: the Telegram token that httpx puts in every
request URL, WeCom's corpsecret, and every secret the configuration names."""

from __future__ import annotations

import logging

import pytest

from bot.config import load_config
from bot.logsafe import REDACTED, protect_logs

TOKEN = "7104224001:AAHk3vXq9-abcdefghijklmnopqrstuvw"


@pytest.fixture
def captured() -> list[str]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    root = logging.getLogger()
    handler = Keep(level=logging.DEBUG)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_tokens_and_configured_secrets_are_redacted_at_debug(captured: list[str],
                                                             tmp_path: object) -> None:
    config_file = tmp_path / "config.yaml"  # type: ignore[operator]
    config_file.write_text(
        "channels:\n"
        "  telegram: {enabled: true, token: '" + TOKEN + "'}\n"
        "  wecom: {enabled: true, corp_id: ww1, agent_id: '1', secret: s3cr3t-wecom-value,"
        " token: cbtoken123, encoding_aes_key: '" + "K" * 43 + "'}\n"
        "database: {url: 'postgresql+psycopg://bot:db-pass-999@127.0.0.1/repcoach'}\n",
        encoding="utf-8")
    config = load_config(config_file)
    installed = protect_logs(config.secrets())
    httpx = logging.getLogger("httpx")
    httpx.info('HTTP Request: POST https://api.telegram.org/bot%s/getMe "HTTP/1.1 200 OK"',
               TOKEN)
    logging.getLogger("bot.wecom.client").debug(
        "GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=%s failed",
        "s3cr3t-wecom-value")
    logging.getLogger("bot.runner").debug("connect postgresql://bot:db-pass-999@127.0.0.1")
    try:
        raise RuntimeError(f"boom https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        logging.getLogger("bot.telegram").exception("send failed")
    for handler in logging.getLogger().handlers:
        handler.removeFilter(installed)
    text = "\n".join(captured)
    for secret in (TOKEN, "s3cr3t-wecom-value", "db-pass-999", "AAHk3vXq9"):
        assert secret not in text, secret
    assert text.count(REDACTED) >= 4, text
