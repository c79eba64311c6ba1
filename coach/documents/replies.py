"""A document in a reply becomes a link on channels with a document server: a phone opens
the link in its in-app browser, where an .html file sent as an attachment would ask which
app to open it with, or not open at all."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from coach.documents.shelf import DocumentShelf
from coach.messages import Reply

if TYPE_CHECKING:
    from coach.context import Turn

HTML = "text/html"


def link_documents(replies: list[Reply], turn: Turn, shelf: DocumentShelf) -> list[Reply]:
    """Each reply carrying an HTML document, with the document kept on `shelf` and its
    link (`document_link`) after the reply's text in place of the file."""
    out: list[Reply] = []
    for reply in replies:
        attachment = reply.attachment
        if attachment is None or attachment.mime_type != HTML:
            out.append(reply)
            continue
        link = shelf.put(attachment.data.decode("utf-8"), turn.locale, turn.now)
        title = attachment.filename.removesuffix(".html")
        line = turn.message("document_link", url=link.url, hours=shelf.valid_hours,
                            title=title)
        text = reply.text.strip()
        text = line if not text or text == attachment.filename else f"{text}\n\n{line}"
        out.append(replace(reply, text=text, attachment=None))
    return out
