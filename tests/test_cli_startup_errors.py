"""An admin's start-up mistakes, as the IT trial of issue 18 made them: each is one `error:`
line naming what is wrong and what to do (the URL's password masked), a non-zero exit, and
no traceback unless -v asks for it.

The commands run through the CLI's entry point with the output captured; a real PostgreSQL
server answers (or, on a wrong port, does not), and a real socket holds the port a second
worker wants.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.__main__ import main
from tests.support.postgres import running_postgres

ROOT = Path(__file__).resolve().parent.parent
AES_KEY = "a" * 43


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(autouse=True)
def _no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPCOACH_DATABASE_URL", raising=False)


def _config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "config.yaml"
    path.write_text(f"database: {{url: '{url}'}}\n"
                    f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n" + extra, encoding="utf-8")
    return path


def _repcoach(config: Path, capsys: pytest.CaptureFixture[str], *args: str
              ) -> tuple[int, str, str]:
    status = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return status, out, err


def _one_error(status: int, err: str) -> str:
    """The admin saw a failure, one `error:` line, no traceback; returns that line."""
    assert status != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _with(url: str, **parts: object) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["db", "upgrade"], ["ae", "list"],
                                     ["enroll", "--name", "王芳"], ["run"]])
def test_a_wrong_port_is_one_line_naming_the_database_with_its_password_masked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    url = f"postgresql://repcoach:s3cret-pw@127.0.0.1:{_free_port()}/repcoach"
    status, _, err = _repcoach(_config(tmp_path, url), capsys, *command)
    line = _one_error(status, err)
    assert "connection refused" in line
    assert "repcoach:***@127.0.0.1" in line and "s3cret-pw" not in err
    assert "database.url" in line  # what to check


def test_a_database_that_does_not_exist_says_create_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres: str) -> None:
    status, _, err = _repcoach(_config(tmp_path, _with(postgres, database="nodb")), capsys,
                               "db", "upgrade")
    line = _one_error(status, err)
    assert 'database "nodb" does not exist' in line and "createdb" in line


def test_an_unknown_host_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://repcoach:pw@no-such-host.invalid:5432/repcoach"
    status, _, err = _repcoach(_config(tmp_path, url), capsys, "ae", "list")
    assert "host name not found" in _one_error(status, err)


def test_postgres_urls_from_a_hosting_provider_are_accepted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres: str) -> None:
    """`postgres://` and `postgresql://` mean the installed driver; upgrading an empty
    database says it created the schema, a second run says there was nothing to do."""
    bare = _with(postgres, drivername="postgres")
    config = _config(tmp_path, bare)
    status, out, err = _repcoach(config, capsys, "db", "upgrade")
    assert status == 0, err
    assert "upgraded from (empty) to " in out
    status, out, _ = _repcoach(_config(tmp_path, _with(postgres, drivername="postgresql")),
                               capsys, "db", "upgrade")
    assert status == 0 and "already at " in out and "nothing to do" in out
    status, out, _ = _repcoach(config, capsys, "ae", "list")
    assert (status, out) == (0, "no open adverse-event reports\n")


def test_an_unset_variable_in_the_url_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RC_TRIAL_DB_URL", raising=False)
    status, _, err = _repcoach(_config(tmp_path, "${RC_TRIAL_DB_URL}"), capsys, "db", "upgrade")
    line = _one_error(status, err)
    assert "database.url is empty" in line and "RC_TRIAL_DB_URL is not set" in line


def test_a_database_kind_that_is_not_supported_says_what_to_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _repcoach(_config(tmp_path, "mysql://u:pw@db/x"), capsys, "db", "upgrade")
    line = _one_error(status, err)
    assert "mysql:// is not supported" in line and "postgresql://" in line


def _wecom(port: int, secret: str = "${RC_TRIAL_WECOM_SECRET}", key: str = AES_KEY) -> str:
    return ("channels:\n  wecom:\n    enabled: true\n    corp_id: ww1\n    agent_id: 1000002\n"
            f"    secret: '{secret}'\n    token: tok\n    encoding_aes_key: '{key}'\n"
            f"    listen: 127.0.0.1\n    port: {port}\n")


def _upgraded(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str) -> Path:
    config = _config(tmp_path, "sqlite:///data/c.sqlite3", extra)
    status, out, err = _repcoach(config, capsys, "db", "upgrade")
    assert status == 0 and "upgraded from (empty) to " in out, err
    return config


def test_a_missing_channel_secret_names_the_key_and_the_unset_variable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RC_TRIAL_WECOM_SECRET", raising=False)
    config = _upgraded(tmp_path, capsys, _wecom(_free_port()))
    status, _, err = _repcoach(config, capsys, "run")
    line = _one_error(status, err)
    assert "channels.wecom is missing: secret" in line
    assert "RC_TRIAL_WECOM_SECRET (for secret)" in line


def test_a_bad_encoding_aes_key_says_its_length(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _upgraded(tmp_path, capsys, _wecom(_free_port(), "sec", "short-key"))
    status, _, err = _repcoach(config, capsys, "run")
    line = _one_error(status, err)
    assert "channels.wecom" in line and "43 characters long, not 9" in line


def test_a_second_worker_on_a_taken_port_names_the_port_and_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as first_worker:
        first_worker.bind(("127.0.0.1", 0))
        first_worker.listen()
        port = first_worker.getsockname()[1]
        config = _upgraded(tmp_path, capsys, _wecom(port, "sec"))
        status, _, err = _repcoach(config, capsys, "run")
    line = _one_error(status, err)
    assert f"127.0.0.1:{port} (channels.wecom.port): address already in use" in line
    assert "--port" in line


def test_verbose_still_shows_the_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://repcoach:pw@127.0.0.1:{_free_port()}/repcoach"
    status = main(["-v", "--config", str(_config(tmp_path, url)), "ae", "list"])
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("error: cannot use the database")
    assert "Traceback" in err and "OperationalError" in err


def test_enroll_with_a_wecom_user_says_one_thing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bound to WeCom now; the code only adds another chat account, so it is not presented
    as a step the rep must take."""
    config = _upgraded(tmp_path, capsys, "")
    status, out, _ = _repcoach(config, capsys, "enroll", "--name", "王芳", "--wecom-user",
                               "wangf")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "enrolled 王芳 (rep)."
    assert lines[1] == ("WeCom user wangf is bound: they can write to the WeCom app now; "
                        "no code needed.")
    assert lines[2].startswith("Only to add another chat account (e.g. Telegram): they send "
                               "/start ")
    assert len(lines) == 3 and "Send /start CODE" not in out
    status, out, _ = _repcoach(config, capsys, "enroll", "--name", "李雷")
    assert out.splitlines()[1] == "Send /start CODE to the bot within 7 days; the code works once."


def test_the_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    """The same through the installed command, as an admin runs it."""
    import subprocess

    url = f"postgresql://repcoach:pw@127.0.0.1:{_free_port()}/repcoach"
    result = subprocess.run([sys.executable, "-m", "bot", "--config",
                             str(_config(tmp_path, url)), "db", "upgrade"],
                            capture_output=True, text=True, timeout=60)
    assert _one_error(result.returncode, result.stderr).startswith(
        "error: cannot use the database at postgresql+psycopg://repcoach:***@127.0.0.1:")


def test_database_pool_size_sets_both_pools_of_a_worker(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres: str) -> None:
    """docs/deploy.md: a worker opens at most 6 x pool_size connections."""
    from bot.__main__ import open_database
    from bot.config import load_config

    config = _config(tmp_path, postgres, "")
    config.write_text(config.read_text().replace(
        "database: {url: '" + postgres + "'}", "database: {url: '" + postgres + "', pool_size: 3}"),
        encoding="utf-8")
    assert _repcoach(config, capsys, "db", "upgrade")[0] == 0
    database = open_database(load_config(config))
    try:
        database._async_sessions()
        assert database._async_engine is not None
        pools = [database.engine.pool, database._async_engine.pool]
        assert [(p.size(), p._max_overflow) for p in pools] == [(3, 6), (3, 6)]  # type: ignore[attr-defined]
    finally:
        database.dispose()


def test_a_token_telegram_refuses_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from testkit.fakes.telegram_api import FakeTelegram

    async def refused() -> tuple[int, str, str]:
        async with FakeTelegram(token="123:ABC") as fake:
            config = _upgraded(tmp_path, capsys, (
                "channels:\n  telegram:\n    enabled: true\n    token: '999:WRONG'\n"
                f"    base_url: {fake.base_url}\n    mode: polling\n"))
            return await asyncio.to_thread(_repcoach, config, capsys, "run")

    status, _, err = asyncio.run(refused())
    line = _one_error(status, err)
    assert "channels.telegram.token: Telegram refused this token" in line
