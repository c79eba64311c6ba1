"""Optional sampling profiles of the bot processes (`python -m bench --profile DIR`).

Uses py-spy when it is installed (`pip install py-spy`; not a dependency of the project):
it attaches to the running bot process, so the profile shows the real adapter under the
benchmark's load. The collapsed stacks are summarised into the share of samples spent in
(inclusive) and directly in (self) each function.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


class Sampler:
    """py-spy attached to a process between `start` and `stop`."""

    def __init__(self, pid: int, output: Path) -> None:
        self.pid = pid
        self.output = output
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> bool:
        binary = py_spy()
        if binary is None:
            return False
        self.process = await asyncio.create_subprocess_exec(
            binary, "record", "--pid", str(self.pid), "--rate", "250", "--format", "raw",
            "--threads", "--output", str(self.output), "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await asyncio.sleep(0.5)  # attach before the load starts
        return True

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


_PREFIX = re.compile(r"^(?:.*/(?:site-packages|python3\.\d+)/|" + re.escape(
    str(Path(__file__).resolve().parent.parent)) + "/)")


def _function(frame: str) -> str:
    """`name (/long/path/pkg/file.py:12)` -> `name (pkg/file.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({_PREFIX.sub('', path)})"


BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chart (matplotlib, PIL)", ("matplotlib/", "PIL/")),
    ("SQL (SQLAlchemy, sqlite3, psycopg)", ("sqlalchemy/", "sqlite3/", "psycopg/",
                                            "psycopg_binary/")),
    ("templates (jinja2)", ("jinja2/",)),
    ("engine logic (coach/)", ("coach/",)),
    ("failed `import sniffio` per request (httpcore)", ("<frozen importlib",)),
    ("Telegram + HTTP client (PTB, httpx, httpcore)", ("telegram/", "httpx/", "httpcore/",
                                                      "anyio/", "h11/")),
    ("adapter (bot/)", ("bot/",)),
    ("benchmark harness (bench/)", ("bench/",)),
)


def _bucket(frames: list[str]) -> str:
    """The first category met walking from the innermost frame outwards."""
    for frame in reversed(frames):
        for name, markers in BUCKETS:
            if any(f"({m}" in frame for m in markers):
                return name
    return "asyncio, threads, other stdlib"


def summarize(collapsed: Path, top: int = 15) -> list[str]:
    """Markdown lines: where the busy samples went (by area), the heaviest RepCoach
    functions (inclusive), and the functions with the most self time."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    total = 0
    try:
        text = collapsed.read_text(errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_function(f) for f in stack.split(";")
                  if " (" in f and not f.startswith(("thread (", "process "))]
        if not frames:
            continue
        count = int(count_text)
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
        buckets[_bucket(frames)] += count
    if not total:
        return []
    lines = [f"{total} samples of busy threads, by area (innermost area wins):", "",
             "| area | share |", "| --- | --- |"]
    for name, count in buckets.most_common():
        lines.append(f"| {name} | {100 * count / total:.0f}% |")
    lines.extend(["", "Heaviest RepCoach functions (inclusive):", "",
                  "| function | inclusive |", "| --- | --- |"])
    ours = [(f, c) for f, c in inclusive.most_common() if f.split(" (", 1)[1].startswith(
        ("coach/", "bot/"))]
    for frame, count in ours[:top]:
        lines.append(f"| `{frame}` | {100 * count / total:.1f}% |")
    lines.extend(["", "Most self time:", "", "| function | self |", "| --- | --- |"])
    for frame, count in own.most_common(10):
        lines.append(f"| `{frame}` | {100 * count / total:.1f}% |")
    lines.append("")
    return lines
