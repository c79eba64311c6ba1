"""Compliance guard for free-text visit notes: redact personal data and per-doctor prescription
numbers, flag kickbacks, gifts and off-label promotion, and spot adverse events.

    guard = load_guard(Path("playbooks/compliance/rules.yaml"))   # GuardConfigError if broken
    result = guard.check(note)        # pure; store result.redacted, never `note`
    result.redactions                 # (kind, placeholder, start, end, category); no values
    result.flags                      # (category, rule, phrase (redacted), start, end)
    result.adverse_event              # AdverseEvent(phrases, rules) or None: day 0 is now
    for category in result.categories:
        guard.explanation(category, locale)   # zh / en text from rules.yaml

Offsets refer to the input note. One placeholder per kind, the same bilingual text for every
occurrence (`[手机号/phone]`, `[处方数/Rx count]` …; `guard.placeholders`). The rules
(patterns, word lists, negations, placeholders, explanation texts) are data in rules.yaml;
this package holds only the mechanisms (config.py), the matching (guard.py), checksum
validators (validators.py) and speed helpers (prefilter.py).
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
