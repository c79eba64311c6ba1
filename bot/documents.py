"""Document pages on the bot's HTTP server: a signed link opens its plan or report; a link
that is forged, cut short or expired opens a page saying so (in the reader's language when
the link says which, in both otherwise), never an error trace.

Pages are plain HTML, no script: the Content-Security-Policy allows only the page's own
styles and its embedded font, so nothing a rep typed can run in a manager's browser even if
escaping were ever missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib.resources import files

from aiohttp import web
from jinja2 import Environment, StrictUndefined, Template

from bot.server import WebhookServer
from coach.documents.font_worker import FONTS
from coach.documents.fonts import with_font
from coach.documents.shelf import DocumentShelf, Opened, Refused
from coach.library import Library

log = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; "
                                "font-src data:; img-src data:; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}


@cache
def _gone_template() -> Template:
    source = files("coach.documents").joinpath("gone.html").read_text(encoding="utf-8")
    return Environment(autoescape=True, undefined=StrictUndefined).from_string(source)


class DocumentPages:
    def __init__(self, shelf: DocumentShelf, library: Library,
                 clock: Callable[[], datetime], path: str) -> None:
        self.shelf = shelf
        self.library = library
        self.clock = clock
        self.path = path.rstrip("/")

    def install(self, server: WebhookServer) -> None:
        # everything under the path, so a cut-short link gets the page too
        server.app.router.add_get(self.path + "/{token:.*}", self._page)

    async def _page(self, request: web.Request) -> web.Response:
        try:
            found: Opened | Refused = self.shelf.open(request.match_info["token"], self.clock())
        except Exception:  # a broken file or disk: the reader still gets a page
            log.exception("document could not be opened")
            found = Refused("expired")
        # the font is cut to the page's characters here, in the helper process: most of a
        # second the first time a page (or one with the same characters) is opened, never on
        # the loop (coach/documents/font_worker.py)
        if isinstance(found, Opened):
            try:
                page = await FONTS.with_font(found.html)
            except Exception:  # the page still reads, in the phone's own fonts
                log.exception("font not embedded in a document")
                page = found.html
            return web.Response(text=page, content_type="text/html", charset="utf-8",
                                headers=HEADERS)
        page = await asyncio.to_thread(self.gone_page, found)
        return web.Response(text=page, content_type="text/html", charset="utf-8",
                            headers=HEADERS, status=410 if found.reason == "expired" else 404)

    def gone_page(self, refused: Refused) -> str:
        locales = [refused.locale] if refused.locale else ["zh", "en"]
        notices = []
        for locale in locales:
            title, _, body = self.library.message(
                f"document_{refused.reason}", locale).partition("\n")
            notices.append({"title": title.strip(), "body": body.strip()})
        lang = "en" if locales == ["en"] else "zh-CN"
        return with_font(_gone_template().render(lang=lang, notices=notices))
