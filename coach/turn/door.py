"""The door every typed text goes through first, in any state: normalise, then guard.

Normalising is NFKC (full-width digits and letters become ASCII, ① becomes 1) with format
characters removed (zero-width spaces and joiners, BOM, bidi marks: they split words
invisibly and defeat every rule), control characters removed but new lines kept. Chinese
punctuation stays as typed (，。：？ are part of the rep's note) except inside an identifier,
where NFKC's ASCII form is what the guard must see: abc＠qq．com, 138－1234－5678.

Then the compliance guard: personal data and per-doctor prescription numbers are removed
before the text is kept anywhere, even in the conversation row; an adverse event is stored
at once with its reporting clock running (day 0 = now) and the rep is told in the same
reply, whatever flow is open. The customer is attached when the conversation knows one;
otherwise the report waits for attribution and is attached when the note is filed. A
`/cancel` or a crash right after cannot lose it: it commits with this turn. The same text
sent again while its report is open is that report (coach/dismissal.py), and the 🚨 notice
offers "this is not an adverse event", kept with its reason, never erased. A kickback,
gift, off-label or 统方 flag is kept the same way (a compliance record), so editing or deleting
the note later does not hide from the manager what was written.
"""

from __future__ import annotations

from datetime import timedelta

from coach.capture import read_note, resolve
from coach.compliance.normalise import normalise_text
from coach.context import Turn
from coach.dismissal import repeated
from coach.messages import Choice, Reply
from coach.store.models import Account
from coach.turn.keys import AdverseEventKey, encode

__all__ = ["check_at_door", "normalise"]

# the guard reads this much of a huge message; a longer one is refused (pipeline), and one
# up to this long is kept whole, guarded whole (router.too_long)
GUARDED_CHARS = 50_000


def normalise(text: str) -> str:
    """The text as the engine reads and keeps it (see the module docstring)."""
    return normalise_text(text).strip()


def _customer_of(turn: Turn, text: str) -> Account | None:
    """The customer a report belongs to: the one the conversation is about, unless the text
    names somebody else ("中心医院张医生说有个病人…" typed while looking at 李主任)."""
    account = turn.account()
    if account is None:
        return None
    facts = read_note(turn.library.lexicon, text, turn.local_now.date())
    mention = facts.mention or facts.attempted
    if mention is None:
        return account
    fields = (account.name, account.hospital, account.department, account.title)
    same = resolve(mention, [account], lambda _: fields, turn.library.lexicon)
    return account if same.status == "known" else None


def check_at_door(turn: Turn, text: str, source: str, *, reports: bool = True) -> str:
    """Guard `text`; record what it found in `turn.findings` (and an adverse event in the
    store); return the text with personal data removed. `source` says where the rep was
    (a playbook and step, or free text), for the pharmacovigilance audit trail.
    `reports=False`: the event words are about a report already taken (a reason typed for
    dismissing it, coach/turn/typed_reason.py): no second report, all else as always."""
    guard = turn.library.guard
    if guard is None:
        return text
    result = guard.check(text[:GUARDED_CHARS])
    turn.findings.redacted |= {r.category for r in result.redactions}
    removed = {r.category for r in result.redactions}
    flagged = {f.category for f in result.flags} | ({"prescription_count"} & removed)
    if flagged:  # kept for the manager whatever the rep does with the text next
        # filed under the customer the text is about: the one on screen only when the text
        # names nobody else; else nobody yet, and the saved visit files it (repo
        # file_compliance_records), as with a report below
        turn.store.add_compliance_record("typed", sorted(flagged), result.redacted, turn.now,
                                         source=source,
                                         account=_customer_of(turn, result.redacted))
        notice = turn.message("compliance_flag_notice",
                              names=[turn.message(f"flag_{c}") for c in sorted(flagged)])
        # said before saving, and only when a number was taken out: the reply must say what
        # the stored text shows ("统方" with no number in it keeps its words)
        if "prescription_count" in removed:
            notice += "\n" + turn.message("prescription_count_removed")
        turn.notices.append(Reply(notice))
    found = result.adverse_event or result.possible_event
    if found is None or not reports:
        return result.redacted
    sure = result.adverse_event is not None
    settings = turn.settings
    event = repeated(turn, result.redacted)
    if event is not None:  # the same note again: one report, its clock from the first time
        sure = event.status != "unconfirmed"
        turn.notices.append(Reply(turn.message("adverse_event_repeat",
                                               day0=turn.local_time(event.day0))))
        account = turn.store.account(event.account_id) if event.account_id else None
    else:
        account = _customer_of(turn, result.redacted)
        event = turn.store.add_adverse_event(
            account, None, found.phrases[0], turn.now,
            timedelta(hours=settings.adverse_event_hours),
            timedelta(hours=settings.adverse_event_remind_before_hours),
            report=result.redacted, source=source[:100],
            status="open" if sure else "unconfirmed", kind=found.kind)
    turn.findings.reports.append(event.id)
    context = {"phrase": event.phrase, "day0": turn.local_time(event.day0),
               "kind": "" if event.kind == "event" else turn.message(f"report_kind_{event.kind}"),
               "deadline": turn.local_time(event.deadline),
               "hours": settings.adverse_event_hours, "account": turn.account_view(account)}
    if sure:
        turn.notices.append(Reply(turn.message("adverse_event_notice", **context), (
            Choice(encode(AdverseEventKey(event.id, "d")),
                   turn.message("adverse_event_dismiss_label")),)))
    else:  # the clock runs from now all the same: the answer only says whether it stops
        turn.notices.append(Reply(turn.message("adverse_event_question", **context), (
            Choice(encode(AdverseEventKey(event.id, "y")),
                   turn.message("adverse_event_yes_label")),
            Choice(encode(AdverseEventKey(event.id, "n")),
                   turn.message("adverse_event_no_label")))))
    return result.redacted
