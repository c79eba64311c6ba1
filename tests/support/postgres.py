"""A throwaway PostgreSQL server for the test session.

The store must behave the same on SQLite and PostgreSQL (row locks, `FOR UPDATE`, real
types), and only a real server shows that. Rather than depend on a system service that may
or may not be running, with whatever port and passwords it happens to have, each test
session runs its own: a fresh cluster in a temp directory, reachable only on 127.0.0.1 at a
free port with trust authentication, fsync off because the data is thrown away, and stopped
again when the session ends, also when it fails.

PostgreSQL refuses to run as root. Our CI containers run as root, so in that case initdb and
pg_ctl run as the `postgres` system user (which the Debian package creates) and the
directories they write are handed to that user. As any other user the binaries simply run
as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = ["DATABASE", "SUPERUSER", "ServerControl", "controlled_postgres", "find_postgres_bindir",
           "running_postgres"]

DATABASE = "repcoach_test"
SUPERUSER = "postgres"
PREFERRED_MAJOR = "15"  # production runs 15; other majors are used only if 15 is missing

_BINARIES = ("initdb", "pg_ctl", "postgres")
_TIMEOUT = 120  # seconds for initdb / pg_ctl; a cold CI disk can be slow
_PORT_ATTEMPTS = 5  # the free port we picked may be taken before the server binds it
_MAX_SOCKET_PATH = 90  # unix socket paths are limited to ~107 bytes including the file name

_INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in PATH, "
    "/usr/local/bin, /usr/lib/postgresql/*/bin or /usr/pgsql-*/bin. Install PostgreSQL "
    "(Debian/Ubuntu: `apt-get install postgresql`, or run .ci/install-postgres.sh), or point "
    "REPCOACH_PG_BINDIR at the directory that holds initdb."
)


def _default_candidates() -> list[Path]:
    """Where to look, best first: an explicit override, PATH, then the usual install dirs."""
    candidates: list[Path] = []
    override = os.environ.get("REPCOACH_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates.append(Path("/usr/local/bin"))
    candidates.append(Path(f"/usr/lib/postgresql/{PREFERRED_MAJOR}/bin"))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        candidates += sorted(debian.glob("*/bin"), key=_major, reverse=True)
    candidates += sorted(Path("/usr").glob("pgsql-*/bin"), key=_major, reverse=True)
    candidates.append(Path("/usr/local/pgsql/bin"))
    return candidates


def _major(bindir: Path) -> int:
    """Major version from a directory name such as /usr/lib/postgresql/15/bin, else 0."""
    digits = "".join(c for c in bindir.parent.name.rsplit("-", 1)[-1] if c.isdigit())
    return int(digits) if digits else 0


def find_postgres_bindir(candidates: Iterable[Path] | None = None) -> Path:
    """The directory holding initdb, pg_ctl and postgres together, symlinks resolved.

    Symlinks are resolved because pg_ctl finds `postgres` next to its own real path, and a
    directory such as /usr/local/bin may hold links to initdb and pg_ctl only. Raises
    RuntimeError with installation advice when nothing usable is found.
    """
    for directory in _default_candidates() if candidates is None else candidates:
        initdb = directory / "initdb"
        if not initdb.is_file():
            continue
        real = initdb.resolve().parent
        if all(os.access(real / name, os.X_OK) for name in _BINARIES):
            return real
    raise RuntimeError(_INSTALL_HINT)


@dataclass(frozen=True)
class _Runner:
    """Runs the server binaries as the right OS user: `postgres` if we are root, else us."""

    user: pwd.struct_passwd | None

    @classmethod
    def for_current_user(cls) -> _Runner:
        if os.geteuid() != 0:
            return cls(None)
        try:
            return cls(pwd.getpwnam(SUPERUSER))
        except KeyError:
            raise RuntimeError(
                "Running as root, but PostgreSQL refuses to run as root and there is no "
                f"'{SUPERUSER}' system user to run it as. Install PostgreSQL "
                "(`apt-get install postgresql` creates the user) or run the tests as a "
                "non-root user."
            ) from None

    def give(self, path: Path) -> None:
        """Hand a directory we created to the server's user."""
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        if self.user is None:
            return subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        env.update(HOME=str(cwd), USER=self.user.pw_name, LOGNAME=self.user.pw_name)
        return subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=_TIMEOUT, check=False,
                              user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])

    def can_write(self, path: Path) -> bool:
        """Whether the server's user can create files in `path` (every parent traversable)."""
        if self.user is None:
            return os.access(path, os.W_OK | os.X_OK)
        probe = self.run(["test", "-w", str(path), "-a", "-x", str(path)], cwd=Path("/"))
        return probe.returncode == 0


def _private_dir(runner: _Runner, prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    runner.give(path)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _configure(data: Path, sockets: Path) -> None:
    """Local-only, throwaway settings; appended so they override initdb's defaults."""
    settings = {
        "listen_addresses": _quote("127.0.0.1"),
        "unix_socket_directories": _quote(str(sockets)),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "timezone": _quote("UTC"),
    }
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# tests/support/postgres.py\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


def _start(runner: _Runner, bindir: Path, data: Path, log: Path, cwd: Path) -> int:
    """Start the server on a free port and return the port, retrying if the port was taken."""
    for _ in range(_PORT_ATTEMPTS):
        port = _free_port()
        started = runner.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
             "-o", f"-p {port}", "start"],
            cwd=cwd,
        )
        if started.returncode == 0:
            return port
        if "already in use" not in _tail(log):
            raise RuntimeError(
                f"pg_ctl start failed ({started.returncode}):\n{started.stdout}{started.stderr}"
                f"\n--- {log} ---\n{_tail(log)}"
            )
    raise RuntimeError(f"PostgreSQL found no free port in {_PORT_ATTEMPTS} attempts")


def _stop(runner: _Runner, bindir: Path, data: Path, cwd: Path) -> None:
    """Stop the server we started: fast shutdown, then immediate, then a signal to its pid."""
    pg_ctl = str(bindir / "pg_ctl")
    for mode in ("fast", "immediate"):
        with contextlib.suppress(subprocess.TimeoutExpired):
            if runner.run([pg_ctl, "-D", str(data), "-m", mode, "-w", "-t", "30", "stop"],
                          cwd=cwd).returncode == 0:
                return
    pid_file = data / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(50):
            os.kill(pid, 0)  # raises once the process is gone
            time.sleep(0.1)


def _create_database(port: int) -> None:
    with psycopg.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres",
                         autocommit=True, connect_timeout=10) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}" ENCODING \'UTF8\'')


@dataclass(frozen=True)
class ServerControl:
    """Stop and start a server made by `controlled_postgres`, on the same port and data:
    what an outage looks like to the bot (connections drop, new ones are refused)."""

    runner: _Runner
    bindir: Path
    data: Path
    log: Path
    workdir: Path
    port: int

    def stop(self) -> None:
        _stop(self.runner, self.bindir, self.data, self.workdir)

    def start(self) -> None:
        started = self.runner.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
             "-t", "60", "-o", f"-p {self.port}", "start"], cwd=self.workdir)
        if started.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n"
                               f"{_tail(self.log)}")


@contextlib.contextmanager
def running_postgres(base_dir: Path) -> Iterator[str]:
    """`controlled_postgres` for callers that only need the URL."""
    with controlled_postgres(base_dir) as (url, _control):
        yield url


@contextlib.contextmanager
def controlled_postgres(base_dir: Path) -> Iterator[tuple[str, ServerControl]]:
    """Run a private PostgreSQL server while the block runs; yield its SQLAlchemy URL.

    The URL is `postgresql+psycopg://postgres@127.0.0.1:PORT/repcoach_test`; the superuser
    may also create and drop other databases (per-test copies). The cluster lives under
    `base_dir` when the server's user can write there (as root it usually cannot: pytest's
    temp root is private to root), otherwise in a private temp directory that is removed
    afterwards. The server is stopped on exit, whether the block finished or raised.
    """
    bindir = find_postgres_bindir()
    runner = _Runner.for_current_user()
    cleanup: list[Path] = []
    try:
        workdir = Path(base_dir) / "pg"
        workdir.mkdir(parents=True, exist_ok=True)
        runner.give(workdir)
        if not runner.can_write(workdir):
            workdir = _private_dir(runner, "repcoach-pg-")
            cleanup.append(workdir)
        sockets = workdir / "sock"
        if len(str(sockets)) > _MAX_SOCKET_PATH:
            sockets = _private_dir(runner, "pgs-")
            cleanup.append(sockets)
        else:
            sockets.mkdir(exist_ok=True)
            runner.give(sockets)
        data, log = workdir / "data", workdir / "postgres.log"
        if data.exists():
            shutil.rmtree(data)
        created = runner.run(
            [str(bindir / "initdb"), "-D", str(data), f"--username={SUPERUSER}",
             "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            cwd=workdir,
        )
        if created.returncode != 0:
            raise RuntimeError(f"initdb failed ({created.returncode}):\n"
                               f"{created.stdout}{created.stderr}")
        _configure(data, sockets)
        port = _start(runner, bindir, data, log, workdir)
        try:
            _create_database(port)
            yield (f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}",
                   ServerControl(runner, bindir, data, log, workdir, port))
        finally:
            _stop(runner, bindir, data, workdir)
        shutil.rmtree(data, ignore_errors=True)  # keep the log, drop the ~40 MB cluster
    finally:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
