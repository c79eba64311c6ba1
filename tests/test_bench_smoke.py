"""`python -m bench --quick` still runs every part and reports every row, so the benchmarks
do not rot. Nothing here looks at timings: the machine is shared and quick sizes say nothing.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bench.run import expected_keys

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"ok", "not built yet", "skipped"}


def test_quick_benchmark_reports_every_row(tmp_path: Path) -> None:
    report, rows_file = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(report), "--json",
         str(rows_file), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    data = json.loads(rows_file.read_text(encoding="utf-8"))
    rows = {row["key"]: row for row in data["rows"]}
    assert sorted(rows) == sorted(expected_keys())
    problems = {key: row for key, row in rows.items() if row["status"] not in ALLOWED}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    for key, row in rows.items():
        if row["status"] == "skipped":  # only PostgreSQL may be missing on a machine
            assert "postgres" in key, row
        if row["status"] != "ok":
            continue
        assert row["values"], key
        for name, value in row["values"].items():
            if isinstance(value, float):
                assert not math.isnan(value), f"{key}: {name} was not measured"
    assert data["checks"], "no target was checked"

    text = report.read_text(encoding="utf-8")
    for title in ("## 1. End to end through Telegram", "## 2. Cost against data size",
                  "## 3. WeCom callbacks", "## 4. Start-up and footprint", "## Targets"):
        assert title in text
    assert "This part failed" not in text
    # the baseline is only a baseline if it made exactly the calls RepCoach made
    assert "the baseline made the same calls" in text
    assert rows["telegram/repcoach-sqlite-none"]["values"]["runs"] == 2
    assert rows["telegram/baseline-none"]["values"]["runs"] == 3
