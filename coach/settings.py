"""Engine settings: the knobs a company tunes without touching code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EngineSettings:
    """Defaults suit a rep on a phone; `config.yaml` under `coach:` overrides them."""

    default_locale: str = "zh"
    suggestions_per_day: int = 5
    dismiss_cooldown_days: int = 30
    max_text_chars: int = 2000
    reminder_hour: int = 9
    utc_offset_hours: int = 8
    enroll_code_days: int = 7
    adverse_event_hours: int = 24
    adverse_event_remind_before_hours: int = 4
    review_days: int = 90
    stalled_visits: int = 5
    auto_enroll_channels: frozenset[str] = field(
        default_factory=lambda: frozenset({"console", "memory"})
    )
