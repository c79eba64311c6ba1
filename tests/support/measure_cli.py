"""The command line of a labelled-set measure (`python -m tests.test_x [PLAYBOOKS]`): load
the playbooks given (or the repository's), run the measure, print "right/total" and each
miss. One entry for every measure of that shape, so their output reads alike."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from coach.capture import load_lexicon
from coach.capture.lexicon import Lexicon
from coach.library import Library, load_library

ROOT = Path(__file__).resolve().parents[2]
Measure = Callable[[Library, Lexicon], tuple[int, list[str]]]


def print_measure(measure: Measure) -> None:
    """Print what `measure` gives on the playbooks named by the first argument."""
    playbooks = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "playbooks"
    lexicon, problems = load_lexicon(playbooks / "capture" / "lexicon.yaml")
    assert lexicon is not None, problems
    right, misses = measure(load_library(playbooks), lexicon)
    print(f"{right}/{right + len(misses)} right")
    for miss in misses:
        print(f"  {miss}")
