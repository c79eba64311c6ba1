"""What an admin reads from a `repcoach run` worker when PostgreSQL goes away and comes back
(issue 18 IT trial): at start, the worker's name, where it listens and the database with its
password masked; while the server is down, one warning a background pass naming the cause,
no traceback; one line when it is back; and the worker carries on by itself.

A real worker process against a real PostgreSQL server that the test stops and starts
(tests/support/postgres.py ServerControl).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from sqlalchemy.engine import make_url

from coach.store.migrate import upgrade
from testkit.wecom_support import free_port
from tests.support.postgres import controlled_postgres
from tests.test_wecom_e2e_process import ROOT, repcoach_command

INTERVAL = 0.3  # seconds between background passes
DOWN = "database unavailable: reminder pass skipped; next in 0.3 s (connection refused)"
BACK = "database available again: reminder pass done"


def _config(path: Path, url: str, port: int) -> None:
    path.write_text(f"""\
database:
  url: {url}
  pool_size: 2
playbooks:
  dir: {ROOT / "playbooks"}
channels:
  wecom:
    enabled: true
    corp_id: ww-outage
    agent_id: 1000002
    secret: not-used
    token: tok
    encoding_aes_key: {"b" * 43}
    api_base_url: http://127.0.0.1:9
    listen: 127.0.0.1
    port: {port}
    reminder_interval: {INTERVAL}
""", encoding="utf-8")


class Log:
    """A stream read line by line as the worker writes it."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while line := await self._stream.readline():
            self.lines.append(line.decode())

    async def wait_for(self, text: str, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            while not any(text in line for line in self.lines):
                assert not self._task.done(), "".join(self.lines)
                await asyncio.sleep(0.05)

    async def closed(self) -> str:
        await self._task
        return "".join(self.lines)


async def test_a_database_outage_is_one_warning_a_pass_and_one_line_when_back(
        tmp_path: Path) -> None:
    with controlled_postgres(tmp_path) as (url, server):
        upgrade(url)
        with_password = make_url(url).set(password="s3cret-pw").render_as_string(
            hide_password=False)
        port = free_port()
        config = tmp_path / "config.yaml"
        _config(config, with_password, free_port())  # `run --port` moves it
        env = {k: v for k, v in os.environ.items() if k != "REPCOACH_DATABASE_URL"}
        process = await asyncio.create_subprocess_exec(
            *repcoach_command(), "--config", str(config), "run", "--port", str(port), cwd=tmp_path,
            env={**env, "PYTHONUNBUFFERED": "1"}, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        out, err = Log(process.stdout), Log(process.stderr)
        try:
            await out.wait_for("  database: ")
            started = "".join(out.lines)
            assert started.splitlines() == [
                "running: wecom",
                f"  wecom: worker {socket.gethostname()}:wecom:{port}, "
                f"callbacks on 127.0.0.1:{port}",
                f"  database: {make_url(with_password).render_as_string()}",  # masked
            ]

            await asyncio.to_thread(server.stop)
            await err.wait_for(DOWN)
            await asyncio.sleep(INTERVAL * 4)  # a few more passes while it is down
            await asyncio.to_thread(server.start)
            await err.wait_for(BACK)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await process.wait()
        logged = await err.closed()
        await out.closed()
    assert process.returncode == 0, logged
    assert "Traceback" not in logged and "reminder pass failed" not in logged
    assert "s3cret-pw" not in logged + "".join(out.lines)
    down = [line for line in logged.splitlines() if "database unavailable" in line]
    assert len(down) >= 2 and all(" WARNING bot.runner: " in line for line in down), logged
    assert all(len(line) < 200 for line in logged.splitlines()), logged
    assert logged.count(BACK) == 1
