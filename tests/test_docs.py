"""docs/playbooks.md cannot go stale: its action and message reference is generated from the
action registry and REQUIRED_MESSAGES, and this test fails when the file differs from a fresh
generation (run `repcoach docs`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot import docgen
from coach.actions.registry import REGISTRY
from coach.playbook import REQUIRED_MESSAGES

ROOT = Path(__file__).resolve().parent.parent


def test_the_guide_is_current() -> None:
    assert docgen.missing_sections(docgen.GUIDE.read_text("utf-8")) == []
    assert docgen.is_current(), "docs/playbooks.md is stale: run `repcoach docs`"


def test_every_action_is_documented_with_what_it_does() -> None:
    guide = docgen.GUIDE.read_text("utf-8")
    for name, spec in REGISTRY.items():
        assert f"| `{name}` |" in guide
        assert (spec.run.__doc__ or "").strip(), f"action {name} has no docstring to document"
        for arg in spec.args:
            assert f"`{arg}`:" in guide


def test_every_required_message_is_listed() -> None:
    guide = docgen.GUIDE.read_text("utf-8")
    assert all(f"`{key}`" in guide for key in REQUIRED_MESSAGES)


def test_a_new_action_makes_the_guide_stale_and_repcoach_docs_rewrites_it(
        tmp_path: Path) -> None:
    copy = tmp_path / "playbooks.md"
    copy.write_text(docgen.GUIDE.read_text("utf-8").replace("| `set_locale` |", "| `gone` |"),
                    encoding="utf-8")
    assert not docgen.is_current(copy)
    assert docgen.write(copy)
    assert docgen.is_current(copy)
    assert copy.read_text("utf-8") == docgen.GUIDE.read_text("utf-8")


def test_repcoach_docs_check_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "docs", "--check"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
