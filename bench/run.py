"""`python -m bench`: run the parts, write the report.

    python -m bench                    # full sizes, writes docs/benchmarks.md (< 15 min, 2 cores)
    python -m bench --quick            # tiny sizes, seconds; prints the report
    python -m bench --size medium      # in between, for working on the harness
    python -m bench --parts engine,wecom --out /tmp/b.md --json /tmp/b.json
    python -m bench --profile DIR      # also py-spy the Telegram bot processes (if installed)

A PostgreSQL server is started for the run with tests/support/postgres.py (and stopped after);
where its binaries are missing, the PostgreSQL rows say so and the rest still runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import big_store, capture_cost, engine_cost, scaling, startup, telegram_e2e, wecom_cb
from bench.procs import ROOT
from bench.report import Check, Machine, Part, Row, load_average, render, write_json
from bench.seed import seed
from bench.sizes import SIZES, Sizes

PARTS = ("engine", "startup", "telegram", "wecom", "capture", "accounts", "scaling")
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
ENGINE_SECONDS = {"quick": 60.0, "medium": 120.0, "full": 240.0}  # measuring, both backends


def expected_keys() -> list[str]:
    """Every row a complete run produces (tests/test_bench_smoke.py checks them)."""
    keys = [f"seed/{b}/{s}" for b in ("sqlite", "postgres") for s in engine_cost.STATES]
    keys += [f"engine/{b}/{k}" for b in ("sqlite", "postgres") for k in engine_cost.KINDS]
    keys += [f"telegram/{n}" for n in ("repcoach-sqlite-none", "baseline-none",
                                       "repcoach-postgres-none", "repcoach-sqlite-aio",
                                       "baseline-aio")]
    keys += ["wecom/repcoach", "wecom/bare"]
    keys += ["startup/first_reply", "startup/playbooks", "startup/memory"]
    keys += [f"capture/{p.stem}" for p in sorted((ROOT / "tests" / "data").glob("capture_*.yaml"))]
    keys += ["capture/read_ms"]
    keys += [f"big_store/{size}" for size in big_store.SIZES]
    keys += [f"scaling/workers-{n}" for n in (1, 2, 3)]
    return keys


class Progress:
    def __init__(self, started: float) -> None:
        self.started = started

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr,
              flush=True)


@contextlib.contextmanager
def postgres(workdir: Path, wanted: bool) -> Iterator[tuple[str | None, str | None, str]]:
    """(server URL, why not, version) of a throwaway PostgreSQL server for the run."""
    if not wanted:
        yield None, "not part of this run", "not used"
        return
    try:
        from tests.support.postgres import find_postgres_bindir, running_postgres

        find_postgres_bindir()
    except (ImportError, RuntimeError) as exc:
        reason = ("PostgreSQL server binaries not installed" if isinstance(exc, RuntimeError)
                  else f"cannot start PostgreSQL: {exc}")
        yield None, reason, "not installed"
        return
    with running_postgres(workdir / "postgres") as url:
        yield url, None, _postgres_version(url)


def _postgres_version(url: str) -> str:
    from sqlalchemy import create_engine, pool, text

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


PREFIXES = {"engine": ("seed/", "engine/"), "startup": ("startup/",),
            "telegram": ("telegram/",), "wecom": ("wecom/",), "capture": ("capture/",),
            "scaling": ("scaling/",)}
TITLES = {"engine": "2. Cost against data size: the engine alone",
          "startup": "4. Start-up and footprint", "telegram": "1. End to end through Telegram",
          "wecom": "3. WeCom callbacks", "capture": capture_cost.TITLE,
          "scaling": scaling.TITLE}


def _failed(name: str, error: BaseException, started: float) -> Part:
    """A part that raised: say so in the report, and mark its rows failed."""
    part = Part(TITLES[name], seconds=time.monotonic() - started)
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    part.add(f"**This part failed:** `{detail[:600]}`", "")
    part.rows = [Row(key, {"error": detail[:300]}, status="failed")
                 for key in expected_keys() if key.startswith(PREFIXES[name])]
    part.checks.append(Check(f"{TITLES[name]}: ran to the end", "failed", False))
    return part


def _guarded(name: str, progress: Progress, work: Callable[[], Part]) -> Part:
    started = time.monotonic()
    try:
        return work()
    except Exception as exc:  # one broken part must not lose the others' numbers
        progress(f"{name}: FAILED: {exc}")
        traceback.print_exc()
        return _failed(name, exc, started)


def run(sizes: Sizes, parts: Sequence[str], workdir: Path, profile: Path | None,
        progress: Progress) -> tuple[list[Part], Machine]:
    from coach.library import load_library

    library = load_library(ROOT / "playbooks")
    results: list[Part] = []
    needs_postgres = any(part in parts for part in ("engine", "telegram", "scaling"))
    with postgres(workdir, needs_postgres) as (pg_url, pg_missing, pg_version):
        machine = Machine.describe(pg_version)
        full_store = workdir / "engine-full.sqlite3"
        if "engine" in parts:
            results.append(_guarded("engine", progress, lambda: engine_cost.run(
                sizes, library, workdir, pg_url, pg_missing,
                seconds=ENGINE_SECONDS.get(sizes.name, 150.0), progress=progress)))

        def startup_part() -> Part:
            if not full_store.exists():
                progress(f"startup: seeding the full SQLite store ({sizes.full.reps} reps)")
                seed(f"sqlite:///{full_store}", sizes.full)
            return startup.run(sizes.startup_runs, sizes.playbook_runs,
                               f"sqlite:///{full_store}", sizes.full.reps,
                               sizes.memory_seconds, workdir, progress)

        if "startup" in parts:
            results.append(_guarded("startup", progress, startup_part))
        full_store.unlink(missing_ok=True)
        if "telegram" in parts:
            results.append(_guarded("telegram", progress, lambda: telegram_e2e.run(
                sizes, workdir, pg_url, pg_missing, progress, profile)))
        if "wecom" in parts:
            results.append(_guarded("wecom", progress, lambda: wecom_cb.run(
                workdir, sizes.callbacks, sizes.callback_rounds, progress, profile)))
        if "capture" in parts:
            results.append(_guarded("capture", progress, lambda: capture_cost.run(
                library, workdir, progress)))
        if "accounts" in parts:
            results.append(_guarded("accounts", progress, lambda: big_store.run(
                library, workdir)))
        if "scaling" in parts:
            results.append(_guarded("scaling", progress, lambda: scaling.run(
                sizes, workdir, pg_url, pg_missing, progress)))
    machine.load_after = load_average()
    results.sort(key=lambda part: part.title)
    return results, machine


def _python() -> str:
    """This interpreter as `make bench` spells it (.venv/bin/python) when it is ours."""
    try:
        return str(Path(sys.executable).relative_to(ROOT))
    except ValueError:
        return sys.executable


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (same as --size quick)")
    parser.add_argument("--size", choices=sorted(SIZES), default=None)
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=None,
                        help="markdown report (default: docs/benchmarks.md for full size, "
                             "standard output otherwise)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="scratch directory (default: a temporary one, removed after)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy the Telegram bot and WeCom processes under load "
                             "(skews their timings); collapsed stacks into DIR")
    args = parser.parse_args(argv)
    size = "quick" if args.quick else (args.size or "full")
    sizes = SIZES[size]
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    out = args.out if args.out is not None else (DEFAULT_OUT if size == "full" else None)
    # the fake servers log a traceback for every request cut short when a bot stops
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    progress = Progress(started)
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="repcoach-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    try:
        results, machine = run(sizes, [p for p in PARTS if p in parts], workdir, args.profile,
                               progress)
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    given = list(argv if argv is not None else sys.argv[1:])
    command = shlex.join([_python(), "-m", "bench", *given])
    text = render(results, machine, command, started_at, time.monotonic() - started, size)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        progress(f"wrote {out}")
    else:
        print(text)
    if args.json is not None:
        write_json(args.json, results, machine)
    return 0
