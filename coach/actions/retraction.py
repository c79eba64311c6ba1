"""A rep taking back an adverse event they wrote: "不对，没有拉肚子，是我写错了".

A safety report cannot be withdrawn: once written it is kept with its audit trail, and
whether it stands is pharmacovigilance's call, not the rep's or ours. So a retraction is
recorded on the report itself (appended to its text with the time, never replacing what
was written), the report stays as it was (open, or forwarded), and the rep is told why and
what to do: tell pharmacovigilance about the correction when forwarding (or now, if it was
forwarded). The retraction is not kept as a visit note of its own: it is not one, and a
"📝 log that note" button offering it on every later screen would say the opposite of
what the rep meant.

Which report: at the proposal of the note that started it, the reports of that note; in
a new message, the rep's latest report when it is recent (RECENT) and the message says
plainly it was a mistake (a new note that merely says "没有…" is a note).

The words below are what a retraction is matched on (not text shown to anyone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from coach.actions.registry import action
from coach.store.models import AdverseEvent

if TYPE_CHECKING:
    from coach.context import Turn

__all__ = ["RECENT", "read_retraction", "retract"]

#: How old the rep's latest report may be for a new message to take it back.
RECENT = timedelta(hours=2)
#: A message longer than this says more than "that was a mistake": it is a note.
MAX_CHARS = 40
#: The rep saying they got it wrong, in the first person or of "that note": "是我写错了",
#: "刚才那条记错了", "我要撤回", "不算不良事件", "my mistake", "I typed it wrong". A note about
#: somebody else's mistake ("王主任说他记错了剂量") is not one.
_MISTAKE = re.compile(
    r"(?:我|刚才|刚刚|上一条|上面那?条|那条|这条)[^，。！？,.!?\n]{0,6}"
    r"(?:写错|记错|打错|输错|填错|搞错|弄错|说错|看错|听错|发错)|"
    r"撤回|不算不良|不是不良|没有不良|"
    r"\bmy (?:mistake|bad|typo)\b|\bI (?:wrote|typed|got|put) (?:it|that|this)? ?wrong\b|"
    r"\b(?:retract|withdraw) (?:it|that|this|the report)\b|\bscratch that\b|"
    r"\bnot an adverse event\b", re.IGNORECASE)
_DENIED = re.compile(r"(?:没有|并没有|其实没|没|不是)([\u4e00-\u9fff]{2,})")


def _denies(text: str, phrase: str) -> bool:
    """Whether `text` denies part of `phrase` ("没有拉肚子" against "…后拉肚子拉了三天")."""
    for match in _DENIED.finditer(text):
        said = match.group(1)
        if any(said[i:i + 2] in phrase for i in range(len(said) - 1)):
            return True
    return False


def _record(turn: Turn, text: str, events: Sequence[AdverseEvent]) -> None:
    """Append the correction to each report and say what happens now (`retracted`)."""
    for event in events:
        line = turn.message("report_correction", day0=turn.local_time(turn.now), report=text)
        event.report = f"{event.report}\n{line}"
    turn.vars["retracted"] = [
        {"phrase": e.phrase, "deadline": turn.local_time(e.deadline),
         "forwarded": e.status == "forwarded", "late": e.deadline <= turn.now}
        for e in events]


def retract(turn: Turn, text: str) -> bool:
    """At the proposal of a note with safety reports: whether `text` takes them back (then
    it is recorded on them, see the module docstring)."""
    fresh = set(turn.findings.reports)  # a report the text itself started is no target
    events = [e for e in (turn.store.adverse_event(i) for i in turn.state.reports
                          if i not in fresh) if e is not None]
    if not events or len(text) > MAX_CHARS:
        return False
    if not (_MISTAKE.search(text) or any(_denies(text, e.phrase) for e in events)):
        return False
    _record(turn, text, events)
    return True


@action("read_retraction", provides=("retracted", "amended"))
def read_retraction(turn: Turn, _args: Mapping[str, Any]) -> None:
    """A new message that takes back the rep's latest, recent report: recorded on it;
    `retracted` lists it (None: the message is a note; `amended` None: not at a proposal)."""
    text = str(turn.vars.get("note") or "").strip()
    turn.vars["retracted"] = turn.vars["amended"] = None
    if not text or len(text) > MAX_CHARS or not _MISTAKE.search(text):
        return
    fresh = set(turn.findings.reports)
    latest = turn.store.session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id == turn.rep.id,
                                   AdverseEvent.day0 >= turn.now - RECENT,
                                   AdverseEvent.id.not_in(fresh or {0}))
        .order_by(AdverseEvent.day0.desc(), AdverseEvent.id.desc()).limit(1)
    ).scalars().first()
    if latest is not None:
        _record(turn, text, [latest])
