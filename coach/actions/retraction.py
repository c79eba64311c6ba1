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
a new message that says plainly it was a mistake (a new note that merely says "没有…" is a
note), the one of the rep's reports of the last days (CANDIDATES) that the message points
at: the customer it names (邓主任) and the words it shares with one report and not the
others (抽筋, 血压). A lone recent report (RECENT) needs no pointing ("刚才那条是我写错了").
When it cannot tell, the rep is asked which, with the reports as buttons: putting a
correction on the wrong safety report (the newest, by default) corrupts two records.

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

__all__ = ["CANDIDATES", "RECENT", "read_retraction", "record_retraction", "retract"]

#: How old the rep's only report may be for a new message to take it back unnamed.
RECENT = timedelta(hours=2)
#: How far back a new message may take back a report it points at.
CANDIDATES = timedelta(days=7)
#: Reports offered as buttons when the message does not say which.
MAX_CHOICES = 6
#: Characters of a report shown on its button.
LABEL_CHARS = 30
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
# "刚才记错人了，应该是刘医生", "日期记错了 约的是周三": the visit's customer or day was
# wrong, not the report; the visit is corrected (coach/capture/revisions.py) and a report
# it carries follows it, with the correction recorded on it (coach/actions/moving.py)
_WHEN_WRONG = re.compile(r"(?:日期|时间|日子)[^，。,.]{0,3}(?:写错|记错|打错|搞错|弄错|错了)|"
                         r"(?:写错|记错|打错|搞错|弄错)了?(?:日期|时间|日子)|"
                         r"\bwrong (?:day|date|time)\b", re.IGNORECASE)
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


def _bigrams(text: str) -> set[str]:
    """Two-character pieces of the Chinese runs in `text`, and its Latin words of 2+ letters
    (K+, rash): what a message shares with the report it is about."""
    pieces = {run[i:i + 2] for run in re.findall(r"[\u4e00-\u9fff]+", text)
              for i in range(len(run) - 1)}
    return pieces | {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z+]+", text)}


def _pointed(turn: Turn, text: str, events: Sequence[AdverseEvent]) -> list[AdverseEvent]:
    """The reports `text` points at best: by the customer it names (worth more than any
    words), then by the words it shares with a report that not every candidate has (病人,
    我们的药 are in all of them and tell nothing). Empty when it points at none."""
    said = _bigrams(_MISTAKE.sub(" ", text))
    words = {e.id: _bigrams(e.report or e.phrase) for e in events}
    common = set.intersection(*words.values()) if len(events) > 1 else set()
    scores: dict[int, int] = {}
    for event in events:
        account = turn.store.account(event.account_id) if event.account_id else None
        named = account is not None and account.name in text
        scores[event.id] = 100 * named + len((said & words[event.id]) - common)
    best = max(scores.values())
    return [] if best == 0 else [e for e in events if scores[e.id] == best]


@action("read_retraction", provides=("retracted", "amended", "retraction_items"))
def read_retraction(turn: Turn, _args: Mapping[str, Any]) -> None:
    """A new message that takes back one of the rep's reports: recorded on the one it points
    at; `retracted` lists it (None: the message is a note; `amended` None: not at a
    proposal); `retraction_items` the candidates ({id, label}) when it cannot tell which."""
    text = str(turn.vars.get("note") or "").strip()
    turn.vars["retracted"] = turn.vars["amended"] = turn.vars["retraction_items"] = None
    if not text or len(text) > MAX_CHARS or not _MISTAKE.search(text) or _about_visit(
            turn, text):
        return
    fresh = set(turn.findings.reports)
    events = list(turn.store.session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id == turn.rep.id,
                                   AdverseEvent.day0 >= turn.now - CANDIDATES,
                                   AdverseEvent.id.not_in(fresh or {0}))
        .order_by(AdverseEvent.day0.desc(), AdverseEvent.id.desc())
    ).scalars())
    if not events:
        return
    pointed = _pointed(turn, text, events)
    if len(pointed) == 1:
        _record(turn, text, pointed)
    elif not pointed and len(events) == 1 and events[0].day0 >= turn.now - RECENT:
        _record(turn, text, events)
    else:
        turn.vars["retraction_items"] = [_item(turn, e) for e in (pointed or events)[:MAX_CHOICES]]


def _about_visit(turn: Turn, text: str) -> bool:
    """Whether the mistake is whom or when the visit was ("记错人了", "日期记错了")."""
    low = text.lower()
    return bool(_WHEN_WRONG.search(text)) or any(
        word in low for word in turn.library.lexicon.person_wrong)


def _item(turn: Turn, event: AdverseEvent) -> dict[str, Any]:
    """A report as a button: its day, its customer, the start of what was written."""
    account = turn.store.account(event.account_id) if event.account_id else None
    words = (event.report or event.phrase).split("\n", 1)[0]
    parts = [turn.local_date(event.day0)[5:], account.name if account else "",
             words[:LABEL_CHARS] + ("…" if len(words) > LABEL_CHARS else "")]
    return {"id": event.id, "label": " ".join(p for p in parts if p)}


@action("record_retraction", provides=("retracted", "amended"))
def record_retraction(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep picked which report the message takes back: recorded on it (`retracted`)."""
    text = str(turn.vars.get("note") or "").strip()
    turn.vars["retracted"] = turn.vars["amended"] = None
    target = turn.vars.get("retraction_target")
    event = turn.store.adverse_event(target) if isinstance(target, int) else None
    if event is not None and text:
        _record(turn, text, [event])
