"""A broken playbook yields every problem with file and line, and the bot refuses to start."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from coach.library import PlaybookErrors, check_directory, load_library

ROOT = Path(__file__).resolve().parent.parent

BROKEN = textwrap.dedent("""\
    id: broken
    version: 1
    title: {zh: 坏的, en: Broken}
    commands: [broken]
    dimensions: [A, B]
    steps:
      - id: first
        ask: {zh: 选一个, en: Pick one}
        choices:
          - label: {zh: 甲, en: One}
            scores: {Z: 1}
          - label: {zh: 乙}
        next: nowhere
      - id: first
        say: {zh: "你好 {{ missing_name }}", en: "Hello {{ missing_name }}"}
      - id: orphan
        action: no_such_action
      - id: both
        say: {zh: 一, en: one}
        action: score_quiz
      - id: syntax
        say: {zh: "{% if %}", en: fine}
        next: "@no_such_playbook"
    """)


@pytest.fixture
def playbook_dir(tmp_path: Path) -> Path:
    target = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", target)
    return target


def test_shipped_playbooks_are_valid() -> None:
    assert check_directory(ROOT / "playbooks") == []


def test_every_problem_is_reported_with_its_line(playbook_dir: Path) -> None:
    (playbook_dir / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    issues = [i for i in check_directory(playbook_dir) if i.file.endswith("broken.yaml")]
    found = {(i.line, i.code) for i in issues}
    assert (12, "missing-locale") in found  # choice label without `en`
    expected = {
        (11, "unknown-dimension"),  # scores Z, not a declared dimension
        (13, "unknown-step"),  # next: nowhere
        (14, "duplicate-step"),  # second `first`
        (15, "unknown-variable"),  # {{ missing_name }}
        (17, "unknown-action"),
        (18, "step-kind"),  # say and action in one step
        (22, "template-syntax"),
        (23, "unknown-playbook"),
    }
    assert expected <= found, sorted(found)
    assert all(str(i).startswith(f"{i.file}:{i.line}: {i.code}: ") for i in issues)


def test_shape_errors_do_not_hide_each_other(playbook_dir: Path) -> None:
    (playbook_dir / "shape.yaml").write_text(textwrap.dedent("""\
        id: shape
        version: zero
        title: {zh: 形状}
        colour: blue
        steps: []
        """), encoding="utf-8")
    issues = {(i.line, i.code) for i in check_directory(playbook_dir)
              if i.file.endswith("shape.yaml")}
    assert {(2, "bad-value"), (3, "missing-locale"), (4, "unknown-key")} <= issues


def test_yaml_syntax_error_points_at_the_line(playbook_dir: Path) -> None:
    (playbook_dir / "syntax.yaml").write_text("id: x\nsteps:\n  - id: [unclosed\n",
                                              encoding="utf-8")
    issues = [i for i in check_directory(playbook_dir) if i.file.endswith("syntax.yaml")]
    # and once, that what other files say about this one could not be checked
    assert [i.code for i in issues] == ["not-checked", "yaml-syntax"]
    assert issues[1].line >= 3


def test_loading_refuses_a_bad_directory(playbook_dir: Path) -> None:
    (playbook_dir / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(PlaybookErrors) as caught:
        load_library(playbook_dir)
    assert len(caught.value.issues) >= 9


def test_missing_engine_message_is_reported(playbook_dir: Path) -> None:
    system = playbook_dir / "system.yaml"
    catalog = yaml.safe_load(system.read_text(encoding="utf-8"))
    del catalog["messages"]["stale_button"]
    system.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    codes = [(i.code, i.message) for i in check_directory(playbook_dir)]
    assert ("missing-message", "message 'stale_button' is required by the engine") in codes


def _repcoach(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_check_command_prints_every_problem_and_fails(playbook_dir: Path) -> None:
    (playbook_dir / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = _repcoach("check", str(playbook_dir), cwd=ROOT)
    assert result.returncode == 1
    assert "broken.yaml:13: unknown-step:" in result.stdout
    assert "broken.yaml:17: unknown-action:" in result.stdout


def test_bot_refuses_to_start_with_a_bad_playbook(playbook_dir: Path, tmp_path: Path) -> None:
    (playbook_dir / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path}/db.sqlite3'}}\n"
                      f"playbooks: {{dir: '{playbook_dir}'}}\n", encoding="utf-8")
    assert _repcoach("--config", str(config), "db", "upgrade", cwd=ROOT).returncode == 0
    result = _repcoach("--config", str(config), "chat", cwd=tmp_path)
    assert result.returncode == 1
    assert "broken.yaml:13: unknown-step:" in result.stderr
    assert "refusing to start" in result.stderr
