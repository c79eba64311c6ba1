"""The weekly digest pass of the reminder loop: claim each due digest, write it to the outbox
in the claim's transaction, then send it (coach/digest_schedule.py says why that is once).
The digest's detail document is kept (and its link written into the text) in that same
transaction; if the transaction is lost, the kept page is never linked and expires unread.

Only channels with an outbox take part (Telegram and WeCom); a digest goes to the person's
identity on the first running one. A delivery that fails stays in the outbox and goes at
the channel's next start, like any reply a crash left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from bot.admin_log import delivery_failed
from coach.digest import manager_digest, rep_digest
from coach.digest_schedule import Recipient, claim, due_recipients, mark_delivered
from coach.documents.replies import finish_documents
from coach.engine import Engine
from coach.mailbox import Mailbox, StoredReply
from coach.store.models import Rep


@runtime_checkable
class DigestChannel(Protocol):
    """A channel that sends from the outbox."""

    name: str
    mailbox: Mailbox

    async def send_stored(self, user_id: str, replies: list[StoredReply]) -> None: ...


async def send_due_digests(engine: Engine, channels: Mapping[str, object]) -> int:
    """Claim, queue and send every digest due now; returns how many went out."""
    able = {name: c for name, c in channels.items() if isinstance(c, DigestChannel)}
    settings = engine.settings
    due = await engine.call(due_recipients, engine.database, engine.clock(), settings.digest,
                            settings.utc_offset_hours, list(able))
    sent = 0
    for recipient in due:
        channel = able[recipient.channel]
        stored = await engine.database.run_in_transaction(
            claim_and_queue, engine, recipient, channel.mailbox)
        if not stored:
            continue
        try:
            await channel.send_stored(recipient.user_id, stored)
        except Exception as exc:  # it stays in the outbox; the channel's next start sends it
            delivery_failed(f"digest for rep {recipient.rep_id}", exc,
                            then="it waits in the outbox")
            continue
        await engine.database.run_in_transaction(mark_delivered, recipient, engine.clock())
        sent += 1
    return sent


def claim_and_queue(session: Session, engine: Engine, recipient: Recipient,
                    mailbox: Mailbox) -> list[StoredReply]:
    """In one transaction: claim the week's digest and put it in the outbox. Empty when
    another worker claimed it, or when there is nothing to tell (then it counts as sent)."""
    now = engine.clock()
    if not claim(session, recipient, now):
        return []
    rep = session.get(Rep, recipient.rep_id)
    if rep is None:
        return []
    settings = engine.settings
    if recipient.kind == "manager":
        replies = manager_digest(session, engine.library, rep, now, settings.digest,
                                 settings.utc_offset_hours)
    else:
        replies = rep_digest(session, engine.library, rep, now, settings.utc_offset_hours)
    if not replies:
        mark_delivered(session, recipient, now)
        return []
    # the detail becomes its link (or its file) here, in the claim's transaction: the
    # outbox keeps the very text and link, so a resend after a crash is this digest again
    locale = rep.locale if rep.locale in ("zh", "en") else "zh"
    replies = finish_documents(replies, engine.library, locale, now, engine.documents,
                               link_message="digest_document_link")
    return mailbox.queue(session, recipient.user_id, replies)
