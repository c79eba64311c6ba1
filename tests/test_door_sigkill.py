"""An adverse event reported mid-quiz survives a SIGKILL right after the rep saw the notice.

The real `repcoach chat` process, fed messages with ids (as a platform delivers them): the
quiz is started, an adverse event is typed at its first question, and the process is killed
the moment the notice has been printed. The report is in the SQLite file, clock running.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    lines.put("")


def test_report_typed_mid_quiz_survives_sigkill(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "database: {url: 'sqlite:///data/coach.sqlite3'}\n"
        f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n", encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("REPCOACH_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "bot", "--config", "config.yaml", "db", "upgrade"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120, env=env)
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", "config.yaml", "chat", "--user", "rep",
         "--with-ids"], cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(bot.stdout, lines), daemon=True).start()
    assert bot.stdin is not None
    script = ["/quiz", "1", "对了，有个患者吃了我们的药后起了荨麻疹，张主任说的"]
    seen: list[str] = []
    for number, text in enumerate(script):
        bot.stdin.write(f"{number}\t{text}\n")
        bot.stdin.flush()
        deadline = time.monotonic() + 30
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line, "the process ended early"
            seen.append(line)
            if "可能的不良事件" in line:  # the notice is on screen: kill now
                bot.send_signal(signal.SIGKILL)
                bot.wait(timeout=10)
                break
            if line.strip() == f"[done {number}]":
                break
        if bot.poll() is not None:
            break
    assert bot.returncode == -signal.SIGKILL, "".join(seen)
    with sqlite3.connect(tmp_path / "data" / "coach.sqlite3") as db:
        rows = db.execute("SELECT account_id, status, report, source FROM adverse_events"
                          ).fetchall()
    assert len(rows) == 1
    account, status, report, source = rows[0]
    assert account is None and status == "open"
    assert "荨麻疹" in report and source.startswith("quiz/")
