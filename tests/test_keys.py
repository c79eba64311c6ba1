"""The button-key codec: every key the engine offers decodes to exactly what it encoded, fits
Telegram's 64 bytes, and anything else a channel might send back decodes to nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.turn.keys import (
    MAX_ID,
    MAX_KEY_BYTES,
    AdverseEventKey,
    ButtonKey,
    ChoiceKey,
    NudgeKey,
    ReminderKey,
    SnoozeKey,
    decode,
    encode,
)

ids = st.integers(min_value=0, max_value=MAX_ID)  # what a row id can be
keys = st.one_of(
    st.builds(ChoiceKey, ids, st.sampled_from(["0", "1", "11", "s", "c", "r", "n"])),
    st.builds(ReminderKey, ids, st.sampled_from(["l", "s", "d"])),
    st.builds(AdverseEventKey, ids, st.sampled_from(["f", "c", "k", "u", "y", "n"])),
    st.builds(NudgeKey, ids),
    st.just(SnoozeKey()),
)


@given(keys)
def test_every_key_round_trips_within_64_bytes(key: ButtonKey) -> None:
    raw = encode(key)
    assert len(raw.encode()) <= MAX_KEY_BYTES
    assert decode(raw) == key


@pytest.mark.parametrize("raw", [
    "", "abc", "1.", ".1", "1.TOKEN", "1.好", "r1.x", "a1.x", "x1.l", "n", "n-1", "r.l",
    "r٣.l", "+1.1", "1.1.1", "n.t", "1." + "9" * 80, "9" * 19 + ".1",
])
def test_anything_else_decodes_to_nothing(raw: str) -> None:
    assert decode(raw) is None


@given(st.text(max_size=80))
def test_random_text_never_breaks_the_decoder(raw: str) -> None:
    key = decode(raw)
    assert key is None or encode(key) == raw


@given(st.integers(min_value=MAX_ID + 1, max_value=10**18))
def test_an_id_no_row_can_have_is_no_key(number: int) -> None:
    """A forged or garbled id beyond a row's range is stale, never a database error."""
    for raw in (f"r{number}.l", f"a{number}.f", f"n{number}", f"{number}.1"):
        assert decode(raw) is None, raw
