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
from dataclasses import replace
from functools import lru_cache

from coach.charts import FONT_FACE, FONT_FILE
from coach.messages import Reply

HTML = "text/html"

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
    # fontTools' default features (locl, ccmp, kern, vert, palt ...), not every one: the
    # others (aalt, fwid, hwid, ruby ...) a browser applies only when CSS asks, which no
    # page does, and keeping them pulls in every alternate glyph (twice the glyphs, time)
    options.name_IDs = ["*"]
    options.notdef_outline = True
    # the face's own bounding boxes stay: a superset of the subset's, and recomputing them
    # draws every glyph (a third of the time)
    font = TTFont(FONT_FILE, fontNumber=FONT_FACE, lazy=True, recalcBBoxes=False)
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


def reply_with_font(reply: Reply) -> Reply:
    """`reply` with the font put into its HTML document, as a channel hands it over; any other
    reply unchanged. Done at delivery, not in the turn: cutting the font takes most of a
    second, which a turn would spend inside its transaction while the worker's other reps
    wait (SQLite turns run one after another on the event loop)."""
    attachment = reply.attachment
    if attachment is None or attachment.mime_type != HTML:
        return reply
    html = with_font(attachment.data.decode("utf-8"))
    return replace(reply, attachment=replace(attachment, data=html.encode("utf-8")))


