"""Reading numbers people type and keys channels send back."""

from __future__ import annotations


def is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' or '٣', which int() then rejects."""
    return text.isascii() and text.isdigit()
