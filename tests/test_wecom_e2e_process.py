"""`repcoach run` serving WeCom, as an admin deploys it: the real command in its own process,
configured by a config file whose secrets come from the environment, with the WeCom
simulator in this test as the platform. The rep verifies nothing by hand: every button this
test presses is one the bot actually sent (its key and the card's task id)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

from testkit.fakes.wecom_sim import SentMessage, WecomSimulator
from testkit.wecom_support import (
    Rep,
    buttons,
    card_text,
    free_port,
    has_card,
    number_of,
    numbered,
    shown,
)

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0


def repcoach_command() -> list[str]:
    script = Path(sys.executable).with_name("repcoach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def write_config(path: Path, database: Path, port: int) -> None:
    path.write_text(f"""\
locale: zh
database:
  url: sqlite:///{database}
playbooks:
  dir: {ROOT / "playbooks"}
channels:
  console:
    enabled: false
  wecom:
    enabled: ${{WECOM_ENABLED:-false}}
    corp_id: ${{WECOM_CORP_ID}}
    agent_id: ${{WECOM_AGENT_ID:-0}}
    secret: ${{WECOM_SECRET}}
    token: ${{WECOM_TOKEN}}
    encoding_aes_key: ${{WECOM_ENCODING_AES_KEY}}
    api_base_url: ${{WECOM_API_BASE_URL}}
    listen: 127.0.0.1
    port: {port}
    path: /wecom/callback
    auto_enroll: true
    reminder_interval: 0.2
""", encoding="utf-8")


def environment(sim: WecomSimulator) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REPCOACH_DATABASE_URL", None)
    env.update(PYTHONUNBUFFERED="1", WECOM_ENABLED="true", WECOM_CORP_ID=sim.corp_id,
               WECOM_AGENT_ID=str(sim.agent_id), WECOM_SECRET=sim.secret,
               WECOM_TOKEN=sim.token, WECOM_ENCODING_AES_KEY=sim.encoding_aes_key,
               WECOM_API_BASE_URL=sim.api_base_url)
    return env


async def wait_for_line(stream: asyncio.StreamReader, marker: str) -> str:
    seen = ""
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while marker not in seen:
            line = await stream.readline()
            assert line, f"repcoach run ended before {marker!r}; stdout:\n{seen}"
            seen += line.decode()
    return seen


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as an admin stops the service; what it logged on the way out."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(15):
        _, stderr = await process.communicate()
    return stderr.decode()


def quiz_question(messages: list[SentMessage]) -> bool:
    return any(m.msgtype == "template_card" and "/18 " in card_text(m) for m in messages)


def quiz_result(messages: list[SentMessage]) -> bool:
    """The chart, the result, and the coaching card that follows them."""
    return (any(m.msgtype == "image" for m in messages)
            and any("满分 18" in (m.content or "") for m in messages)
            and any("💡 绩效先锋" in (m.content or "") for m in messages))


async def test_repcoach_run_serves_a_rep_on_wecom(tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "repcoach.sqlite3"
    shutil.copy(sqlite_template, database)
    port = free_port()
    config = tmp_path / "config.yaml"
    write_config(config, database, port)
    async with WecomSimulator() as sim:
        process = await asyncio.create_subprocess_exec(
            *repcoach_command(), "--config", str(config), "run", cwd=tmp_path,
            env=environment(sim), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            assert process.stdout is not None
            assert "running: wecom" in await wait_for_line(process.stdout, "running:")
            sim.callback_url = f"http://127.0.0.1:{port}/wecom/callback"

            # the admin saves the callback URL: WeCom checks it
            assert await sim.verify_url("4715294781298175829") == (200, "4715294781298175829")

            # WeCom takes at most 30 messages a minute per member and the client stays under
            # 28 by waiting; this script taps faster than any rep, so it sends one rep no more
            # than the quiz's 23 messages and logs the visit as another rep
            rep = Rep(sim, "zhangwei")
            opened = await rep.open(until=lambda got: len(got) >= 2)
            assert "你好！我是 RepCoach" in shown(opened[0])
            menu = numbered(shown(opened[1]))  # more entries than a card holds: a list
            assert len(menu) > 6 and not has_card(opened)

            await rep.say(number_of(menu, "我的思维偏好"), until=has_card)
            assert [t for _, t in buttons(rep.last_card())] == ["开始", "以后再说"]
            await rep.press("开始", until=quiz_question)
            pressed: list[str] = ["开始"]
            for number in range(1, 19):
                card = rep.last_card()
                assert card_text(card).startswith(f"{number}/18 ")
                _, text = buttons(card)[number % 4]
                pressed.append(rep.label_of(card, text))
                last = number == 18
                got = await rep.press_nth(number % 4, until=quiz_result if last else quiz_question)
            assert [m.msgtype for m in got] == ["image", "text", "text"]
            image = sim.media[str(got[0].media_id)]
            assert (image.kind, image.content_type) == ("image", "image/png")
            assert image.data.startswith(b"\x89PNG\r\n\x1a\n")
            assert "🧭 你的思维偏好（满分 18）" in shown(got[1])
            assert "⚠️ 留意盲点" in shown(got[1])

            # every pressed card turned into the choice made on it
            await asyncio.sleep(0.1)
            replaced = [u.replace_name for u in sim.card_updates]
            assert replaced == [p if len(p) <= 10 else p[:9] + "…" for p in pressed]

            # another rep logs a visit due tomorrow, then it is made due now: the reminder
            # loop of the running process sends it within its interval
            lina = Rep(sim, "lina")
            await lina.say("泰山医院李主任说下周科室会可以讲十分钟",
                           until=lambda got: len(got) >= 2)
            assert "👤 李主任 · 泰山医院（新客户）" in card_text(lina.last_card())
            await lina.press("📅 改日期", until=has_card)
            await lina.say("明天", until=has_card)
            await lina.press("✅ 保存", until=lambda got: any("✅ 已记下" in shown(m) for m in got))
            with sqlite3.connect(database) as connection:
                connection.execute("UPDATE followups SET remind_at = '2000-01-01 00:00:00'")
            [reminder] = await lina.settle(until=has_card)
            assert "⏰ 跟进提醒：李主任（泰山医院）" in card_text(reminder)
            assert [t for _, t in buttons(reminder)] == ["记录这次跟进", "改日期", "不用跟进了"]
        finally:
            stderr = await stop(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    with sqlite3.connect(database) as connection:
        [(scores, dominant)] = connection.execute(
            "SELECT scores, dominant FROM quiz_results").fetchall()
        assert sum(json.loads(scores).values()) == 18 and dominant
        assert connection.execute("SELECT channel, external_id FROM identities "
                                  "ORDER BY id").fetchall() == [("wecom", "zhangwei"),
                                                                ("wecom", "lina")]
        assert connection.execute("SELECT status FROM followups").fetchall() == [("sent",)]
