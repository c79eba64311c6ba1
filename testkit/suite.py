"""`repcoach test`: every transcript in a folder, against a set of playbooks, each in a
throwaway database, with a report an author can act on and no Python.

Each transcript gets a fresh copy of one migrated SQLite file in a temporary folder, so runs
are independent and nothing touches the real store. Transcripts are written per locale (the
rep switches with /lang), so a folder with `*_zh` and `*_en` scripts tests both; a folder in
which some playbook is checked in one locale only is a problem (`testkit.coverage`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coach.issues import Issue
from coach.library import Library
from coach.store.migrate import upgrade
from testkit.channel_drivers import driver_for
from testkit.clock import Clock
from testkit.coverage import locale_issues
from testkit.transcripts import Failure, StepFailed, Transcript, load_transcript, play


@dataclass
class SuiteResult:
    """What `repcoach test` prints: unreadable transcripts, failed steps, counts."""

    issues: list[Issue] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    passed: int = 0
    locales: dict[str, set[str]] = field(default_factory=dict)  # file: locales it checked in

    @property
    def ok(self) -> bool:
        return not self.issues and not self.failures and self.passed > 0


def transcript_files(directory: Path) -> list[Path]:
    """The transcripts in `directory` (or the one file given), sorted for a stable report."""
    if directory.is_file():
        return [directory]
    return sorted(directory.glob("*.yaml"))


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_all(directory: Path) -> tuple[list[tuple[str, Transcript]], list[Issue]]:
    """Every transcript checked against the schema; problems as `file:line: code: message`."""
    loaded, issues = [], []
    if not directory.exists():
        return [], [Issue(str(directory), 1, "no-directory", "transcript folder not found")]
    for path in transcript_files(directory):
        display = display_path(path)
        transcript, problems = load_transcript(path, display)
        issues.extend(problems)
        if transcript is not None:
            loaded.append((display, transcript))
    return loaded, issues


def run_suite(directory: Path, library: Library, *, all_channels: bool = False,
              progress: Callable[[str], None] = print,
              playbook_dir: Path | None = None,
              show: Callable[[str], None] | None = None) -> SuiteResult:
    """Run every transcript in `directory` on the engine alone (and, with `all_channels`,
    through each channel it lists, on loopback fakes); stop each at its first failed step.
    A folder (not a single file) must check every playbook in both locales."""
    loaded, issues = load_all(directory)
    result = SuiteResult(issues=issues)
    checked = result.locales
    with tempfile.TemporaryDirectory(prefix="repcoach-test-") as folder:
        work = Path(folder)
        template = work / "template.sqlite3"
        upgrade(f"sqlite:///{template}")
        for number, (display, transcript) in enumerate(loaded):
            channels = transcript.channels if all_channels else ["memory"]
            for channel in channels:
                run_dir = work / f"run{number}-{channel}"
                run_dir.mkdir()
                database = run_dir / "repcoach.sqlite3"
                shutil.copy(template, database)
                try:
                    checked.setdefault(display, set()).update(asyncio.run(play(
                        transcript, display, f"sqlite:///{database}", library, Clock(),
                        driver_for(channel, run_dir), show)))
                except StepFailed as failed:
                    result.failures.append(failed.failure)
                    progress(f"FAIL {display} ({channel})")
                else:
                    result.passed += 1
                    progress(f"ok   {display} ({channel})")
    if directory.is_dir() and not issues:
        result.issues += locale_issues(library, loaded, checked, display_path(directory),
                                       playbook_dir)
    return result
