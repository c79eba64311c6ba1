"""The pictures a rep receives: valid PNGs that say what they show (read from the text
chunk), drawn once, and legible when many customers share a matrix cell."""

from __future__ import annotations

import io

from PIL import Image

from coach.charts import (
    CELL_COLUMNS,
    CELL_ROWS,
    labels_in,
    potential_support_matrix,
    quadrant_scores,
)

QUADRANTS = {"invest": "加大投入", "develop": "重点发展", "maintain": "维护",
             "minimise": "基础维护"}
AXES = {"support": "支持度", "potential": "潜力"}
CUTOFFS = {"high_support": 2, "high_potential": 2}


def test_quiz_chart_is_a_png_carrying_title_and_every_quadrant() -> None:
    png = quadrant_scores({"A": 12, "B": 7, "C": 9, "D": 0},
                          {"A": "分析型", "B": "条理型", "C": "人际型", "D": "全局型"},
                          "你的思维偏好", ["A"])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 400
    assert labels_in(png) == ["你的思维偏好", "A  分析型", "B  条理型", "C  人际型", "D  全局型"]


def test_a_crowded_matrix_cell_lists_what_fits_and_counts_the_rest() -> None:
    fits = CELL_COLUMNS * CELL_ROWS
    crowd = [(f"医生{i}", 3.0, 3.0) for i in range(fits + 4)]
    png = potential_support_matrix([("李主任", 3.0, 1.0), *crowd], QUADRANTS, AXES, CUTOFFS)
    labels = labels_in(png)
    assert "李主任" in labels
    assert [label for label in labels if label.startswith("医生")] == [
        f"医生{i}" for i in range(fits)]
    assert labels[-1] == "+4"


def test_a_lone_customer_sits_on_its_cell_without_a_count() -> None:
    png = potential_support_matrix([("王医生", 2.0, 3.0)], QUADRANTS, AXES, CUTOFFS)
    assert labels_in(png) == [*QUADRANTS.values(), "王医生"]
