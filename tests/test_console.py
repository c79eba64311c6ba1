"""The console channel end to end: the real `repcoach` process driven by a script on stdin.

Each of the six things a rep can do is played through the terminal exactly as a person would
type it (numbers for choices), and the SQLite file is checked afterwards. One test kills the
process in the middle of the quiz and proves the restart resumes at the same question.
"""

from __future__ import annotations

import codecs
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from coach.library import Library, load_library

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped() -> Library:
    return load_library(ROOT / "playbooks")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(
        "database: {url: 'sqlite:///data/coach.sqlite3'}\n"
        f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n", encoding="utf-8")
    result = _cli(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    return tmp_path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REPCOACH_DATABASE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cli(workdir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--config", "config.yaml", *args],
                          cwd=workdir, input=stdin, capture_output=True, text=True,
                          timeout=120, env=_env())


def chat(workdir: Path, lines: list[str]) -> str:
    result = _cli(workdir, "chat", "--user", "alice", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def rows(workdir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(workdir / "data" / "coach.sqlite3") as connection:
        return connection.execute(sql).fetchall()


def questions(library: Library, playbook: str) -> int:
    return sum(1 for step in library.playbooks[playbook].steps if step.choices and step.ask
               and not any(c.next for c in step.choices))


def test_quiz_through_the_console(workdir: Path, shipped: Library) -> None:
    items = questions(shipped, "quiz")
    assert items >= 16
    out = chat(workdir, ["/quiz", *(["1"] * (items + 2))])
    assert "思维偏好" in out
    (scores, dominant, version), = rows(workdir, "SELECT scores, dominant, playbook_version "
                                                 "FROM quiz_results")
    assert version == shipped.playbooks["quiz"].version
    assert sum(json.loads(str(scores)).values()) == items
    assert dominant and set(str(dominant)) <= set("ABCD")
    for letter in str(dominant):
        name = shipped.catalog.labels.styles[letter].get("zh")
        assert name is not None and name in out


def test_log_visit_with_fuzzy_customer_and_chinese_date(workdir: Path) -> None:
    today = (datetime.utcnow() + timedelta(hours=8)).date()  # the console's day (UTC+8)
    out = chat(workdir, [
        # one note: a new customer with hospital and department, the follow-up in words
        "/log", "泰山医院心内科李主任关心三期数据，想看老年患者亚组，下周三带亚组数据再访",
        "1", "3",  # 1 = ✅ 保存, 3 = 完成
        # free text calling him 李医生: another title, so the bot asks, 李主任 first
        "李医生说下个月科室会可以讲十分钟",
        "1", "3",  # 1 = 李主任 · 泰山医院 · 心内科 (one tap saves), 3 = 完成
    ])
    assert "👤 李主任 · 泰山医院 · 心内科（新客户）" in out
    assert "「李医生」是下面哪一位？" in out and "1. 李主任 · 泰山医院 · 心内科\n" in out
    assert "✅ 已记下李主任的拜访。\n" in out  # the second note: the same customer
    notes = rows(workdir, "SELECT text FROM notes ORDER BY id")
    assert [n for (n,) in notes] == [
        "泰山医院心内科李主任关心三期数据，想看老年患者亚组，下周三带亚组数据再访",
        "李医生说下个月科室会可以讲十分钟"]
    accounts = rows(workdir, "SELECT name, hospital, department FROM accounts")
    assert accounts == [("李主任", "泰山医院", "心内科")]
    followups = rows(workdir, "SELECT due_date, action FROM followups ORDER BY id")
    assert [action for _, action in followups] == ["带亚组数据再访", "科室会可以讲十分钟"]
    first, second = (date.fromisoformat(str(d)) for d, _ in followups)
    assert first.weekday() == 2 and 3 <= (first - today).days <= 9  # 下周三
    assert 28 <= (second - today).days <= 31  # 下个月


def test_style_stage_and_next_steps(workdir: Path, shipped: Library) -> None:
    style_items = questions(shipped, "style")
    stage_items = questions(shipped, "stage")
    assert style_items >= 8
    out = chat(workdir, [
        "/style", "王主任 人民医院", "1", *(["1"] * style_items), "2",
        "/stage", "王主任", *(["1"] * stage_items), "2",
        "/next", "王主任", "3", "1",  # dismiss, reason 1
    ])
    (style, confidence), = rows(workdir, "SELECT style, style_confidence FROM accounts")
    assert style and 0 < float(str(confidence)) <= 1
    assert rows(workdir, "SELECT COUNT(*) FROM style_assessments") == [(1,)]
    (stage,), = rows(workdir, "SELECT stage FROM stage_history")
    assert stage in ("awareness", "interest", "evaluation", "trial", "adoption")
    assert rows(workdir, "SELECT status FROM suggestions") == [("dismissed",)]
    assert "王主任" in out


def test_accounts_list_rename_and_archive(workdir: Path) -> None:
    chat(workdir, ["/log", "市一院张医生，第一次见", "1", "3",  # 1 = ✅ 保存, 3 = 完成
                   "/log", "市二院赵主任，约了下周再去", "1", "3"])
    out = chat(workdir, ["/accounts", "张医生", "5", "张建国医生"])  # 5 = ✏️ 改名
    assert "张医生" in out and "赵主任" in out
    names = sorted(n for (n,) in rows(workdir, "SELECT name FROM accounts"))
    assert names == ["张建国医生", "赵主任"]


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 30) -> str:
    """Read the process's output until `marker` appears.

    Reads the pipe's file descriptor directly: select() says whether the *pipe* has data, so
    reading through Python's buffered readline() once left the rest of a chunk in the buffer
    where select() cannot see it. On a loaded machine the console's whole greeting and the
    first questions arrive as one chunk, and the test waited 30 s for data it already had."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {marker!r}; got:\n{seen}"
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if ready:
            chunk = os.read(descriptor, 65536)
            assert chunk, f"process ended; got:\n{seen}"
            seen += decoder.decode(chunk)
    return seen


def test_kill_between_answers_resumes_the_quiz(workdir: Path, shipped: Library) -> None:
    quiz = shipped.playbooks["quiz"]
    asks = [s for s in quiz.steps if s.choices and s.ask]
    fourth = asks[3].ask.get("zh") if asks[3].ask else ""
    first_line = fourth.splitlines()[0]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", "config.yaml", "chat", "--user", "alice"],
        cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env())
    assert process.stdin is not None
    process.stdin.write("/quiz\n1\n2\n3\n")
    process.stdin.flush()
    _read_until(process, first_line)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    resumed = chat(workdir, [*(["4"] * (len(asks) - 3)), "3"])
    first_reply = resumed.split("> ", 1)[0]
    assert first_line in first_reply  # opening again shows question 4, not the menu
    scored = [s for s in asks if any(c.scores for c in s.choices or [])]
    (scores,), = rows(workdir, "SELECT scores FROM quiz_results")
    assert sum(json.loads(str(scores)).values()) == len(scored)  # every answer counted once


def test_two_console_users_scripts_with_the_same_ids_are_both_answered(workdir: Path) -> None:
    """A script's line ids are its user's own (found in trial G's setup: the second rep's
    "1<TAB>…" was taken for a resent line of the first rep's and answered with nothing).
    A line resent by the same user is still answered with nothing, as a redelivery is."""
    script = "1\t省人民心内刘主任说我们的药太贵了，下周三再去\n"
    for user in ("rep-a", "rep-b"):
        result = _cli(workdir, "chat", "--user", user, "--with-ids", stdin=script)
        assert result.returncode == 0, result.stderr
        assert "📝 这样记下？" in result.stdout, (user, result.stdout)
        assert "顾虑：价格" in result.stdout
    again = _cli(workdir, "chat", "--user", "rep-a", "--with-ids", stdin=script)
    answered = again.stdout.split("[done 1]")[0].split(f"> {script.split(chr(9))[1].strip()}")[-1]
    assert "📝 这样记下？" not in answered, again.stdout
