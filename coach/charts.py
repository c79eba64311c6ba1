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

from PIL import Image, PngImagePlugin


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
    raw = io.BytesIO()
    figure.savefig(raw, format="png", dpi=120, bbox_inches="tight")
    info = PngImagePlugin.PngInfo()
    info.add_itxt(LABELS_KEY, json.dumps(list(labels), ensure_ascii=False))
    raw.seek(0)
    image = Image.open(raw)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def quadrant_scores(scores: Mapping[str, float], names: Mapping[str, str], title: str,
                    highlight: Sequence[str] = ()) -> bytes:
    """A horizontal bar per quadrant (A..D), the dominant ones drawn solid."""
    family = cjk_font()
    letters = list(scores)
    labels = [f"{letter}  {names.get(letter, letter)}" for letter in letters]
    figure = _figure(figsize=(5.6, 3.0))
    axes = figure.subplots()
    values = [float(scores[letter]) for letter in letters]
    bars = axes.barh(labels[::-1], values[::-1],
                     color=[COLOURS[i % len(COLOURS)] for i in range(len(letters))][::-1])
    for bar, letter in zip(bars, letters[::-1], strict=True):
        bar.set_alpha(1.0 if letter in highlight or not highlight else 0.45)
        axes.text(bar.get_width() + 0.2, bar.get_y() + bar.get_height() / 2,
                  f"{bar.get_width():g}", va="center", fontsize=10)
    axes.set_xlim(0, max([*values, 1.0]) * 1.2)
    axes.set_title(title, fontsize=12, family=family or "sans-serif")
    for tick in axes.get_yticklabels():
        tick.set_fontfamily(family or "sans-serif")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
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
    seen: dict[tuple[float, float], int] = {}
    for name, potential, support in points:
        cell = (support, potential)
        offset = seen.get(cell, 0)
        seen[cell] = offset + 1
        x = support + 0.12 * ((offset % 3) - 1)
        y = potential - 0.15 * (offset // 3) + 0.05 * (offset % 3)
        axes.scatter([x], [y], s=40, color=COLOURS[0])
        axes.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=9,
                      family=family)
    axes.set_xlim(0.5, 3.5)
    axes.set_ylim(0.5, 3.5)
    axes.set_xticks([1, 2, 3])
    axes.set_yticks([1, 2, 3])
    axes.set_xlabel(axis_labels.get("support", "support"), family=family)
    axes.set_ylabel(axis_labels.get("potential", "potential"), family=family)
    labels = [*(quadrant_names.get(k, k) for k in corners), *(p[0] for p in points)]
    return _png(figure, labels)
