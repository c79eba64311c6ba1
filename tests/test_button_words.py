"""A product button word typed where its button is gone is no visit note (trial G finding
7): measured on tests/data/trial7_button_words.yaml, words the rep taps and later types,
and short real notes that must stay notes. `python -m tests.test_button_words` prints it.
On main every such text started a visit note (the button cases all wrong: 9/28)."""

from __future__ import annotations

from pathlib import Path

import yaml

from coach.capture.lexicon import Lexicon
from coach.library import Library, load_library
from coach.turn.button_words import button_words
from coach.turn.door import normalise
from coach.turn.inputs import plain_label
from tests.support.measure_cli import ROOT, print_measure

CASES = yaml.safe_load((Path(__file__).parent / "data" / "trial7_button_words.yaml")
                       .read_text(encoding="utf-8"))


def measure(library: Library, _lexicon: Lexicon) -> tuple[int, list[str]]:
    right, misses = 0, []
    words = button_words(library)
    for case in CASES:
        got = "button" if plain_label(normalise(case["text"])) in words else "note"
        if got == case["expect"]:
            right += 1
        else:
            misses.append(f"{case['text']!r}: {got}, expected {case['expect']}")
    return right, misses


def test_button_words_set() -> None:
    library = load_library(ROOT / "playbooks")
    _, misses = measure(library, library.lexicon)
    assert not misses, misses


if __name__ == "__main__":
    print_measure(measure)
