"""`repcoach run` keeps its start-up objects out of the garbage collector's full passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.runner import keep_startup_out_of_collections
from coach.library import Library


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def test_the_loaded_playbooks_are_frozen_and_a_full_collection_skips_them(
        library: Library, thawed: None) -> None:
    before = gc.get_freeze_count()
    keep_startup_out_of_collections()
    assert gc.get_freeze_count() > before + len(gc.get_referents(library))
    tracked = {id(o) for o in gc.get_objects()}
    assert id(library) not in tracked  # frozen objects are not among those collections walk
