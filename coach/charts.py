"""Pictures the rep receives: the quiz's four quadrant scores and the potential/support matrix.

The matrix is drawn with matplotlib's Agg backend (no display), the quiz bars with Pillow.
Chinese labels need a CJK font: the first one found among the usual system fonts is used
(fonts-wqy-microhei, Noto CJK, Source Han); without one, labels fall back to the English
names so the rep never sees empty boxes. Every PNG carries the labels it shows in a text chunk,
so tests and audits can read what a picture says without OCR.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin


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


# The quiz chart is drawn with Pillow directly: four bars and their labels do not need a
# plotting library, and matplotlib's text layout made it 20-30 ms a picture against about
# 5 ms here (it was the largest single cost in the Telegram benchmark).
WIDTH, HEIGHT = 672, 360
LABEL_RIGHT, BARS_LEFT, BARS_RIGHT = 170, 182, 600
TITLE_Y, ROWS_TOP, ROWS_BOTTOM = 28, 64, 348
TEXT_COLOUR = (34, 34, 34)


@cache
def _font_path(family: str) -> str:
    from matplotlib import font_manager

    return str(font_manager.findfont(font_manager.FontProperties(family=family)))


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(cjk_font() or "DejaVu Sans"), size)


def _faded(colour: str, alpha: float) -> tuple[int, int, int]:
    """`colour` at `alpha` over white, as matplotlib's translucent bars looked."""
    red, green, blue = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return tuple(round(255 - alpha * (255 - c)) for c in (red, green, blue))  # type: ignore[return-value]


def quadrant_scores(scores: Mapping[str, float], names: Mapping[str, str], title: str,
                    highlight: Sequence[str] = ()) -> bytes:
    """A horizontal bar per quadrant (A..D), the dominant ones solid, the rest faded; the
    names left of the bars, each bar with its score."""
    letters = list(scores)
    labels = [f"{letter}  {names.get(letter, letter)}" for letter in letters]
    values = [float(scores[letter]) for letter in letters]
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    text_font, title_font = _font(14), _font(17)
    draw.text((WIDTH // 2, TITLE_Y), title, font=title_font,
              fill=TEXT_COLOUR, anchor="mm")
    top = max([*values, 1.0]) * 1.15
    row_height = (ROWS_BOTTOM - ROWS_TOP) / max(len(letters), 1)
    for index, (letter, label, value) in enumerate(zip(letters, labels, values, strict=True)):
        middle = ROWS_TOP + row_height * (index + 0.5)
        half = row_height * 0.375
        right = BARS_LEFT + (BARS_RIGHT - BARS_LEFT) * max(value, 0.0) / top
        solid = letter in highlight or not highlight
        colour = _faded(COLOURS[index % len(COLOURS)], 1.0 if solid else 0.45)
        if right > BARS_LEFT:
            draw.rectangle((BARS_LEFT, middle - half, right, middle + half), fill=colour)
        draw.text((right + 6, middle), f"{value:g}", font=text_font,
                  fill=TEXT_COLOUR, anchor="lm")
        draw.text((LABEL_RIGHT, middle), label, font=text_font, fill=TEXT_COLOUR,
                  anchor="rm")
    draw.line((BARS_LEFT, ROWS_TOP, BARS_LEFT, ROWS_BOTTOM), fill=(51, 51, 51), width=1)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(LABELS_KEY, json.dumps([title, *labels], ensure_ascii=False))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


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
