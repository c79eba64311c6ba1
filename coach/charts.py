"""Pictures the rep receives: the quiz's four quadrant scores and the potential/support matrix.

The matrix is drawn with matplotlib's Agg backend (no display), the quiz bars with Pillow.
Both draw every label in Noto Sans CJK SC from the `noto-cjk-sans-otc` package, a dependency
of RepCoach: Chinese labels and customer names are legible wherever the package installs, with
no system font. Whatever the libraries warn about while drawing (a glyph missing from the
font, for a name with a rare character) is logged at debug level, never printed where a
console chat would show it. Every PNG carries the labels it shows in a text chunk, so tests
and audits can read what a picture says without OCR.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from noto_cjk_sans_otc import FONT_PATH
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

log = logging.getLogger(__name__)

FONT_FILE = str(FONT_PATH)
FONT_FAMILY = "Noto Sans CJK SC"
FONT_FACE = 2  # the collection's faces: JP, KR, SC, TC, HK, then the same five Mono
LABELS_KEY = "repcoach:labels"
COLOURS = ("#3b6ea5", "#5b9a68", "#c0793a", "#8a5aa8")

# matplotlib logs at WARNING level (building its font cache on a fresh machine, a temporary
# cache directory). Where the application configured logging, that is where these go; where
# it did not, logging's last-resort handler would print them on stderr, into a console chat.
logging.getLogger("matplotlib").addHandler(logging.NullHandler())

_DRAWING = threading.Lock()


def can_draw_chinese() -> bool:
    """Always: the font is a package dependency, not a system font that may be missing (the
    English labels callers kept for a machine without one are no longer needed)."""
    return True


@contextmanager
def _quietly() -> Iterator[None]:
    """Draw one picture at a time (warning filters and matplotlib's settings are process-wide),
    with what the libraries warn about logged at debug level instead of shown."""
    with _DRAWING:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for warning in caught:
            log.debug("while drawing a chart: %s", warning.message)


@cache
def _matplotlib() -> Any:
    """matplotlib with the bundled font known to it. Imported on first use: it costs half a
    second of start-up, and most turns never draw."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager

    font_manager.fontManager.addfont(FONT_FILE)
    return matplotlib


@contextmanager
def _matplotlib_drawing() -> Iterator[None]:
    """`_quietly()`, with the bundled font first for every text of the figure (tick labels
    too); DejaVu Sans, matplotlib's own, for any glyph it lacks."""
    with _quietly():
        matplotlib = _matplotlib()
        with matplotlib.rc_context({"font.family": "sans-serif",
                                    "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"]}):
            yield


def _figure(**kwargs: Any) -> Any:
    """A matplotlib Figure (made inside `_matplotlib_drawing()`)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


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
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_FILE, size, index=FONT_FACE)


def _faded(colour: str, alpha: float) -> tuple[int, int, int]:
    """`colour` at `alpha` over white, as matplotlib's translucent bars looked."""
    red, green, blue = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return tuple(round(255 - alpha * (255 - c)) for c in (red, green, blue))  # type: ignore[return-value]


def quadrant_scores(scores: Mapping[str, float], names: Mapping[str, str], title: str,
                    highlight: Sequence[str] = ()) -> bytes:
    """A horizontal bar per quadrant (A..D), the dominant ones solid, the rest faded; the
    names left of the bars, each bar with its score."""
    with _quietly():
        return _quadrant_scores(scores, names, title, highlight)


def _quadrant_scores(scores: Mapping[str, float], names: Mapping[str, str], title: str,
                     highlight: Sequence[str]) -> bytes:
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
    with _matplotlib_drawing():
        return _matrix(points, quadrant_names, axis_labels, cutoffs)


def _matrix(points: Sequence[tuple[str, float, float]], quadrant_names: Mapping[str, str],
            axis_labels: Mapping[str, str], cutoffs: Mapping[str, float]) -> bytes:
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
                  va="top" if y > 2 else "bottom", fontsize=11, color="#555555")
    shown = _place_in_cells(axes, points)
    axes.set_xlim(0.5, 3.5)
    axes.set_ylim(0.5, 3.5)
    axes.set_xticks([1, 2, 3])
    axes.set_yticks([1, 2, 3])
    axes.set_xlabel(axis_labels.get("support", "support"))
    axes.set_ylabel(axis_labels.get("potential", "potential"))
    labels = [*(quadrant_names.get(k, k) for k in corners), *shown]
    return _png(figure, labels)


CELL_COLUMNS = 3
CELL_ROWS = 6


def _place_in_cells(axes: Any, points: Sequence[tuple[str, float, float]]) -> list[str]:
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
            axes.text(x + 0.03, y, name, va="center", ha="left", fontsize=9)
            shown.append(name)
        if len(names) > per_cell:
            more = f"+{len(names) - per_cell}"
            axes.text(support + 0.45, potential - 0.42, more, ha="right", va="bottom",
                      fontsize=9, color="#555555")
            shown.append(more)
    return shown


def stage_funnel(title: str, stages: Sequence[tuple[str, int]],
                 moves: Sequence[tuple[str, int]], note: str = "") -> bytes:
    """The adoption funnel: one centred bar per stage, as wide as its count, the count
    written beside the stage's name; under it one bar per kind of move over the window
    (forward, back, stalled, new). `note` (e.g. how many are not diagnosed) goes last."""
    with _matplotlib_drawing():
        return _funnel(title, stages, moves, note)


def _funnel(title: str, stages: Sequence[tuple[str, int]], moves: Sequence[tuple[str, int]],
            note: str) -> bytes:
    figure = _figure(figsize=(6.4, 6.0))
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [len(stages) or 1, 2.2]})
    figure.subplots_adjust(left=0.04, right=0.96, top=0.9, bottom=0.1, hspace=0.25)
    figure.suptitle(title, fontsize=14)
    widest = max([count for _, count in stages] + [1])
    stage_labels = [f"{name}  {count}" for name, count in stages]
    for row, ((_, count), label) in enumerate(zip(stages, stage_labels, strict=True)):
        y = len(stages) - 1 - row  # the first stage on top
        width = max(count / widest, 0.0)
        if width:
            top.barh([y], [width], left=[-width / 2], height=0.8,
                     color=COLOURS[row % len(COLOURS)], alpha=0.85)
        top.text(0, y, label, ha="center", va="center", fontsize=11,
                 bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1.5})
    top.set_xlim(-0.55, 0.55)
    top.set_ylim(-0.6, max(len(stages), 1) - 0.4)
    top.axis("off")
    move_labels = [f"{name}  {count}" for name, count in moves]
    most = max([count for _, count in moves] + [1])
    positions = list(range(len(moves)))
    bottom.bar(positions, [count for _, count in moves], width=0.6,
               color=[COLOURS[i % len(COLOURS)] for i in positions], alpha=0.6)
    for x, label in zip(positions, move_labels, strict=True):
        bottom.text(x, most * 1.08, label, ha="center", va="bottom", fontsize=10)
    bottom.set_ylim(0, most * 1.45)
    bottom.set_xlim(-0.6, len(moves) - 0.4)
    bottom.axis("off")
    labels = [title, *stage_labels, *move_labels]
    if note:
        figure.text(0.5, 0.03, note, ha="center", va="bottom", fontsize=10, color="#555555")
        labels.append(note)
    return _png(figure, labels)
