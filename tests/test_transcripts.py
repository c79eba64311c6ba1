"""Conversation scripts in `tests/transcripts/*.yaml` (format: testkit/transcripts.py), run
against the real engine and store, and, for scripts that list
`channels: [memory, console, telegram, wecom]`, through each of those channels as a person on
it would (testkit/channel_drivers.py). `repcoach test` runs the same scripts on the engine
alone; here every one also runs on both database backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.library import Library
from testkit.channel_drivers import driver_for
from testkit.clock import Clock
from testkit.suite import load_all
from testkit.transcripts import Transcript, play

FOLDER = Path(__file__).parent / "transcripts"
SCRIPTS = sorted(FOLDER.glob("*.yaml"))
LOADED, PROBLEMS = load_all(FOLDER)
BY_FILE = {Path(display).name: transcript for display, transcript in LOADED}


def load(path: Path) -> Transcript:
    """A shipped transcript, already checked against the schema."""
    return BY_FILE[path.name]


def test_every_transcript_matches_the_schema() -> None:
    assert [str(p) for p in PROBLEMS] == []
    assert len(LOADED) == len(SCRIPTS)


def _runs() -> list[tuple[Path, str]]:
    """Each script on the engine alone, and on the channels its `channels:` names."""
    return [(path, channel) for path in SCRIPTS if path.name in BY_FILE
            for channel in load(path).channels]


@pytest.mark.parametrize(("path", "channel"), _runs(),
                         ids=[f"{p.stem}-{c}" for p, c in _runs()])
async def test_transcript(path: Path, channel: str, db_url: str, library: Library,
                          clock: Clock, tmp_path: Path) -> None:
    await play(load(path), f"{path.name} ({channel})", db_url, library, clock,
               driver_for(channel, tmp_path))


def test_there_are_transcripts_for_every_playbook(library: Library) -> None:
    covered = {playbook for _, transcript in LOADED for playbook in transcript.covers}
    assert set(library.playbooks) <= covered, sorted(set(library.playbooks) - covered)
