"""A document in a reply becomes a link on channels with a document server: a phone opens
the link in its in-app browser, where an .html file sent as an attachment would ask which
app to open it with, or not open at all. Without one (the console), it stays a file.

The font goes into a linked page only when the page is opened (bot/documents.py, off the
event loop), and into a file only as the channel sends it (the outbox's send, in a helper
process: coach/documents/font_worker.py; the console as it writes the file): cutting the
font to a page's characters takes most of a second, which a turn must not spend while every
other rep of the worker waits."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from coach.documents.fonts import HTML
from coach.documents.shelf import DocumentShelf
from coach.library import Library
from coach.messages import Reply


def finish_documents(replies: list[Reply], library: Library, locale: str, now: datetime,
                     shelf: DocumentShelf | None,
                     link_message: str = "document_link") -> list[Reply]:
    """Each reply carrying an HTML document: with `shelf`, the document kept there and its
    link (the catalog's `link_message`) after the reply's text in place of the file;
    without, the file (its font put in as it is sent). A turn's plans and reports and the
    weekly digest's detail (sent from no turn, so its reader's locale and moment are
    passed) all go out through here."""
    out: list[Reply] = []
    for reply in replies:
        attachment = reply.attachment
        if attachment is None or attachment.mime_type != HTML:
            out.append(reply)
            continue
        if shelf is None:  # the channel puts the font in as it sends the file
            out.append(reply)
            continue
        link = shelf.put(attachment.data.decode("utf-8"), locale, now)
        title = attachment.filename.removesuffix(".html")
        line = library.message(link_message, locale, url=link.url, hours=shelf.valid_hours,
                               title=title)
        text = reply.text.strip()
        text = line if not text or text == attachment.filename else f"{text}\n\n{line}"
        out.append(replace(reply, text=text, attachment=None))
    return out
