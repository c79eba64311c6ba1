"""How big each part runs: `full` is what the issue asks for, `quick` takes seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreSize:
    """A store made by `bench.seed`: every rep gets the same book, so per-rep work is the
    same whatever the number of reps."""

    reps: int
    accounts_per_rep: int = 50
    notes_per_account: int = 4
    stage_changes_per_account: int = 1
    suggestions_per_rep: int = 30
    followups_per_rep: int = 20
    style_assessments_per_rep: int = 10
    processed_messages_per_rep: int = 100

    @property
    def accounts(self) -> int:
        return self.reps * self.accounts_per_rep

    @property
    def notes(self) -> int:
        return self.accounts * self.notes_per_account


@dataclass(frozen=True)
class Sizes:
    name: str
    # 1. Telegram end to end
    tg_reps: int
    tg_cycles: int  # coaching cycles per rep (≈ 29 turns each) without the limiter
    tg_seconds: float  # the time bound of such a run (a safety net: the cycles end it)
    tg_limited_seconds: float  # the run with AIORateLimiter
    tg_book: StoreSize
    tg_warmup_turns: int | None  # the warm-up rep's turns (None: one whole cycle)
    # 2. engine cost against data size
    full: StoreSize
    empty: StoreSize
    samples: int  # timed turns per kind and store
    chart_every: int  # one quiz-result sample per this many samples
    # 3. WeCom callbacks
    callbacks: int
    callback_rounds: int
    # 4. start-up and footprint
    startup_runs: int
    playbook_runs: int
    memory_seconds: float  # time bound for driving every rep of the full store once
    # 6. scaling out: members in closed loop, seconds per run, worker counts in run order
    scale_members: int = 300  # enough that none nears the client's 28 messages a minute each
    scale_seconds: float = 20.0
    scale_workers: tuple[int, ...] = (1, 2, 3, 3, 2, 1)


FULL = Sizes(
    name="full",
    tg_reps=50, tg_cycles=3, tg_seconds=180.0, tg_limited_seconds=20.0,
    tg_book=StoreSize(reps=51), tg_warmup_turns=None,
    full=StoreSize(reps=10_000), empty=StoreSize(reps=200),
    samples=200, chart_every=1,
    callbacks=200, callback_rounds=5,
    startup_runs=3, playbook_runs=20, memory_seconds=190.0,
)

MEDIUM = Sizes(
    name="medium",
    tg_reps=50, tg_cycles=1, tg_seconds=90.0, tg_limited_seconds=10.0,
    tg_book=StoreSize(reps=51), tg_warmup_turns=None,
    full=StoreSize(reps=1_000), empty=StoreSize(reps=100),
    samples=60, chart_every=6,
    callbacks=200, callback_rounds=2,
    startup_runs=2, playbook_runs=5, memory_seconds=40.0,
    scale_seconds=12.0, scale_workers=(1, 2, 3),
)

QUICK = Sizes(
    name="quick",
    tg_reps=3, tg_cycles=1, tg_seconds=15.0, tg_limited_seconds=5.0,
    tg_book=StoreSize(reps=4, accounts_per_rep=5, notes_per_account=1, suggestions_per_rep=3,
                      followups_per_rep=2, style_assessments_per_rep=1,
                      processed_messages_per_rep=2),
    tg_warmup_turns=3,
    full=StoreSize(reps=30, accounts_per_rep=10, notes_per_account=2, suggestions_per_rep=5,
                   followups_per_rep=3, style_assessments_per_rep=2,
                   processed_messages_per_rep=5),
    empty=StoreSize(reps=6, accounts_per_rep=10, notes_per_account=2, suggestions_per_rep=5,
                    followups_per_rep=3, style_assessments_per_rep=2,
                    processed_messages_per_rep=5),
    samples=3, chart_every=3,
    callbacks=10, callback_rounds=1,
    startup_runs=1, playbook_runs=2, memory_seconds=15.0,
    scale_members=20, scale_seconds=3.0, scale_workers=(1, 2, 3),
)

SIZES = {s.name: s for s in (QUICK, MEDIUM, FULL)}
