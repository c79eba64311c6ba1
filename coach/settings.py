"""Engine settings: the knobs a company tunes without touching code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DigestSettings:
    """When the weekly digest goes out (company time, `utc_offset_hours`) and what counts as
    a stalled key account in it; `config.yaml` under `digest:` sets them.

    Off unless the configuration turns it on (`repcoach run` does by default: `digest.enabled`
    is true in config.yaml's defaults): an engine built in code, as tests and benchmarks
    build it, pushes nothing a test did not ask for when its clock passes a Monday."""

    enabled: bool = False
    weekday: int = 0  # Monday; 0..6 as datetime.weekday()
    hour: int = 8
    minute: int = 30
    stalled_visit_days: int = 21  # N: a key account not visited for this long is stalled
    stalled_stage_weeks: int = 6  # M: or one whose stage has not moved for this long


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
    digest: DigestSettings = field(default_factory=DigestSettings)
    auto_enroll_channels: frozenset[str] = field(
        default_factory=lambda: frozenset({"console", "memory"})
    )
