"""A worker start on playbook files that passed validation before, with the same code, skips
the validation pass; changed files are validated in full and a broken one is still refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from coach.library import PlaybookErrors, check_directory, load_library
from coach.validation_cache import ValidationCache

ROOT = Path(__file__).resolve().parent.parent
# a step that goes nowhere: validation's finding, not the loader's
BROKEN_NEXT = ("next: nowhere_at_all", "unknown-step")


@pytest.fixture
def playbook_dir(tmp_path: Path) -> Path:
    target = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", target)
    return target


def _break(playbook_dir: Path) -> None:
    """Make help.yaml's first step go to a step that does not exist."""
    path = playbook_dir / "help.yaml"
    text = path.read_text(encoding="utf-8")
    first_step = text.index("  - id:")
    line_end = text.index("\n", first_step)
    path.write_text(text[:line_end + 1] + f"    {BROKEN_NEXT[0]}\n" + text[line_end + 1:],
                    encoding="utf-8")


def test_a_clean_verdict_is_kept_in_the_cache_folder(playbook_dir: Path,
                                                     tmp_path: Path) -> None:
    cache = ValidationCache(tmp_path / "cache")
    first = load_library(playbook_dir, verdicts=cache)
    kept = list((tmp_path / "cache").glob("playbooks-*.json"))
    assert len(kept) == 1
    again = load_library(playbook_dir, verdicts=cache)
    assert sorted(again.playbooks) == sorted(first.playbooks)
    assert again.by_command.keys() == first.by_command.keys()


def test_a_playbook_broken_after_a_clean_verdict_is_refused(playbook_dir: Path,
                                                            tmp_path: Path) -> None:
    cache = ValidationCache(tmp_path / "cache")
    load_library(playbook_dir, verdicts=cache)
    _break(playbook_dir)
    with pytest.raises(PlaybookErrors) as refused:
        load_library(playbook_dir, verdicts=cache)
    assert [str(i) for i in refused.value.issues] == [str(i) for i in
                                                      check_directory(playbook_dir)]
    assert any(i.code == BROKEN_NEXT[1] and i.file.endswith("help.yaml")
               for i in refused.value.issues)


def test_a_new_file_beside_validated_ones_is_validated(playbook_dir: Path,
                                                       tmp_path: Path) -> None:
    cache = ValidationCache(tmp_path / "cache")
    load_library(playbook_dir, verdicts=cache)
    extra = (playbook_dir / "help.yaml").read_text(encoding="utf-8")
    (playbook_dir / "help2.yaml").write_text(extra, encoding="utf-8")  # same id, commands
    with pytest.raises(PlaybookErrors) as refused:
        load_library(playbook_dir, verdicts=cache)
    assert any(i.file.endswith("help2.yaml") for i in refused.value.issues)


def test_a_cache_folder_that_cannot_be_written_only_costs_time(playbook_dir: Path,
                                                               tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    cache = ValidationCache(blocked / "cache")
    assert "help" in load_library(playbook_dir, verdicts=cache).playbooks
    _break(playbook_dir)
    with pytest.raises(PlaybookErrors):
        load_library(playbook_dir, verdicts=cache)


def test_the_cache_folder_is_configured_or_off(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("playbooks: {cache_dir: state/cache}\n", encoding="utf-8")
    cache = load_config(config).validation_cache()
    assert cache is not None and cache.folder == (tmp_path / "state" / "cache").resolve()
    config.write_text("playbooks: {cache_dir: 'off'}\n", encoding="utf-8")
    assert load_config(config).validation_cache() is None
    config.write_text("playbooks: {dir: playbooks}\n", encoding="utf-8")
    default = load_config(config).validation_cache()
    assert default is not None and default.folder.name == "repcoach"


def _repcoach(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, input="")


def test_the_bot_started_once_still_refuses_a_playbook_broken_since(
        playbook_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path}/db.sqlite3'}}\n"
                      f"playbooks: {{dir: '{playbook_dir}', cache_dir: '{tmp_path}/cache'}}\n",
                      encoding="utf-8")
    assert _repcoach("--config", str(config), "db", "upgrade", cwd=ROOT).returncode == 0
    started = _repcoach("--config", str(config), "chat", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert list((tmp_path / "cache").glob("playbooks-*.json"))
    _break(playbook_dir)
    refused = _repcoach("--config", str(config), "chat", cwd=tmp_path)
    assert refused.returncode == 1
    assert "help.yaml" in refused.stderr and "unknown-step" in refused.stderr
    assert "refusing to start" in refused.stderr
    checked = _repcoach("check", str(playbook_dir), cwd=ROOT)
    assert checked.returncode == 1 and "unknown-step" in checked.stdout
