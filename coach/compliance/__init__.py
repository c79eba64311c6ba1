"""Compliance guard for free-text visit notes: redact personal data and per-doctor prescription
numbers, flag kickbacks, gifts and off-label promotion, and spot adverse events.

    guard = load_guard(Path("playbooks/compliance/rules.yaml"))
    result = guard.check(note)          # pure and fast; store result.redacted, never `note`
    for category in result.categories:  # explain each issue to the rep
        guard.explanation(category, locale)

The rules (patterns, word lists, negations, placeholders, explanation texts) are data in
rules.yaml; this package holds only the mechanisms.
"""

from coach.compliance.config import CATEGORIES, GuardConfigError
from coach.compliance.guard import AdverseEvent, Flag, Guard, GuardResult, Redaction, load_guard

__all__ = [
    "CATEGORIES",
    "AdverseEvent",
    "Flag",
    "Guard",
    "GuardConfigError",
    "GuardResult",
    "Redaction",
    "load_guard",
]
