"""`repcoach run` for real: the installed entry point in its own process, polling the fake Bot
API over loopback, on a SQLite file made by `db upgrade`, with a rep enrolled by the CLI.

The rep enrolls with `/start CODE`, takes the whole self-reflection by pressing the buttons
the bot actually sent, gets the chart as a photo, and SIGTERM stops the process cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from coach.charts import can_draw_chinese, labels_in
from coach.library import Library, load_library
from testkit.fakes.telegram_api import FakeTelegram, image_size
from testkit.telegram_support import TOKEN, Person

ROOT = Path(__file__).resolve().parent.parent
REP = 4242


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REPCOACH_DATABASE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    env["TELEGRAM_BOT_TOKEN"] = TOKEN
    return env


def _cli(workdir: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "bot", "--config", "config.yaml", *args],
                            cwd=workdir, capture_output=True, text=True, timeout=60, env=_env())
    assert result.returncode == 0, result.stderr
    return result.stdout


def _repcoach() -> list[str]:
    """The `repcoach` script pip installed next to this Python, as an admin would run it."""
    script = Path(sys.executable).with_name("repcoach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def write_config(workdir: Path, fake: FakeTelegram) -> None:
    (workdir / "config.yaml").write_text(
        "database: {url: 'sqlite:///data/coach.sqlite3'}\n"
        f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n"
        "channels:\n"
        "  console: {enabled: false}\n"
        "  telegram:\n"
        "    enabled: true\n"
        "    token: ${TELEGRAM_BOT_TOKEN}\n"
        f"    base_url: {fake.base_url}\n"
        "    mode: polling\n"
        "    poll_timeout: 1\n"
        "    reminder_interval: 0.5\n", encoding="utf-8")


async def test_repcoach_run_enrolls_and_takes_the_quiz_by_buttons(
        fake: FakeTelegram, tmp_path: Path) -> None:
    library: Library = load_library(ROOT / "playbooks")
    write_config(tmp_path, fake)
    _cli(tmp_path, "db", "upgrade")
    code = _cli(tmp_path, "enroll", "--name", "王芳").strip().splitlines()[-1]

    process = await asyncio.create_subprocess_exec(
        *_repcoach(), "--config", str(tmp_path / "config.yaml"), "run", cwd=tmp_path,
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        started = await asyncio.wait_for(process.stdout.readline(), 30)
        assert started.decode().strip() == "running: telegram"
        assert ("quiz", "我的思维偏好自我反思") in fake.commands("zh")

        wang = Person(fake, None, REP)
        ok, welcome, menu = await wang.say(f"/start {code}", expect=3)
        assert ok.text == "开通成功，王芳！" and "RepCoach" in welcome.text

        [intro] = (await wang.press("我的思维偏好", menu)).new
        assert intro.text.startswith("🧭 思维偏好自我反思")
        await wang.press("开始", intro)
        for number in range(1, 19):
            question = wang.keyboard_message()
            assert question.text.startswith(f"{number}/18 "), wang.transcript()
            label, data = question.buttons[0]  # the first button, whatever it says
            pressed = await wang.press_data(question.message_id, data)
            assert pressed.answered and pressed.notice is None
            assert question.text.endswith(f"\n\n→ {label}") and question.keyboard == []

        [upload] = await fake.wait_for_calls("sendPhoto")
        photo = wang.messages()[-1]
        assert photo.kind == "photo" and photo.caption is not None
        assert photo.caption.startswith("🧭 你的思维偏好")
        png = upload.files["photo"].data
        assert image_size(png) is not None and png.startswith(b"\x89PNG")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in out + err, err.decode()

    with sqlite3.connect(tmp_path / "data" / "coach.sqlite3") as db:
        [(scores, dominant)] = db.execute("SELECT scores, dominant FROM quiz_results").fetchall()
    scores = json.loads(scores)
    assert sum(scores.values()) == 18 and dominant and set(dominant) <= set("ABCD")
    locale = "zh" if can_draw_chinese() else "en"
    for letter in dominant:
        name = library.catalog.labels.styles[letter].get(locale)
        assert any(name in label for label in labels_in(png)), labels_in(png)
        assert library.catalog.labels.styles[letter].get("zh") in photo.caption
    assert fake.unanswered_callbacks() == []
