"""The one rendering rule for channels without buttons: choices become a numbered list, and
the rep answers with the number (or the label), which the engine understands everywhere."""

from __future__ import annotations

from coach.messages import Reply


def numbered_choices(reply: Reply) -> str:
    return "\n".join(f"{i}. {choice.label}" for i, choice in enumerate(reply.choices, start=1))


def as_plain_text(reply: Reply) -> str:
    """The reply's text followed by its choices as a numbered list."""
    if not reply.choices:
        return reply.text
    return f"{reply.text}\n{numbered_choices(reply)}".strip()
