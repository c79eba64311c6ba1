"""Child processes of the benchmarks: start, read their lines, measure, stop.

Every bot under test runs in its own process, so its CPU is its own (the fakes and the
drivers live in the benchmark process) and its memory can be read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of `pid` in MB, from /proc/PID/status."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in values:
                values[key] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def children_rss_mb(pid: int) -> float:
    """Resident MB of `pid`'s child processes together (a worker's font helper, coach/
    documents/font_worker.py): memory the worker uses that its own RSS leaves out."""
    total = 0.0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += rss_mb(int(child))[0]
    return total


def _stat_cpu_seconds(stat: str) -> float:
    """User + system CPU time from the text of a /proc/PID/stat file."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (all its threads) so far."""
    try:
        return _stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0


def _processes() -> Iterator[tuple[int, str]]:
    """(pid, text of /proc/PID/stat) of every process still there."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text()
        except OSError:
            continue


def _parent(stat: str) -> int:
    return int(stat.rsplit(")", 1)[1].split()[1])


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU so far of `root` and its children, ended ones too (the kernel
    adds a reaped child's time to its parent's): a PostgreSQL server's postmaster and its
    backends, those of connections closed meanwhile included, and no other server's, where
    other jobs on the machine run PostgreSQL servers of their own."""
    total = 0.0
    for pid, text in _processes():
        if pid == root:  # with its ended children's (backends of closed connections)
            fields = text.rsplit(")", 1)[1].split()
            total += _stat_cpu_seconds(text) + (int(fields[13]) + int(fields[14])) / _TICKS
        elif _parent(text) == root:
            total += _stat_cpu_seconds(text)
    return total


def postgres_server_pid(url: str) -> int:
    """The postmaster of the PostgreSQL server at `url`: the parent of a backend."""
    from sqlalchemy import create_engine, pool, text

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()
    try:
        return _parent(Path(f"/proc/{backend}/stat").read_text())
    except OSError:
        return 0


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core, every job: what
    says whether the machine, not the program, was the limit."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / _TICKS, total / _TICKS


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def settle_heap() -> None:
    """Collect, then move everything alive into the collector's permanent generation.

    The fakes and the timing clients live in this process, which keeps what earlier runs
    and parts left (every Telegram turn's calls, for the replays). A full collection must
    walk all of it, and one landed in a WeCom burst: the 200s that burst was timing all
    read some 0.6 s late (p99 690-760 ms in full runs against 118-152 ms when the part ran
    alone). Called before each timed run, so a collection only walks the run's own objects.
    """
    gc.collect()
    gc.freeze()


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECOM_"))}
    env.pop("REPCOACH_DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


@dataclass
class Child:
    """A child process whose stdout lines go to `on_line`; stderr goes to a log file."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(cls, name: str, args: Sequence[str], log: Path,
                    on_line: Callable[[str], None] | None = None,
                    env: dict[str, str] | None = None, cwd: Path = ROOT) -> Child:
        stderr = log.open("wb")
        try:
            process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=stderr, env=env or child_env(), cwd=str(cwd))
        finally:
            stderr.close()
        child = cls(name, process, log)
        child._reader = asyncio.create_task(child._read(on_line))
        return child

    async def _read(self, on_line: Callable[[str], None] | None) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            raw = await stream.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if on_line is not None:
                on_line(line)

    async def wait_line(self, prefix: str, timeout: float) -> str:
        """The first stdout line starting with `prefix`; raises if the child dies first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for line in self.lines:
                if line.startswith(prefix):
                    return line
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before "
                                   f"{prefix!r}; log: {self.tail()}")
            if loop.time() > deadline:
                raise TimeoutError(f"{self.name}: no {prefix!r} within {timeout}s; log: "
                                   f"{self.tail()}")
            await asyncio.sleep(0.01)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._reader, 5)
        return self.process.returncode if self.process.returncode is not None else -1


def repcoach_command() -> list[str]:
    """`repcoach` as installed beside this Python (the console script), else `-m bot`."""
    script = Path(PYTHON).parent / "repcoach"
    return [str(script)] if script.exists() else [PYTHON, "-m", "bot"]


def validation_cache(config: Path) -> Path:
    """The folder where workers started with `config` keep their validation verdicts."""
    return config.parent / "validation-cache"


def write_config(path: Path, database_url: str, *, telegram: dict[str, object] | None = None,
                 wecom: dict[str, object] | None = None) -> Path:
    """A config.yaml for `repcoach run` with only the given channels enabled. Workers keep
    their playbook validation verdicts beside it (`validation_cache`), not in ~/.cache: each
    benchmark run starts without one."""
    config = {
        "database": {"url": database_url},
        "playbooks": {"dir": str(ROOT / "playbooks"),
                      "cache_dir": str(validation_cache(path))},
        "channels": {
            "console": {"enabled": False},
            "telegram": {"enabled": False, **(telegram or {})},
            "wecom": {"enabled": False, **(wecom or {})},
        },
    }
    # JSON is YAML: no quoting surprises in URLs and tokens
    path.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
