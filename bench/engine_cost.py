"""Part 2: the engine alone (`Engine.handle_sync`), per turn kind, on an empty and a full
store, on SQLite and on PostgreSQL.

"Empty" is the same generator at `Sizes.empty` reps (200): every rep has the same book as in
the full store (50 accounts, 200 notes ...), so the only thing that differs is how much
*other* data the tables hold. Samples alternate between the two stores turn by turn, so
noise from other jobs on the machine falls on both alike. Each sample is a fresh random rep;
the turns that bring it to the measured one (/cancel, /quiz, ...) are not timed.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.procs import settle_heap
from bench.report import Check, Part, Row
from bench.seed import SeedReport, create_postgres_database, memory_user, sample_account, seed
from bench.sizes import Sizes, StoreSize
from bench.stats import Summary, fmt, fmt_ratio, ratio
from coach.engine import Engine
from coach.library import Library
from coach.messages import Reply
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.testing import MemoryChat

KINDS: dict[str, str] = {
    "quiz_answer": "quiz answer (button → next question)",
    "quiz_result": "quiz answer, last (scores + chart)",
    "note_text": "note log 1/2: free text naming the customer → proposal",
    "note_saved": "note log 2/2: ✅ save → visit saved (+ follow-up, coaching tip)",
    "note_pick": "note naming nobody: tap a recent customer → visit saved",
    "lookup": "account lookup by fuzzy name",
    "next": "next-step suggestion",
    "plan": "plan generation",
}
NO_ABSOLUTE_LIMIT = {"plan"}  # the issue exempts plan generation from the 10 ms target
STATES = ("empty", "full")
P99_LIMIT_MS = 10.0
GROWTH_LIMIT = 1.5
# a visit note naming one of the rep's own customers (hospital and name filled in), with a
# follow-up; and one naming nobody, which asks "who did you see?"
NOTE = "今天见了{hospital}{name}，他对新版指南很感兴趣，要了两篇文献，下周三带研究摘要过去"
NOTE_NOBODY = "科室会改期了，只打了个招呼，下周三再去"


class UnexpectedReply(AssertionError):
    """A benchmark turn did not answer what the flow should have: its timing would lie."""


@dataclass
class Store:
    state: str
    url: str
    size: StoreSize
    engine: Engine
    statements: list[int] = field(default_factory=lambda: [0])
    queues: dict[str, deque[int]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def next_rep(self, scenario: str) -> int:
        queue = self.queues.get(scenario)
        if not queue:
            reps = list(range(1, self.size.reps + 1))
            self.rng.shuffle(reps)
            queue = self.queues[scenario] = deque(reps)
        return queue.popleft()


@dataclass
class Timings:
    turns: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    cpu: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    statements: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    recording: bool = True

    def timed(self, store: Store, kind: str, action: Callable[[], list[Reply]],
              expect: Callable[[list[Reply]], bool]) -> list[Reply]:
        replies, turn = measure_turn(store, action)
        if not expect(replies):
            shown = " | ".join(r.text[:60] for r in replies)
            raise UnexpectedReply(f"{store.state} store, {kind}: unexpected reply: {shown}")
        self.record(store, kind, turn)
        return replies

    def record(self, store: Store, kind: str, turn: TurnCost) -> None:
        if self.recording:
            key = (store.state, kind)
            self.turns.setdefault(key, []).append(turn.seconds)
            self.cpu.setdefault(key, []).append(turn.cpu)
            self.statements.setdefault(key, []).append(turn.statements)


@dataclass(frozen=True)
class TurnCost:
    seconds: float  # wall clock
    cpu: float  # CPU time of this thread: what other jobs on the machine cannot inflate
    statements: int


def measure_turn(store: Store, action: Callable[[], list[Reply]]
                 ) -> tuple[list[Reply], TurnCost]:
    before = store.statements[0]
    cpu = time.thread_time()
    started = time.perf_counter()
    replies = action()
    elapsed = time.perf_counter() - started
    return replies, TurnCost(elapsed, time.thread_time() - cpu, store.statements[0] - before)


def _has(*needles: str) -> Callable[[list[Reply]], bool]:
    def check(replies: list[Reply]) -> bool:
        shown = MemoryChat.text(replies)
        return any(n in shown for n in needles)
    return check


def _chat(store: Store, rep: int) -> MemoryChat:
    """The engine's turn alone: a document's font is cut when a channel delivers it, in a
    helper process (coach/documents/font_worker.py), not in the turn."""
    return MemoryChat(store.engine, user_id=memory_user(rep), fonts=False)


def scenario_quiz(store: Store, timings: Timings, rng: random.Random, result: bool) -> None:
    chat = _chat(store, store.next_rep("quiz"))
    chat.say("/cancel")
    chat.say("/quiz")
    chat.press("开始")
    timings.timed(store, "quiz_answer", lambda: chat.press_nth(rng.randrange(4)), _has("2/18"))
    if not result:
        return
    for _ in range(16):
        chat.press_nth(rng.randrange(4))
    timings.timed(store, "quiz_result", lambda: chat.press_nth(rng.randrange(4)),
                  lambda replies: any(r.attachment is not None for r in replies))


def scenario_note(store: Store, timings: Timings, rng: random.Random,
                  accounts: Callable[[int], tuple[str, str]]) -> None:
    """A note naming one of the rep's customers: read and proposed, then saved with one tap.
    A few seeded customers are not proposed: a same-surname rival makes the bot ask which
    one, and a name the note reader does not take for one (a given name such as 刚, a family
    name missing from its lexicon) makes it ask who. Either way one tap on the first option
    saves the visit, as ✅ does."""
    rep = store.next_rep("note")
    name, hospital = accounts(rep)
    chat = _chat(store, rep)
    chat.say("/cancel")
    replies = timings.timed(store, "note_text",
                            lambda: chat.say(NOTE.format(hospital=hospital, name=name)),
                            _has("📝 这样记下？", "是下面哪一位", "📝 见了谁？"))
    if "📝 这样记下？" in MemoryChat.text(replies):
        save = partial(chat.press, "✅ 保存")
    else:
        save = partial(chat.press_nth, 0)
    timings.timed(store, "note_saved", save, _has("已记下"))
    # a note naming nobody: the customer is picked from the recent ones, which saves it
    chat.say(NOTE_NOBODY)
    timings.timed(store, "note_pick", lambda: chat.press_nth(0), _has("已记下"))


def scenario_lookup(store: Store, timings: Timings, rng: random.Random,
                    accounts: Callable[[int], tuple[str, str]]) -> None:
    """A customer typed by a near name at a customer question (/stage's "which customer?"):
    found and taken, or the candidates, or not found."""
    rep = store.next_rep("lookup")
    name, hospital = accounts(rep)
    chat = _chat(store, rep)
    chat.say("/cancel")
    chat.say("/stage")
    typed = f"{name[0]}医生 {hospital}".strip()
    timings.timed(store, "lookup", lambda: chat.say(typed), _has("1/8", "找到几位", "没找到"))


def scenario_next(store: Store, timings: Timings, rng: random.Random) -> None:
    chat = _chat(store, store.next_rep("next"))
    chat.say("/cancel")
    chat.say("/next")
    timings.timed(store, "next", lambda: chat.press_nth(0),
                  _has("💡", "上限", "都已经用过"))


def scenario_plan(store: Store, timings: Timings, rng: random.Random) -> None:
    """/plan for the most recent customer; the turn that hands over the document is timed
    (without the font, which is cut at delivery, see `_chat`).
    The flow's questions are answered as they come (keep the goal, a date, first choice)."""
    chat = _chat(store, store.next_rep("plan"))
    chat.say("/cancel")
    chat.say("/plan")
    chat.press_nth(0)
    for _ in range(5):
        labels = [c.label for c in chat.choices()]
        keep = next((label for label in labels if "保持" in label), None)
        if keep is not None:
            replies, turn = measure_turn(store, partial(chat.press, keep))
        elif labels:
            replies, turn = measure_turn(store, lambda: chat.press_nth(0))
        else:
            replies, turn = measure_turn(store, lambda: chat.say("3个月后"))
        if any(r.attachment is not None for r in replies):
            timings.record(store, "plan", turn)
            return
    raise UnexpectedReply(f"{store.state} store, plan: no document after five answers")


def _open_store(state: str, url: str, size: StoreSize, library: Library) -> Store:
    database = Database(url)
    store = Store(state, url, size, Engine(database, library, EngineSettings()))

    @event.listens_for(database.engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        store.statements[0] += 1

    return store


def measure(stores: list[Store], sizes: Sizes, *, deadline: float,
            progress: Callable[[str], None], plan: bool) -> Timings:
    """Warm up, then alternate the stores sample by sample; stops early at `deadline`.

    The engine runs in this process, which also holds what seeding and earlier parts left;
    like `repcoach run` once it is up (bot.runner.keep_startup_out_of_collections), it
    first moves what exists into the collector's permanent generation, so a full
    collection inside a timed turn walks only what the turns made."""
    settle_heap()
    rng = random.Random(11)
    lookups: dict[str, Callable[[int], tuple[str, str]]] = {}
    for store in stores:
        lookups[store.state] = partial(sample_account, store.engine.database.engine,
                                       rng=random.Random(3))
    timings = Timings(recording=False)
    for round_number in range(2 + sizes.samples):
        if round_number == 2:
            timings.recording = True
        if time.monotonic() > deadline:
            progress(f"engine: time bound reached after {round_number - 2} samples")
            break
        chart = round_number < 2 or (round_number - 2) % sizes.chart_every == 0
        order = stores if round_number % 2 == 0 else list(reversed(stores))
        for scenario in ("quiz", "note", "lookup", "next", "plan"):
            if scenario == "plan" and not plan:
                continue
            for store in order:
                if scenario == "quiz":
                    scenario_quiz(store, timings, rng, result=chart)
                elif scenario == "note":
                    scenario_note(store, timings, rng, lookups[store.state])
                elif scenario == "lookup":
                    scenario_lookup(store, timings, rng, lookups[store.state])
                elif scenario == "next":
                    scenario_next(store, timings, rng)
                else:
                    scenario_plan(store, timings, rng)
    return timings


@dataclass
class BackendResult:
    backend: str
    seeds: dict[str, SeedReport]
    timings: Timings


def run_backend(backend: str, sizes: Sizes, library: Library, workdir: Path,
                postgres_url: str | None, *, seconds: float,
                progress: Callable[[str], None]) -> BackendResult:
    """Seed both stores of `backend`, measure, and drop them."""
    seeds: dict[str, SeedReport] = {}
    stores: list[Store] = []
    for state, size in (("empty", sizes.empty), ("full", sizes.full)):
        if backend == "sqlite":
            path = workdir / f"engine-{state}.sqlite3"
            path.unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        else:
            assert postgres_url is not None
            url = create_postgres_database(postgres_url, f"bench_{state}")
        progress(f"engine: seeding {backend} {state} store ({size.reps} reps)")
        seeds[state] = seed(url, size)
        progress(f"engine: {backend} {state}: {seeds[state].total_rows:,} rows in "
                 f"{seeds[state].seconds:.1f} s")
        stores.append(_open_store(state, url, size, library))
    try:
        timings = measure(stores, sizes, deadline=time.monotonic() + seconds, progress=progress,
                          plan=plan_built(library))
    finally:
        for store in stores:
            store.engine.database.dispose()
    return BackendResult(backend, seeds, timings)


def plan_built(library: Library) -> bool:
    """Whether the playbooks have a plan feature (a `/plan` command) to measure."""
    return "plan" in library.by_command


def report(results: list[BackendResult], sizes: Sizes, part: Part,
           skipped: dict[str, str], not_built: set[str]) -> None:
    full, empty = sizes.full, sizes.empty
    part.add(
        f"`Engine.handle_sync` alone (no channel), one turn at a time. **Full** store: "
        f"{full.reps:,} reps, {full.accounts:,} accounts, {full.notes:,} notes, plus stage "
        f"history ({full.accounts * full.stage_changes_per_account:,}), suggestions "
        f"({full.reps * full.suggestions_per_rep:,}), follow-ups, style assessments, quiz "
        f"results, processed message ids ({full.reps * full.processed_messages_per_rep:,}) and a "
        "conversation row per rep (mid-quiz). **Empty** store, the baseline: the same "
        f"generator at {empty.reps} reps, so each rep's own book is identical "
        f"({full.accounts_per_rep} accounts, {full.accounts_per_rep * full.notes_per_account} "
        "notes ...) and only the rest of the company is missing. Samples alternate "
        "between the stores turn by turn; each is a random rep. Targets: full-store p99 ≤ "
        f"{GROWTH_LIMIT}× empty-store p99 and < {P99_LIMIT_MS:.0f} ms (plan generation "
        "excepted). Wall-clock time is what the targets are about; on a shared machine a "
        "few preempted turns can decide a p99, so the p50 ratio and the ratio of p99 "
        "*thread CPU time* (which other jobs cannot inflate; on PostgreSQL it leaves out "
        "the server's share) are shown beside it. SQL = statements per turn (median).",
        "",
    )
    seed_rows: list[list[str]] = []
    for result in results:
        for state, rep in result.seeds.items():
            seed_rows.append([result.backend, state, f"{rep.total_rows:,}", f"{rep.seconds:.1f}",
                              f"{rep.load_seconds:.1f}", f"{rep.index_seconds:.1f}",
                              f"{rep.rows_per_second:,.0f}"])
            part.rows.append(Row(f"seed/{result.backend}/{state}", {
                "rows": rep.total_rows, "seconds": round(rep.seconds, 2),
                "rows_per_second": round(rep.rows_per_second)}))
    for backend, why in skipped.items():
        for state in STATES:
            part.rows.append(Row(f"seed/{backend}/{state}", {"why": why}, status="skipped"))
    if seed_rows:
        part.add("Seeding (migrate, bulk insert / COPY, rebuild indexes; PostgreSQL then "
                 "`VACUUM (ANALYZE)` and `CHECKPOINT`, see bench/seed.py):", "")
        part.table(["backend", "store", "rows", "total s", "load s", "indexes (+ vacuum) s",
                    "rows/s"], seed_rows)
    body: list[list[str]] = []
    for result in results:
        for kind, label in KINDS.items():
            key = f"engine/{result.backend}/{kind}"
            if kind in not_built:
                body.append([result.backend, label, "not built yet", *[""] * 8])
                part.rows.append(Row(key, {}, status="not built yet"))
                continue
            ms = {s: Summary.of(result.timings.turns.get((s, kind), [])).scaled(1000)
                  for s in STATES}
            cpu = {s: Summary.of(result.timings.cpu.get((s, kind), [])) for s in STATES}
            sql = sorted(result.timings.statements.get(("full", kind), [0]))
            statements = sql[len(sql) // 2]
            growth = ratio(ms["full"].p99, ms["empty"].p99)
            median_growth = ratio(ms["full"].p50, ms["empty"].p50)
            cpu_growth = ratio(cpu["full"].p99, cpu["empty"].p99)
            body.append([result.backend, label, fmt(ms["empty"].p50, 2), fmt(ms["empty"].p99, 2),
                         fmt(ms["full"].p50, 2), fmt(ms["full"].p99, 2),
                         fmt_ratio(median_growth), fmt_ratio(growth), fmt_ratio(cpu_growth),
                         str(statements), str(ms["full"].n)])
            part.rows.append(Row(key, {
                "empty_p50_ms": round(ms["empty"].p50, 3),
                "empty_p99_ms": round(ms["empty"].p99, 3),
                "full_p50_ms": round(ms["full"].p50, 3),
                "full_p99_ms": round(ms["full"].p99, 3),
                "p99_ratio": round(growth, 3), "p50_ratio": round(median_growth, 3),
                "cpu_p99_ratio": round(cpu_growth, 3), "sql_per_turn": statements,
                "samples": ms["full"].n}))
            part.checks.append(Check(
                f"{result.backend}: {label}: full p99 ≤ {GROWTH_LIMIT}× empty p99",
                f"{fmt(ms['full'].p99, 2)} ms vs {fmt(ms['empty'].p99, 2)} ms "
                f"({fmt_ratio(growth)})", growth <= GROWTH_LIMIT))
            if kind not in NO_ABSOLUTE_LIMIT:
                part.checks.append(Check(
                    f"{result.backend}: {label}: full p99 < {P99_LIMIT_MS:.0f} ms",
                    f"{fmt(ms['full'].p99, 2)} ms", ms["full"].p99 < P99_LIMIT_MS))
    for backend, why in skipped.items():
        for kind in KINDS:
            part.rows.append(Row(f"engine/{backend}/{kind}", {"why": why}, status="skipped"))
        body.append([backend, f"skipped: {why}", *[""] * 9])
    part.table(["backend", "turn kind", "empty p50 ms", "empty p99 ms", "full p50 ms",
                "full p99 ms", "full/empty p50", "full/empty p99", "same, thread CPU p99",
                "SQL", "samples"], body)


def run(sizes: Sizes, library: Library, workdir: Path, postgres_url: str | None,
        postgres_missing: str | None, *, seconds: float,
        progress: Callable[[str], None]) -> Part:
    part = Part("2. Cost against data size: the engine alone")
    started = time.monotonic()
    results: list[BackendResult] = []
    skipped: dict[str, str] = {}
    backends = ["sqlite"] + (["postgres"] if postgres_url is not None else [])
    if postgres_url is None:
        skipped["postgres"] = postgres_missing or "PostgreSQL not available"
    for backend in backends:  # `seconds` bounds the measuring, not the seeding
        results.append(run_backend(backend, sizes, library, workdir, postgres_url,
                                   seconds=seconds / len(backends), progress=progress))
    report(results, sizes, part, skipped, set() if plan_built(library) else {"plan"})
    part.seconds = time.monotonic() - started
    return part
