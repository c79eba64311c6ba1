"""A real process killed (SIGKILL) at random points during 200 scripted turns loses no
committed note and no answered question, and duplicates nothing after restart.

The script is replayed like a platform would: every line carries a message id, and a line
whose answer we did not see is sent again after the restart. The final store must equal that
of a run that was never killed.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def customer(k: int) -> str:
    return f"{SURNAMES[k]}主任 第{k % 3 + 1}医院"


def script() -> list[str]:
    lines = ["/quiz", *[str(1 + n % 4) for n in range(19)]]
    for k in range(20):
        note = f"{customer(k)}：第{k}次拜访，关心数据{k}"
        if k % 2 == 0:  # the follow-up in the note; 1 = ✅ 保存, 3 = 完成
            lines += ["/log", f"{note}，{k + 2}天后再去送资料", "1", "3"]
        else:  # no date in the note: 3 = 📅 加跟进日期, then the date, then save
            lines += ["/log", note, "3", f"{k + 2}天后", "1", "3"]
    for k in range(5):
        lines += ["/stage", customer(k), *["1"] * 8, "2"]
    for k in range(8):  # a note naming nobody (and not starting 补充…, which adds to the
        # visit just saved): typing the customer saves it; 3 = 完成
        lines += [f"第{k}次科室会反馈好", customer(k), "3"]
    lines += ["/accounts", "/cancel"]
    assert len(lines) >= 200
    return lines


class Bot:
    """The bot process, with a thread reading its output line by line (select() on a
    buffered pipe would miss lines already read into the buffer)."""

    def __init__(self, workdir: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("REPCOACH_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", "config.yaml", "chat", "--user", "rep",
             "--with-ids"], cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def send(self, number: int, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{number}\t{text}\n")
        self.process.stdin.flush()

    def wait_done(self, number: int, timeout: float = 30) -> None:
        marker = f"[done {number}]"
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no answer to line {number}"
            line = self.lines.get(timeout=remaining)
            assert line, f"process died before answering line {number}"
            assert "Traceback" not in line
            if line.strip() == marker:
                return

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def play(workdir: Path, lines: list[str], kill_chance: float, seed: int) -> int:
    """Send every line, killing the process at random moments; returns the kill count."""
    rng = random.Random(seed)
    kills = 0
    position = 0
    bot = Bot(workdir)
    while position < len(lines):
        bot.send(position, lines[position])
        if rng.random() < kill_chance:
            time.sleep(rng.uniform(0, 0.03))  # somewhere inside the turn, or just after
            bot.kill()
            kills += 1
            bot = Bot(workdir)  # resend from `position`: its answer was not seen
            continue
        bot.wait_done(position)
        position += 1
    bot.close()
    return kills


def snapshot(workdir: Path) -> dict[str, object]:
    with sqlite3.connect(workdir / "data" / "coach.sqlite3") as db:
        followups = db.execute("SELECT account_id, note_id, due_date, action, status "
                               "FROM followups ORDER BY id").fetchall()
        # due dates count from the day of the run: kept as days after the first one
        first = min((date.fromisoformat(f[2]) for f in followups), default=None)
        return {
            "notes": db.execute("SELECT text FROM notes ORDER BY id").fetchall(),
            "accounts": db.execute("SELECT name, hospital, stage FROM accounts ORDER BY id")
            .fetchall(),
            "stages": db.execute("SELECT account_id, stage FROM stage_history ORDER BY id")
            .fetchall(),
            "followups": [(a, n, (date.fromisoformat(d) - first).days if first else None,
                           action, status) for a, n, d, action, status in followups],
            "quiz": [json.loads(s) for (s,) in db.execute("SELECT scores FROM quiz_results")],
            "processed": db.execute("SELECT COUNT(*) FROM processed_messages").fetchone(),
        }


def prepared(tmp_path: Path, name: str) -> Path:
    workdir = tmp_path / name
    workdir.mkdir()
    (workdir / "config.yaml").write_text(
        "database: {url: 'sqlite:///data/coach.sqlite3'}\n"
        f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "bot", "--config", "config.yaml", "db", "upgrade"],
                   cwd=workdir, check=True, capture_output=True, timeout=120)
    return workdir


def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    lines = script()
    reference = prepared(tmp_path, "reference")
    assert play(reference, lines, kill_chance=0.0, seed=0) == 0
    crashed = prepared(tmp_path, "crashed")
    kills = play(crashed, lines, kill_chance=0.06, seed=20261122)
    assert kills >= 5
    expected, got = snapshot(reference), snapshot(crashed)
    for part in expected:
        assert got[part] == expected[part], part
    assert len(expected["notes"]) == 28  # type: ignore[arg-type]
    assert [a[:2] for a in expected["accounts"]] == [  # type: ignore[attr-defined]
        (f"{SURNAMES[k]}主任", f"第{k % 3 + 1}医院") for k in range(20)]
    followups = expected["followups"]
    assert len(followups) == 20  # type: ignore[arg-type]
    assert [(f[2], f[3]) for f in followups] == [  # type: ignore[attr-defined]
        (k, "送资料" if k % 2 == 0 else None) for k in range(20)]  # "{k + 2}天后"
    assert expected["processed"] == (len(lines),)
