"""A reason typed at "why is this not an adverse event?" (trial F finding 1).

After 🙅 不是不良事件 the rep is asked why, with one button per reason. A rep who types the
reason instead ("是疗效改善，Hb升高不是不良反应") means it as that answer: guarded like any text
(personal data removed, flags kept for the manager), it closes the report asked about as
"typed", the words kept whole in dismissed_note (coach/dismissal.py). The report is never
erased.

A text that tells a different event is no reason: another patient ("还有一个病人也…"), or
an event word the report does not hold (a new symptom, another reaction). It opens its
own report as any note would, the first report stays open, and the reason is asked again,
saying why. The guard itself is unchanged: "不是不良反应" suppresses nothing typed elsewhere.

The words that tell a new case and the filler left out when comparing event words are
language data: `content.typed_reason` of a playbook (playbooks/today.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from coach.capture import read_note
from coach.compliance import AdverseEvent as Found
from coach.dismissal import TYPED, ask_why, dismiss
from coach.messages import Reply
from coach.store.models import CLOSED_REPORTS, AdverseEvent
from coach.turn.door import GUARDED_CHARS, check_at_door

if TYPE_CHECKING:
    from coach.context import Turn

__all__ = ["QUOTED", "reason_typed"]

QUOTED = 60  # the reply quotes this much of a long reason; the report keeps it whole
#: A text is the answer to "why?" only this soon after it was asked: one sent later is a
#: note of its own, whatever it says (a report is never closed by words not meant for it).
REASON_WAIT = timedelta(minutes=30)


def _spec(turn: Turn) -> Mapping[str, Any]:
    return next((p.content["typed_reason"] for p in turn.library.playbooks.values()
                 if isinstance(p.content.get("typed_reason"), Mapping)), {})


def _folded(text: str, filler: str) -> str:
    return re.sub(f"[\\s{re.escape(filler)}]", "", text).lower() if filler else \
        re.sub(r"\s", "", text).lower()


def tells_new_event(turn: Turn, found: Found, event: AdverseEvent, text: str) -> bool:
    """Whether the event the guard `found` in `text` is not the report `event`: another
    patient is named, or an event word is neither in the report, nor holding or held by
    one of the report's own event words (说心慌 and 心慌), nor a word for any adverse event
    (不良反应, side effect)."""
    spec = _spec(turn)
    if any(re.search(str(p), text, re.IGNORECASE) for p in spec.get("other_case") or []):
        return True
    filler = str(spec.get("filler") or "")
    generic = [_folded(str(g), filler) for g in spec.get("generic") or []]
    report = _folded(event.report or event.phrase, filler)
    guard = turn.library.guard
    told = guard.check(event.report or event.phrase) if guard is not None else None
    told_event = told and (told.adverse_event or told.possible_event)
    own = [_folded(t, filler) for t in (told_event.terms if told_event else ())]
    for term in found.terms:
        word = _folded(term, filler)
        if not word or word in report or word in generic:
            continue
        if not any(t and (t in word or word in t) for t in own):
            return True
    return False


def _reads_as_note(turn: Turn, text: str, event: AdverseEvent) -> bool:
    """A visit note sent instead of answering (a follow-up date, a hospital, or a
    customer the report does not name): read as a note, never taken as a reason, so a
    report is not closed by words that were not about it."""
    facts = read_note(turn.library.lexicon, text, turn.local_now.date())
    report = event.report or event.phrase
    named = facts.mention or facts.attempted
    placed = named is not None and (named.hospital or named.department) is not None
    return (facts.due is not None or (facts.hospital is not None and facts.hospital not in report)
            or (placed and named is not None and named.name not in report))


def reason_typed(turn: Turn, event_id: int, text: str, source: str
                 ) -> tuple[str, list[AdverseEvent]] | None:
    """Take `text` as the reason the report `event_id` is not an adverse event: what to
    say and the reports closed; nothing closed when the text told a new event (its report
    taken, the reason asked again, all said here). None when the text is not for it (the
    report was closed since): the caller reads the text as usual."""
    event = turn.store.adverse_event(event_id)
    guard = turn.library.guard
    if event is None or event.status in CLOSED_REPORTS or guard is None:
        return None
    note = _reads_as_note(turn, text, event)
    result = guard.check(text[:GUARDED_CHARS])
    found = result.adverse_event or result.possible_event
    if found is not None and tells_new_event(turn, found, event, result.redacted):
        said = turn.message("dismiss_reason_not_taken", phrase=event.phrase)
        if note:  # a note of its own too: read as one, its report taken at the door
            turn.notices.append(Reply(said))
            return None
        check_at_door(turn, text, source)  # its own report, with its notice
        turn.say(said)
        ask_why(turn, event)
        return "", []
    if note:
        return None
    reason = check_at_door(turn, text, source, reports=False).strip()
    closed = dismiss(turn, event, TYPED, reason)
    quoted = reason if len(reason) <= QUOTED else reason[:QUOTED] + "…"
    return turn.message("adverse_event_dismissed", reason=f"「{quoted}」",
                        count=len(closed)), closed
