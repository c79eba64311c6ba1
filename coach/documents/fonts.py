"""The Chinese font inside every document, so a phone draws the text in Noto Sans CJK SC
whatever fonts it has (a fresh Linux box has none for Chinese; an in-app browser may not
fall back to the system's).

The face comes from the `noto-cjk-sans-otc` package (the charts' font), cut down to the
characters the page uses and embedded as a `data:` URL in an @font-face rule: the page needs
no second request (the console's file opens offline too) and stays small, about 150 KB for a
plan, against 16 MB for the whole face.
"""

from __future__ import annotations

import base64
import io
import string
from functools import lru_cache

from coach.charts import FONT_FACE, FONT_FILE

FAMILY = "RepCoach CJK"
# every page can show these without a new subset: digits, Latin, the usual punctuation
_ALWAYS = frozenset(string.printable.strip() + " ，。、；：？！「」『』（）《》·…—“”‘’%")


@lru_cache(maxsize=32)
def _subset(characters: str) -> str:
    """The face cut down to `characters`, base64-encoded OpenType (CFF). Cached: the same
    page asked for again (an error page, a plan opened twice) costs nothing. fontTools is imported
    here, on the first document: most turns never make one."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(FONT_FILE, fontNumber=FONT_FACE, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return base64.b64encode(out.getvalue()).decode("ascii")


def font_face(text: str) -> str:
    """An @font-face rule for FAMILY holding every character of `text`."""
    characters = "".join(sorted(_ALWAYS | {c for c in text if not c.isspace()}))
    data = _subset(characters)
    return (f"@font-face{{font-family:'{FAMILY}';font-style:normal;font-weight:100 900;"
            f"src:url(data:font/otf;base64,{data}) format('opentype');}}")


def with_font(html: str) -> str:
    """`html` with the font rule in its head (before `</head>`, else at the start), so the
    page's own styles can name FAMILY."""
    rule = f"<style>{font_face(html)}</style>"
    at = html.find("</head>")
    return html[:at] + rule + html[at:] if at >= 0 else rule + html
