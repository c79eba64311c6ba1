"""The button-key codec: every key the engine offers decodes to exactly what it encoded, fits
Telegram's 64 bytes, and anything else a channel might send back decodes to nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.turn.keys import (
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

ids = st.integers(min_value=0, max_value=10**15)
keys = st.one_of(
    st.builds(ChoiceKey, ids, st.sampled_from(["0", "1", "11", "s", "c", "r", "n"])),
    st.builds(ReminderKey, ids, st.sampled_from(["l", "s", "d"])),
    st.builds(AdverseEventKey, ids),
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
