"""What the charts actually draw with: every text either renderer lays out (matplotlib's Agg
for the matrix, Pillow for the quiz bars), with the font file and face it was drawn in, so a
test can check that font covers the text.

Also runnable, as a machine with no font of its own would run RepCoach:
`MPLCONFIGDIR=EMPTY_DIR python -m tests.support.drawing RECORD.json ARGS...` runs
`repcoach ARGS...` with matplotlib's font list built from matplotlib's own fonts only (no
system font, so no system CJK font), and writes to RECORD.json what was drawn and which font
files matplotlib knew."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Drawn:
    text: str
    path: str
    face: int


@contextmanager
def recording() -> Iterator[list[Drawn]]:
    """Every text drawn meanwhile, in order."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import RendererAgg
    from PIL import ImageDraw

    drawn: list[Drawn] = []
    agg_text, pil_text = RendererAgg.draw_text, ImageDraw.ImageDraw.text

    def on_agg(self: Any, gc: Any, x: Any, y: Any, s: str, prop: Any, *args: Any,
               **kwargs: Any) -> Any:
        found = font_manager.findfont(prop)  # the first family that exists: what Agg uses
        drawn.append(Drawn(s, str(found.path), int(found.face_index)))
        return agg_text(self, gc, x, y, s, prop, *args, **kwargs)

    def on_pil(self: Any, xy: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        font = kwargs.get("font")
        drawn.append(Drawn(str(text), str(getattr(font, "path", None)),
                           int(getattr(font, "index", -1))))
        return pil_text(self, xy, text, *args, **kwargs)

    RendererAgg.draw_text = on_agg
    ImageDraw.ImageDraw.text = on_pil
    try:
        yield drawn
    finally:
        RendererAgg.draw_text = agg_text
        ImageDraw.ImageDraw.text = pil_text


@cache
def charmap(path: str, face: int) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(path, face_index=face).get_charmap())


def not_covered(drawn: Drawn) -> str:
    """The characters of the text that the font it was drawn in has no glyph for."""
    covered = charmap(drawn.path, drawn.face)
    return "".join(c for c in drawn.text if not c.isspace() and ord(c) not in covered)


def main(argv: list[str]) -> int:
    record, *args = argv
    import coach.charts  # noqa: F401  (its logging set-up first, as when the engine loads)

    # The font list is built (into the empty MPLCONFIGDIR) while matplotlib is told to ignore
    # system fonts; then the variable goes, since findfont would otherwise look only among
    # matplotlib's own fonts and never at one added later, such as the bundled font.
    os.environ["MPL_IGNORE_SYSTEM_FONTS"] = "1"
    from matplotlib import font_manager

    del os.environ["MPL_IGNORE_SYSTEM_FONTS"]
    from bot.__main__ import main as repcoach

    with recording() as drawn:
        try:
            return repcoach(args)
        finally:
            known = sorted({font.fname for font in font_manager.fontManager.ttflist})
            with open(record, "w", encoding="utf-8") as out:
                json.dump({"drawn": [asdict(d) for d in drawn], "fonts": known}, out,
                          ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
