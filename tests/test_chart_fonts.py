"""Chinese on every picture, on any machine (issue 15, item 7). Both charts draw every text in
the Noto Sans CJK font that comes with the install (a package dependency, not a system font),
and that font has a glyph for every character drawn; what a library warns about while drawing
(a name with a character no font has) reaches neither stdout nor stderr; and `repcoach chat`
on a fresh machine (no system font, no matplotlib cache) draws the quiz and the matrix in
Chinese with that font."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pytest
from PIL import Image

from coach.charts import (
    FONT_FACE,
    FONT_FILE,
    labels_in,
    potential_support_matrix,
    quadrant_scores,
    stage_funnel,
)
from coach.library import load_library
from tests.support.drawing import Drawn, not_covered, recording

ROOT = Path(__file__).resolve().parent.parent
CHINESE = re.compile(r"[\u4e00-\u9fff]")
RARE = "𠀀😀"  # an extension-B ideograph and an emoji: no font here has either
QUADRANTS = {"invest": "加大投入", "develop": "重点发展", "maintain": "维护",
             "minimise": "基础维护"}
AXES = {"support": "支持度", "potential": "潜力"}
CUTOFFS = {"high_support": 2, "high_potential": 2}
STYLES = {"A": "分析型", "B": "条理型", "C": "人际型", "D": "全局型"}


def quiz_chart(name: str = "分析型") -> bytes:
    return quadrant_scores({"A": 12, "B": 7, "C": 9, "D": 0}, {**STYLES, "A": name},
                           "你的思维偏好", ["A"])


def matrix_chart(name: str = "孙教授") -> bytes:
    return potential_support_matrix(
        [(name, 3.0, 1.0), ("刘医生", 3.0, 3.0), ("王医生", 2.0, 3.0), ("赵医生", 2.0, 3.0)],
        QUADRANTS, AXES, CUTOFFS)


def funnel_chart() -> bytes:
    return stage_funnel("东区 · 重点客户采纳漏斗（近 4 周）",
                        [("认知", 1), ("兴趣", 3), ("评估", 2), ("试用", 0), ("采纳", 1)],
                        [("前进", 2), ("后退", 1), ("停滞", 3), ("首次诊断", 1)],
                        "共 7 位重点客户")


CHARTS: dict[str, Callable[[], bytes]] = {"quiz": quiz_chart, "matrix": matrix_chart,
                                          "funnel": funnel_chart}


def assert_bundled_font_draws(drawn: list[Drawn], rare: str = "") -> None:
    """Every text in the bundled face, with a glyph for each character but the `rare` ones."""
    assert drawn
    for text in drawn:
        assert os.path.samefile(text.path, FONT_FILE) and text.face == FONT_FACE, text
        assert not_covered(text) == "".join(c for c in text.text if c in rare), text


@pytest.mark.parametrize("chart", CHARTS)
def test_every_text_of_a_chart_is_in_the_bundled_font_which_covers_it(chart: str) -> None:
    with recording() as drawn:
        png = CHARTS[chart]()
    labels = labels_in(png)
    assert labels and all(CHINESE.search(label) for label in labels), labels
    assert set(labels) <= {text.text for text in drawn}  # what it says it shows, it drew
    assert_bundled_font_draws(drawn)


def test_a_name_no_font_can_draw_prints_nothing_and_still_makes_the_pictures(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    name = f"王{RARE}"
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        pictures = [quiz_chart(name), matrix_chart(name)]
    assert [str(w.message) for w in shown] == []
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == []
    assert capfd.readouterr() == ("", "")
    # matplotlib's complaint is kept, at debug level, where an operator can look for it
    assert any("missing from font" in r.getMessage() for r in caplog.records
               if r.name == "coach.charts" and r.levelno == logging.DEBUG)
    for png in pictures:
        Image.open(io.BytesIO(png)).verify()
        assert any(name in label for label in labels_in(png))


def _run(workdir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("REPCOACH_DATABASE_URL", None)
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), MPLCONFIGDIR=str(workdir / "mpl"))
    return subprocess.run([sys.executable, "-m", *args], cwd=workdir, input=stdin,
                          capture_output=True, text=True, timeout=180, env=env)


def test_a_fresh_machine_draws_chinese_in_the_bundled_font(tmp_path: Path) -> None:
    """`repcoach chat` with an empty matplotlib cache and no system font: the quiz and the
    matrix come out in Chinese, every text in the bundled font, and the chat shows nothing
    but the bot's own lines (not even for a customer name no font can draw)."""
    library = load_library(ROOT / "playbooks")
    quiz = library.playbooks["quiz"]
    questions = sum(1 for step in quiz.steps if step.choices and step.ask
                    and not any(c.next for c in step.choices))
    (tmp_path / "mpl").mkdir()
    (tmp_path / "config.yaml").write_text(
        "database: {url: 'sqlite:///data/coach.sqlite3'}\n"
        f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n", encoding="utf-8")
    upgraded = _run(tmp_path, "bot", "--config", "config.yaml", "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    name = f"孙{RARE}教授"
    lines = ["/quiz", *["1"] * (questions + 2),
             "/screen", f"{name} 泰山医院 心内科", "1", *["1"] * 5, "/matrix"]
    result = _run(tmp_path, "tests.support.drawing", str(tmp_path / "drawn.json"),
                  "--config", "config.yaml", "chat", "--user", "alice",
                  stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for noise in ("Warning", "Glyph", "findfont", "matplotlib", "Matplotlib"):
        assert noise not in result.stdout, result.stdout

    files = tmp_path / "data" / "files" / "alice"
    quiz_png = (files / "thinking-preference.png").read_bytes()
    matrix_png = (files / "potential-support-matrix.png").read_bytes()
    with sqlite3.connect(tmp_path / "data" / "coach.sqlite3") as db:
        [(dominant,)] = db.execute("SELECT dominant FROM quiz_results").fetchall()
    styles = library.catalog.labels.styles
    assert labels_in(quiz_png)[0] == quiz.title.get("zh")
    for letter in str(dominant):
        assert any(str(styles[letter].get("zh")) in label for label in labels_in(quiz_png))
    content = library.content(library.playbooks["matrix"], "zh")
    zh_quadrants = [str(q["name"]) for q in content["quadrants"].values()]
    assert set(zh_quadrants) | {name} <= set(labels_in(matrix_png))

    record = json.loads((tmp_path / "drawn.json").read_text("utf-8"))
    own = Path(matplotlib.get_data_path())
    assert [f for f in record["fonts"]
            if not Path(f).is_relative_to(own) and not os.path.samefile(f, FONT_FILE)] == []
    drawn = [Drawn(**d) for d in record["drawn"]]
    texts = {d.text for d in drawn}
    assert set(labels_in(quiz_png)) | set(labels_in(matrix_png)) <= texts
    assert_bundled_font_draws(drawn, rare=RARE)
