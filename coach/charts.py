"""Pictures the rep receives: the quiz's four quadrant scores (and, later, the matrix).

Drawn with matplotlib's Agg backend (no display). Chinese labels need a CJK font: the first
one found among the usual system fonts is used (fonts-wqy-microhei, Noto CJK, Source Han);
without one, labels fall back to the English names so the rep never sees empty boxes. Every
PNG carries the labels it shows in a text chunk, so tests and audits can read what a picture
says without OCR.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from PIL import Image


def _figure(**kwargs: Any) -> Any:
    """A matplotlib Figure. matplotlib is imported on first use: it costs half a second of
    start-up, and most turns never draw."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(**kwargs)

CJK_FONT_NAMES = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "Source Han Sans CN", "Droid Sans Fallback", "SimHei",
)
LABELS_KEY = "repcoach:labels"
COLOURS = ("#3b6ea5", "#5b9a68", "#c0793a", "#8a5aa8")


@cache
def cjk_font() -> str | None:
    """The family name of an installed font that can draw Chinese, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    return None


def can_draw_chinese() -> bool:
    return cjk_font() is not None


def _png(figure: Any, labels: Sequence[str]) -> bytes:
    """The figure as PNG, drawn once: fixed margins instead of `bbox_inches="tight"` (which
    draws everything twice to measure it), and the labels written by matplotlib's own PNG
    writer (non-Latin text becomes an iTXt chunk) instead of a second encode through PIL."""
    raw = io.BytesIO()
    figure.savefig(raw, format="png", dpi=120,
                   metadata={LABELS_KEY: json.dumps(list(labels), ensure_ascii=False)},
                   pil_kwargs={"compress_level": 3})
    return raw.getvalue()


def quadrant_scores(scores: Mapping[str, float], names: Mapping[str, str], title: str,
                    highlight: Sequence[str] = ()) -> bytes:
    """A horizontal bar per quadrant (A..D), the dominant ones drawn solid.

    No axes, ticks or grid: the names sit left of the bars and each bar carries its score.
    Tick layout was most of the drawing time, and the scale added nothing the numbers on
    the bars do not say."""
    family = cjk_font() or "sans-serif"
    letters = list(scores)
    labels = [f"{letter}  {names.get(letter, letter)}" for letter in letters]
    values = [float(scores[letter]) for letter in letters]
    figure = _figure(figsize=(5.6, 3.0))
    axes = figure.add_axes((0.27, 0.04, 0.68, 0.78))
    axes.set_axis_off()
    rows = range(len(letters))[::-1]  # first quadrant on top
    bars = axes.barh(list(rows), values, height=0.75,
                     color=[COLOURS[i % len(COLOURS)] for i in range(len(letters))])
    for bar, letter, label, value, row in zip(bars, letters, labels, values, rows,
                                              strict=True):
        bar.set_alpha(1.0 if letter in highlight or not highlight else 0.45)
        axes.text(value + 0.2, row, f"{value:g}", va="center", fontsize=10)
        axes.text(-0.03, row, label, va="center", ha="right", fontsize=10, family=family,
                  transform=axes.get_yaxis_transform())
    axes.set_xlim(0, max([*values, 1.0]) * 1.15)
    axes.set_ylim(-0.5, len(letters) - 0.5)
    axes.axvline(0, color="#333333", linewidth=1)
    figure.text(0.5, 0.93, title, ha="center", va="center", fontsize=12, family=family)
    return _png(figure, [title, *labels])


def labels_in(png: bytes) -> list[str]:
    """The labels a RepCoach picture shows, read back from its text chunk."""
    image = Image.open(io.BytesIO(png))
    text = image.info.get(LABELS_KEY, "[]")
    found = json.loads(text)
    return [str(label) for label in found]


def potential_support_matrix(points: Sequence[tuple[str, float, float]],
                             quadrant_names: Mapping[str, str],
                             axis_labels: Mapping[str, str],
                             cutoffs: Mapping[str, float]) -> bytes:
    """Customers placed by potential (y) and support (x), bands 1..3, with the four
    quadrants named. Customers sharing a cell are fanned out so every name stays legible."""
    family = cjk_font() or "sans-serif"
    figure = _figure(figsize=(6.4, 5.2))
    axes = figure.subplots()
    figure.subplots_adjust(left=0.1, right=0.97, top=0.97, bottom=0.1)
    x_cut = float(cutoffs["high_support"]) - 0.5
    y_cut = float(cutoffs["high_potential"]) - 0.5
    axes.axvline(x_cut, color="#999999", linewidth=1)
    axes.axhline(y_cut, color="#999999", linewidth=1)
    corners = {"invest": (0.55, 3.45), "develop": (3.45, 3.45),
               "maintain": (3.45, 0.55), "minimise": (0.55, 0.55)}
    for key, (x, y) in corners.items():
        axes.text(x, y, quadrant_names.get(key, key), ha="left" if x < 2 else "right",
                  va="top" if y > 2 else "bottom", fontsize=11, color="#555555",
                  family=family)
    shown = _place_in_cells(axes, points, family)
    axes.set_xlim(0.5, 3.5)
    axes.set_ylim(0.5, 3.5)
    axes.set_xticks([1, 2, 3])
    axes.set_yticks([1, 2, 3])
    axes.set_xlabel(axis_labels.get("support", "support"), family=family)
    axes.set_ylabel(axis_labels.get("potential", "potential"), family=family)
    labels = [*(quadrant_names.get(k, k) for k in corners), *shown]
    return _png(figure, labels)


CELL_COLUMNS = 3
CELL_ROWS = 6


def _place_in_cells(axes: Any, points: Sequence[tuple[str, float, float]],
                    family: str) -> list[str]:
    """Customers sharing a (support, potential) cell are set out in a small grid inside it
    (three columns of six) so no name covers another; past eighteen the cell says "+N".
    Returns the labels drawn."""
    by_cell: dict[tuple[float, float], list[str]] = {}
    for name, potential, support in points:
        by_cell.setdefault((support, potential), []).append(name)
    shown: list[str] = []
    per_cell = CELL_COLUMNS * CELL_ROWS
    for (support, potential), names in by_cell.items():
        for index, name in enumerate(names[:per_cell]):
            column, row = divmod(index, CELL_ROWS)
            x = support - 0.42 + 0.3 * column if len(names) > 1 else support
            y = potential + 0.26 - 0.12 * row if len(names) > 1 else potential
            axes.scatter([x], [y], s=24, color=COLOURS[0])
            axes.text(x + 0.03, y, name, va="center", ha="left", fontsize=9, family=family)
            shown.append(name)
        if len(names) > per_cell:
            more = f"+{len(names) - per_cell}"
            axes.text(support + 0.45, potential - 0.42, more, ha="right", va="bottom",
                      fontsize=9, color="#555555")
            shown.append(more)
    return shown
