"""Logging a visit from one note: read it, propose what to save, save it with one tap.

`read_note` takes the customer, hospital, department, follow-up date and action and the
lexicon's signals (stage, role, need, style, objection) from the note, and decides who the
customer is among the rep's own (`coach.capture`: sure, ask, or new, never a guess).
`propose_visit` lays it out for the rep; `log_visit` saves all of it: the customer (new
ones with their hospital, department and title), the note, its objections, the confirmed
updates, the follow-up, and the safety reports the door took from the rep's texts. Every
visit gives something back: the best-fitting tactic for the customer's stage and style.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.crisis import crisis_alert, leaving_clauses, successor_named
from coach.actions.dates import date_view
from coach.actions.followup_moves import move_request
from coach.actions.kept import keep_note
from coach.actions.known import read_hospital_notes
from coach.actions.reasons import known_reason
from coach.actions.registry import action
from coach.actions.regression import Evidence, at_risk, not_yet_alerted, risk_words
from coach.actions.retraction import retract
from coach.actions.signals import (
    apply_update,
    check_signals,
    denied_signals,
    differs,
    find_signals,
    one_of_each,
    signal_name,
    stage_readings,
)
from coach.actions.tactics import (
    blocked_tactics,
    describe_first,
    fresh_first,
    rank_tactics,
    tactic_playbook,
    undiagnosed_fit,
)
from coach.capture import (
    Correction,
    Mention,
    looks_like_note,
    read_correction,
    read_note,
    read_note_about,
    resolve,
)
from coach.capture.additions import Addition, read_addition, without_lead
from coach.capture.followup import moved_from, names_no_object, only_again, same_step
from coach.capture.moves import read_followup_move
from coach.capture.reader import NoStep
from coach.capture.revisions import Revision, in_week_of, looks_like_revision, read_revision
from coach.capture.taken_back import TakenBack, taken_back
from coach.capture.tellers import Told, told_parts
from coach.compliance.normalise import normalise_text
from coach.names import hospitals_match, name_key, written_alike
from coach.settings import EngineSettings
from coach.store.built import TIP
from coach.store.conversation import LastVisit
from coach.store.models import Account, AdverseEvent, Note
from coach.store.repo import AccountEntry
from coach.turn.picker import find_account
from coach.views import DateView, ProposalView

if TYPE_CHECKING:
    from coach.context import Turn

MISSING, AMBIGUOUS, KNOWN, NEW = "missing", "ambiguous", "known", "new"


@dataclass(frozen=True)
class NoteReview:
    """What the compliance guard found in a note, in the shape the store and texts need."""

    text: str
    redacted: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def view(self, turn: Turn) -> dict[str, Any]:
        guard = turn.library.guard
        explain = (lambda c: guard.explanation(c, turn.locale)) if guard else (lambda c: c)
        return {
            "redacted": [{"category": c, "explanation": explain(c)} for c in self.redacted],
            "flags": [{"category": c, "explanation": explain(c)} for c in self.flags],
            "reports": [],
            "issues": bool(self.redacted or self.flags),
        }


def review_note(turn: Turn, text: str, *, carried: bool = True) -> NoteReview:
    """Run the guard on a note for its flags (its personal data was already removed at the
    door, and what was removed is in the engine state; a second pass catches anything that
    slipped in another way). `carried=False` judges `text` alone (an edit replaces what the
    flow's earlier texts said)."""
    guard = turn.library.guard
    if guard is None or not text:
        return NoteReview(text)
    result = guard.check(text)
    earlier = set(turn.state.redacted) if carried else set(turn.findings.redacted)
    redacted = sorted(earlier | {r.category for r in result.redactions})
    flags = sorted({f.category for f in result.flags}
                   | ({"prescription_count"} if "prescription_count" in redacted else set()))
    return NoteReview(result.redacted, [c for c in redacted if c == "personal_data"], flags)


def remind_at(due: date, settings: EngineSettings) -> datetime:
    """The UTC moment of `reminder_hour` local time on the due day."""
    local = datetime.combine(due, time(hour=settings.reminder_hour))
    return local - timedelta(hours=settings.utc_offset_hours)


def _fields(account: Account) -> tuple[str, str | None, str | None, str | None]:
    return account.name, account.hospital, account.department, account.title


def _mention(raw: Any) -> Mention | None:
    if not isinstance(raw, Mapping) or not raw.get("name"):
        return None
    return Mention(str(raw["name"]), raw.get("hospital"), raw.get("department"),
                   raw.get("title"))


def _known(accounts: Sequence[AccountEntry]) -> tuple[list[str], list[str]]:
    """The rep's customers' hospitals and names: a note may write them without a suffix or
    title ("泰山李主任", "古丽娜尔"), and they are still read."""
    return (sorted({a.hospital for a in accounts if a.hospital}),
            sorted({a.name for a in accounts}))


@action("read_note", provides=("customer", "customer_query", "due_date", "next_action",
                               "proposal", "others", "moving", "move_query",
                               "followup_move"),
        content_check=check_signals, shapes={"proposal": ProposalView})
def read_visit_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Understand the note: who (sure, ask, new or missing), where, what next."""
    note = str(turn.vars.get("note") or "")
    known_hospitals, known_names = _known(turn.store.account_entries())
    about = turn.vars.get("about") or {}
    person = _mention(about.get("person"))
    read = note
    if person is not None:  # the same note, for someone else it says the rep met
        facts = read_note_about(turn.library.lexicon, note, turn.local_now.date(),
                                person.name, known_hospitals, known_names,
                                no_step=_flagged_clauses(turn))
        facts = replace(facts, attempted=person)
        turn.vars["others"] = list(about.get("left") or [])
    else:
        read = without_lead(turn.library.lexicon, note)  # "补一句：…": no step "补一句"
        facts = read_note(turn.library.lexicon, read, turn.local_now.date(), known_hospitals,
                          known_names, no_step=_flagged_clauses(turn))
        turn.vars["others"] = [_query_of(m) for m in facts.others]
    # the customer's concerns and stage come from their part of the note, not from what
    # another person it names said ("另外陈主任也在，他对安全性有顾虑")
    turn.vars["note_own"] = facts.own_text if facts.own_text not in (note, read) else None
    turn.vars["contact"] = facts.contact  # "message" / "call": said so, not "拜访"
    turn.vars["amends"] = None
    turn.vars["moving"] = None
    turn.vars["followup_move"] = None
    if person is None and turn.account() is None and not turn.vars.get("as_note"):
        move = read_followup_move(turn.library.lexicon, read, turn.local_now.date(),
                                  known_hospitals, known_names)
        if move is not None:  # "王主任那个跟进改到下周二": no visit, his follow-up moves
            turn.vars["followup_move"] = move_request(move)
            return
    if person is None and turn.account() is None and _amends_last(
            turn, note, known_hospitals, known_names):
        if not turn.vars.get("moving"):
            turn.vars["proposal"] = _proposal(turn)
        return
    if facts.due is not None and "due_date" not in turn.vars:
        turn.vars["due_date"] = facts.due.isoformat()
        # "提前一周交" coming to a Sunday: shown as moved to the Friday, while it stays so
        turn.vars["due_off_day"] = None if facts.due_off_day is None else {
            "due": facts.due.isoformat(), "off": facts.due_off_day.isoformat()}
    turn.vars.setdefault("due_date", None)
    if facts.action and not turn.vars.get("next_action"):
        turn.vars["next_action"] = facts.action
    turn.vars.setdefault("next_action", None)
    mention = facts.mention or facts.attempted
    query = None if mention is None else {**_query_of(mention), "role": facts.role}
    turn.vars["customer_query"] = query
    turn.vars["note_customer"] = None if mention is None else _query_of(mention)
    preset = turn.account()
    if preset is not None and facts.mention is not None and not facts.to_customer_only and resolve(
            facts.mention, [preset], _fields, turn.library.lexicon).status == "new":
        # the card or reminder chose 赵主任, the note is about 张建国主任: the note wins
        # (not "周五带资料给王主任": 王主任 is whom 赵主任's next step goes to)
        turn.vars.pop("account", None)
        turn.vars.pop("followup", None)
        preset = None
    if preset is not None:
        turn.vars["customer"] = KNOWN
    elif mention is None:
        turn.vars["customer"] = MISSING
    elif facts.mention is None:  # nobody met: offer the person the note is about, never assume
        turn.vars["customer"] = AMBIGUOUS
    else:
        resolution = find_account(turn, mention)
        if resolution.status == KNOWN and facts.first_meeting:
            turn.vars["customer"] = AMBIGUOUS  # "第一次见": the namesake may be someone else
        elif resolution.status == KNOWN and resolution.account is not None:
            turn.vars["account"] = resolution.account.id
            turn.vars["customer"] = KNOWN
        else:
            turn.vars["customer"] = resolution.status
    turn.vars["proposal"] = _proposal(turn)


AMEND_WITHIN = timedelta(minutes=30)  # a text this soon after a visit may add to it
# "记错人了 刚才那条不是王主任 是刘医生" says outright it corrects the visit saved last: later
# the same working day it still does (never a new visit under the wrong customer)
REVISE_WITHIN = timedelta(hours=12)


def _amends_last(turn: Turn, typed: str, known_hospitals: Sequence[str],
                 known_names: Sequence[str]) -> bool:
    """"不对，她已经想试用了，下一步是约科会" right after the visit with 李医生 was saved:
    the proposal is to add it to that note (its stage signs and concerns read, its next
    step replacing the one saved), not a second visit. False when it is not about it."""
    last = turn.state.last_visit
    lexicon, today = turn.library.lexicon, turn.local_now.date()
    if last is None or turn.now - last.at > REVISE_WITHIN:
        return False
    recent = turn.now - last.at <= AMEND_WITHIN
    revising = looks_like_revision(lexicon, typed)
    if not recent and not revising:
        return False  # (no read of the saved visit for an ordinary note)
    if not revising and last.name and read_addition(
            lexicon, typed, today, last.name, last.hospital, known_hospitals, known_names,
            by_name=False) is None:
        return False  # not about that visit: nothing to read
    note, account = turn.store.note(last.note_id), turn.store.account(last.account_id)
    if note is None or account is None or account.archived or note.account_id != account.id:
        return False
    revision = read_revision(lexicon, typed, today, account.name, None, known_hospitals,
                             known_names) if looks_like_revision(lexicon, typed) else None
    if revision is not None and revision.person is not None:
        _offer_move(turn, note, account, revision, typed)
        return True
    if revision is None and not recent:
        return False
    added = None if revision is not None else read_addition(
        lexicon, typed, today, account.name, account.hospital, known_hospitals, known_names,
        by_name=False)
    if revision is None and added is None:
        return False
    turn.vars.update(account=account.id, customer=KNOWN, others=[], note_own=None,
                     contact=None, amends={"note_id": note.id, "account_id": account.id,
                                           "typed": typed,
                                           "kind": "date" if revision else "added"},
                     note=f"{note.text}\n{typed}", denied=_denied(turn, typed))
    saved = [f for f in turn.store.open_followups(account) if f.note_id == note.id] if (
        revision is not None or (added is not None and added.action and added.due is None)
    ) else []
    if revision is not None:  # "日期记错了 约的是周三": the saved step, on the day meant
        revision = read_revision(lexicon, typed, today, account.name, date.fromisoformat(
            saved[0].due_date) if saved else None, known_hospitals, known_names) or revision
        turn.vars["due_date"] = revision.due.isoformat() if revision.due else None
        turn.vars["next_action"] = saved[0].action if saved else None
        return True
    assert added is not None
    turn.vars["due_date"] = added.due.isoformat() if added.due else None
    turn.vars["next_action"] = added.action
    if added.action and added.due is None:  # "下一步是约科会": the saved step, renamed
        turn.vars["due_date"] = saved[0].due_date if saved else None
    return True


def _offer_move(turn: Turn, note: Note, account: Account, revision: Revision,
                typed: str) -> None:
    """"记错人了 刚才那条不是王主任 是刘医生": the visit just saved goes to the person named,
    picked with one tap among the rep's customers (or added, at the place the note gave).
    `typed`: the correction, appended to the note as it moves."""
    person = revision.person
    assert person is not None
    last = turn.state.last_visit
    turn.vars["moving"] = {"note_id": note.id, "account_id": account.id, "name": account.name,
                           "typed": typed,
                           "replaced": list(last.replaced) if last else [],
                           # a customer picked with a higher id was added at the pick
                           "newest": max((e.id for e in turn.store.account_entries()),
                                         default=0)}
    turn.vars["move_query"] = {"name": person.name,
                               "hospital": person.hospital or account.hospital,
                               "department": person.department or account.department,
                               "title": person.title}
    turn.vars["customer"] = "moving"


def _denied(turn: Turn, typed: str) -> list[str]:
    """The concerns `typed` takes back ("他没嫌贵": price), with those taken back before."""
    signals = [s for s in turn.playbook.content.get("signals", []) if s["kind"] == "objection"]
    return sorted({*(turn.vars.get("denied") or []),
                   *(str(s["value"]) for s in denied_signals(typed, signals))})


def _flagged_clauses(turn: Turn) -> NoStep:
    """The clauses of a note no follow-up may come from: those the compliance guard flags
    (a reminder to "跟进：上次给他科室送了两千块购物卡" would coach the kickback; a text the
    guard would read at other offsets, as it normalises, is kept out whole), and those that
    say a key person is leaving (their date is his, not the rep's next step)."""
    guard = turn.library.guard

    def flagged(text: str) -> list[tuple[int, int]]:
        spans = leaving_clauses(turn, text)
        if guard is None:
            return spans
        if len(normalise_text(text)) != len(text):
            return [(0, len(text))] if guard.check(text).flags else spans
        return [*guard.flagged_clauses(text), *spans]

    return flagged


def _with_earlier_object(turn: Turn, action: Any,
                         upcoming: Callable[[], Sequence[Mapping[str, Any]]]) -> Any:
    """"明天发给她" moving the one open "把指南发给她", "改到周四下午再去" moving the one
    open "带III期数据再去": the step is that one, on a new day, not a step that lost what
    is sent or brought. `upcoming`: the customer's open follow-ups (`_upcoming`), read
    only when the step needs the earlier one."""
    lexicon = turn.library.lexicon
    # "王主任刚打电话 说下周三他出门诊 改到周四下午": no step of its own, only a new day
    again = not action or (isinstance(action, str) and only_again(lexicon, action))
    if not again and (not isinstance(action, str) or not names_no_object(action)):
        return action
    due_iso = turn.vars.get("due_date")
    due = date.fromisoformat(due_iso) if isinstance(due_iso, str) and due_iso else None
    earlier = [str(r["action"]) for r in _replaced(turn, upcoming(), due) if r["action"]]
    if len(earlier) != 1 or names_no_object(earlier[0]) or only_again(lexicon, earlier[0]):
        return action
    return earlier[0] if again or str(action).strip()[0] in earlier[0] else action


def _query_of(mention: Mention) -> dict[str, Any]:
    return {"name": mention.name, "hospital": mention.hospital,
            "department": mention.department, "title": mention.title}


@action("add_successor", provides=("successor",))
def add_successor(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep tapped to add whoever the note says takes over (`visit.successor`): a new
    customer at the same hospital and department, unless one of that name is there by now
    (`successor.created` says which)."""
    named = (turn.vars.get("visit") or {}).get("successor")
    turn.vars["successor"] = None
    if not isinstance(named, dict) or not named.get("name"):
        return
    same = [a for a in turn.store.active_accounts()
            if name_key(a.name) == name_key(str(named["name"]))
            and (not a.hospital or not named.get("hospital")
                 or hospitals_match(a.hospital, str(named["hospital"])))]
    if not same:
        turn.store.create_account(str(named["name"]), named.get("hospital"),
                                  named.get("department"), turn.now, title=named.get("title"))
    turn.vars["successor"] = {**named, "created": not same}


@action("log_also", provides=("about",))
def log_also(turn: Turn, _args: Mapping[str, Any]) -> None:
    """After saving, log the same note for the next other person it says the rep met."""
    others = list(turn.vars.get("others") or [])
    turn.vars["about"] = {"person": others[0], "left": others[1:]} if others else None
    for name in ("account", "followup"):
        turn.vars.pop(name, None)
    # the safety reports about this person, kept unfiled at the first visit: filed with hers
    turn.state.reports = list(others[0].get("reports") or []) if others else []


@action("amend_visit", provides=("amended", "customer", "customer_query", "due_date",
                                 "proposal", "retracted"),
        shapes={"proposal": ProposalView})
def amend_visit(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Text typed at the proposal instead of a tap. A correction changes what will be saved:
    the date ("改到下周二"), no reminder ("不用提醒"), or the customer ("是王主任", then
    picked with one tap). A retraction of the note's safety report is recorded on the report
    (coach/actions/retraction.py). Anything else is a note of its own: kept, to log after
    this one."""
    typed = str(turn.vars.get("typed") or "")
    known_hospitals, known_names = _known(turn.store.account_entries())
    turn.vars["amended"] = None
    if _anothers_followup(turn, typed, known_hospitals, known_names):
        # "邓主任那个跟进改到下周四" under 罗医生's proposal: not this visit's customer nor
        # date; kept, to do after this one (logging it moves 邓主任's follow-up)
        turn.vars["amended"] = "kept" if keep_note(turn, typed) else "full"
        return
    correction = read_correction(turn.library.lexicon, typed, turn.local_now.date(),
                                 known_hospitals, known_names) or _wrong_person(
        turn, typed, known_hospitals, known_names)
    turn.vars["amended"] = None
    if correction is None and retract(turn, typed):  # "是我写错了" about a report: kept
        turn.vars["amended"] = "retracted"
        return
    if correction is None and _add_to_visit(turn, typed, known_hospitals, known_names):
        turn.vars["amended"] = "added"
        turn.vars["proposal"] = _proposal(turn)
        return
    if correction is None:
        if not looks_like_note(turn.library.lexicon, typed, turn.local_now.date()):
            turn.vars["amended"] = "unclear"  # "好的", "嗯": neither a change nor a note
        else:
            turn.vars["amended"] = "kept" if keep_note(turn, typed) else "full"
        return
    if correction.no_date:
        turn.vars["due_date"] = None
        turn.vars["amended"] = "date"
    if correction.due is not None:
        # "日期记错了 约的是周三" at 下周二: that week's Wednesday
        shown = turn.vars.get("due_date") or _saved_due(turn)
        due = in_week_of(typed, correction.due, date.fromisoformat(shown) if isinstance(
            shown, str) and shown else None, turn.local_now.date())
        turn.vars["due_date"] = due.isoformat()
        turn.vars["amended"] = "date"
        _redate_saved(turn)
    if correction.hospital or correction.department:
        _amend_place(turn, correction.hospital, correction.department)
    if correction.mention is not None and _move_amended(turn, correction.mention, typed):
        turn.vars["amended"] = "move"
        return
    if correction.mention is not None:
        # "是王主任": the hospital and department the note wrote still hold
        mention, before = correction.mention, _where_before(turn)
        turn.vars["customer_query"] = {
            "name": mention.name, "hospital": mention.hospital or before[0],
            "department": mention.department or before[1], "title": mention.title,
            "role": None}
        _swap_with_other(turn, mention)
        turn.vars["account"] = None
        turn.vars["customer"] = AMBIGUOUS  # offered with one tap, never assumed
        turn.vars["amended"] = "customer"
    turn.vars["proposal"] = _proposal(turn)


def _redate_saved(turn: Turn) -> None:
    """A day corrected under the proposal to add to a saved visit ("对了…" then "不是周二，
    是周四"): the saved follow-up moves, its step kept, and no other follow-up of the
    customer's goes with it."""
    account = turn.account()
    amends = _amending(turn, account)
    if account is None or not amends:
        return
    turn.vars["amends"] = {**amends, "redated": True}
    if not turn.vars.get("next_action"):
        turn.vars["next_action"] = next((f.action for f in turn.store.open_followups(account)
                                         if f.note_id == amends.get("note_id")), None)


def _saved_due(turn: Turn) -> str | None:
    """The day of the saved follow-up of the visit being added to ("对了…" then "日期记错了，
    是周三": that follow-up's week, not this one's)."""
    account = turn.account()
    amends = _amending(turn, account)
    if account is None or not amends:
        return None
    return next((f.due_date for f in turn.store.open_followups(account)
                 if f.note_id == amends.get("note_id")), None)


def _anothers_followup(turn: Turn, typed: str, known_hospitals: Sequence[str],
                       known_names: Sequence[str]) -> bool:
    """Whether `typed` moves or cancels the follow-up of a customer other than the one
    proposed."""
    move = read_followup_move(turn.library.lexicon, typed, turn.local_now.date(),
                              known_hospitals, known_names)
    customer = (turn.vars.get("proposal") or {}).get("customer") or {}
    return move is not None and not _same_family(move.person.name, customer.get("name"))


def _move_amended(turn: Turn, person: Mention, typed: str) -> bool:
    """"记错人了，是刘医生" under the proposal to add to the visit just saved (trial F): the
    saved visit itself was someone else's. It moves, with its follow-up's step, concerns
    and reports, to the one picked, and what was added under the proposal stays pending on
    it (never a second visit under the new customer with only the addition, the saved one
    left behind and its step lost). False when no saved visit is being added to."""
    account = turn.account()
    amends = _amending(turn, account)
    note = turn.store.note(int(amends.get("note_id") or 0)) if amends else None
    if account is None or note is None or note.account_id != account.id or (
            person.name == account.name):
        return False  # ("是谢医生不是谢主任": the same family said otherwise is someone else)
    _offer_move(turn, note, account, Revision(person=person), typed)
    turn.vars["moving"]["pending"] = _pending(str(turn.vars.get("note") or ""), note.text)
    return True


def _pending(shown: str, saved: str) -> str:
    """What the rep added under the proposal to a saved note (`shown` is the note with it)."""
    return shown[len(saved):].strip("\n") if shown.startswith(saved) else shown


def _wrong_person(turn: Turn, typed: str, known_hospitals: Sequence[str],
                  known_names: Sequence[str]) -> Correction | None:
    """"刚才记错人了，应该是刘医生" at the proposal: the customer is corrected, as "是刘医生"
    would (not kept as a note of its own, nor read as taking back a safety report)."""
    lexicon = turn.library.lexicon
    if not looks_like_revision(lexicon, typed):
        return None
    customer = (turn.vars.get("proposal") or {}).get("customer") or {}
    revision = read_revision(lexicon, typed, turn.local_now.date(),
                             str(customer.get("name") or ""), None, known_hospitals,
                             known_names)
    return Correction(mention=revision.person) if revision and revision.person else None


def _add_to_visit(turn: Turn, typed: str, known_hospitals: Sequence[str],
                  known_names: Sequence[str]) -> bool:
    """"不对，她已经想试用了，下一步是约科会" typed under the proposal: the visit shown grows
    by it (the note keeps every word, its signs and concerns are read with the rest) and
    its next step, when it gives one, replaces the one proposed (the date stays unless it
    gives another). False when it is not about this visit."""
    customer = (turn.vars.get("proposal") or {}).get("customer") or {}
    if not customer.get("name"):
        return False
    added = read_addition(turn.library.lexicon, typed, turn.local_now.date(),
                          str(customer["name"]), customer.get("hospital"), known_hospitals,
                          known_names)
    back = _place_taken_back(turn, typed)
    if added is None and not (back.roles or back.department or back.instead):
        return False  # ("药剂科是要交申请的地方，她是心内的" is about this visit)
    added = added or Addition()
    for name in ("note", "note_own"):
        if turn.vars.get(name):
            turn.vars[name] = f"{turn.vars[name]}\n{typed}"
    amends = turn.vars.get("amends")
    if amends:  # its concerns are read too, not only those of the first addition
        turn.vars["amends"] = {**amends, "typed": f"{amends.get('typed') or ''}\n{typed}"}
    turn.vars["denied"] = _denied(turn, typed)
    _take_back_place(turn, back)
    if added.due is not None:
        turn.vars["due_date"] = added.due.isoformat()
    if added.action:
        turn.vars["next_action"] = added.action
    return True


def _place_taken_back(turn: Turn, typed: str) -> TakenBack:
    """What `typed` denies of the proposal's department and role hint."""
    query = turn.vars.get("customer_query") or {}
    values = sorted({str(s["value"]) for s in turn.playbook.content.get("signals", [])
                     if s["kind"] == "role"})
    roles = [(v, [v.replace("_", " "), *(turn.library.label("roles", v, locale) or ""
                                        for locale in ("zh", "en"))]) for v in values]
    return taken_back(turn.library.lexicon, typed, query.get("department"), roles)


def _take_back_place(turn: Turn, back: TakenBack) -> None:
    """"她不是采购者", "药剂科是要交申请的地方，她是心内的": a role or department the
    correction denies leaves the proposal (the department it gives instead takes its place),
    and that role is not hinted again from the note's words."""
    if not back.roles and not back.department and not back.instead:
        return
    query = dict(turn.vars.get("customer_query") or {})
    lexicon = turn.library.lexicon
    # "她不是采购者，是心内的": the role the department gave goes, and so does that department
    from_department = lexicon.department_roles.get(str(query.get("department") or ""))
    if back.department or (back.instead and (not query.get("department")
                                             or from_department in back.roles)):
        query["department"] = back.instead
    if query.get("role") in back.roles or back.department or back.instead:
        given = lexicon.department_roles.get(str(query.get("department") or ""))
        query["role"] = given if given not in back.roles else None
    turn.vars["customer_query"] = query
    turn.vars["denied_roles"] = sorted({*(turn.vars.get("denied_roles") or []), *back.roles})


def _swap_with_other(turn: Turn, mention: Mention) -> None:
    """"不是张科，是陈主任" when the note also named 陈主任: the visit is his, at the place
    the note gave him, read from his part of the note; 张科 is offered to log after it."""
    others = [dict(o) for o in turn.vars.get("others") or []]
    chosen = next((o for o in others if _same_family(o.get("name"), mention.name)), None)
    if chosen is None:
        return
    previous = dict(turn.vars.get("customer_query") or {})
    account = turn.account()
    was = ({"name": account.name, "hospital": account.hospital,
            "department": account.department, "title": account.title}
           if account is not None else _query_of(_mention(_note_customer(turn)) or mention))
    query = turn.vars["customer_query"]
    query["hospital"] = mention.hospital or chosen.get("hospital") or previous.get("hospital")
    query["department"] = mention.department or chosen.get("department")
    turn.vars["others"] = [o for o in others if o is not chosen] + (
        [was] if was.get("name") and not _same_family(was["name"], mention.name) else [])
    note = str(turn.vars.get("note") or "")
    known_hospitals, known_names = _known(turn.store.account_entries())
    theirs = read_note_about(turn.library.lexicon, note, turn.local_now.date(),
                             str(chosen.get("name")), known_hospitals, known_names)
    turn.vars["note_own"] = theirs.own_text or None


def _note_customer(turn: Turn) -> Mapping[str, Any]:
    """Whom the note was read as being about, before the rep's correction."""
    return turn.vars.get("note_customer") or {}


def _amend_place(turn: Turn, hospital: str | None, department: str | None) -> None:
    """"不对，是复旦肿瘤医院乳腺外科": a new customer takes it as written; a customer already
    in the list is not edited by guess: the rep picks (or adds) the one at that place."""
    query = dict(turn.vars.get("customer_query") or {})
    account = turn.account()
    if account is not None:
        query = {"name": account.name, "title": account.title, "role": None}
    query["hospital"] = hospital or query.get("hospital")
    query["department"] = department or query.get("department")
    turn.vars["customer_query"] = query
    if account is not None:
        turn.vars["account"] = None
        turn.vars["customer"] = AMBIGUOUS
        turn.vars["amended"] = "customer"
    else:
        turn.vars["amended"] = "date"


def _where_before(turn: Turn) -> tuple[str | None, str | None]:
    """The hospital and department the note named (not those of the customer it was filed
    under: "不是李主任，是王主任" says nothing of where 王主任 works)."""
    query = turn.vars.get("customer_query") or {}
    return query.get("hospital"), query.get("department")


@action("propose_visit", provides=("proposal",), shapes={"proposal": ProposalView})
def propose_visit(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Lay out again what will be saved, after the rep changed the customer or the date."""
    if turn.account() is not None:
        turn.vars["customer"] = KNOWN
    turn.vars["proposal"] = _proposal(turn)


def _proposal(turn: Turn, *, replaces: bool = True) -> dict[str, Any]:
    """What the rep is asked to confirm: the customer, the follow-up, the updates and
    concerns the note hints at, and (unless `replaces` is False: saving uses the ones the
    rep was shown) the open follow-ups the new one replaces."""
    account = turn.account()
    query = turn.vars.get("customer_query") or {}
    note = str(turn.vars.get("note_own") or turn.vars.get("note") or "")
    amends = _amending(turn, account)
    if turn.vars.get("amends") and not amends:  # filed under another customer after all
        note = str(turn.vars["amends"].get("typed") or "")
    signals = one_of_each(stage_readings(
        find_signals(note, turn.playbook.content.get("signals", [])),
        account.stage if account is not None else None))
    role = query.get("role")
    if role and (account is None or account.role is None) and not any(
            s["kind"] == "role" for s in signals):
        signals.append({"kind": "role", "value": role, "phrase": _role_word(turn, query)})
    # a decline phrase ("用得少了") is evidence of moving back, not an update to confirm
    taken_back_roles = set(turn.vars.get("denied_roles") or [])  # "她不是采购者"
    updates = [{**s, "name": signal_name(turn, s["kind"], s["value"])}
               for s in signals if s["kind"] not in ("objection", "decline")
               and differs(account, s)
               and not (s["kind"] == "role" and s["value"] in taken_back_roles)]
    # amending a saved note: its concerns are recorded already, only the new ones are added
    concerns = signals if not amends else find_signals(
        str(amends.get("typed") or ""), turn.playbook.content.get("signals", []))
    denied = set(turn.vars.get("denied") or [])  # "不对 他没嫌贵": taken back
    objections = [{**s, "name": signal_name(turn, s["kind"], s["value"])}
                  for s in concerns if s["kind"] == "objection" and s["value"] not in denied]
    due_iso = turn.vars.get("due_date")
    due = date.fromisoformat(due_iso) if isinstance(due_iso, str) and due_iso else None
    read: list[list[dict[str, Any]]] = []

    def upcoming() -> list[dict[str, Any]]:
        """Read once, by the first of the uses below that needs it; none without a date
        (but for an addition to a saved visit, whose follow-up it shows kept)."""
        if not read:
            read.append(_upcoming(turn, account) if due is not None or amends else [])
        return read[0]

    replaced = _replaced(turn, upcoming(), due) if replaces else []
    customer: dict[str, Any] | None
    if account is not None:
        customer = {"name": account.name, "hospital": account.hospital,
                    "department": account.department, "new": False}
    elif query:
        customer = {"name": query.get("name"), "hospital": query.get("hospital"),
                    "department": query.get("department"), "new": True}
    else:
        customer = None
    return {
        "customer": customer,
        "due": date_view(due, turn.local_now.date()),
        # the step as read, or the open one it moves ("改到周四再去"): only while it has a
        # date that replaces that one
        "action": _with_earlier_object(turn, turn.vars.get("next_action"), upcoming),
        "updates": updates,
        "objections": objections,
        "replaces": replaced,
        "kept": _kept(turn, upcoming(), replaced) if replaces else [],
        "others": [o for o in turn.vars.get("others") or []
                   if not customer or not _same_family(o.get("name"), customer.get("name"))],
        "amends": bool(amends),
        "off_day": _off_day(turn, due),
        "revision": amends.get("kind"),
        "dropped": [{"value": v, "name": signal_name(turn, "objection", v)}
                    for v in sorted(denied)],
    }


def _off_day(turn: Turn, due: date | None) -> DateView | None:
    """The day off a working deadline came to, while the follow-up is still the working
    day before it the note was read as (a date the rep changed is theirs)."""
    moved = turn.vars.get("due_off_day") or {}
    if due is None or moved.get("due") != due.isoformat():
        return None
    return date_view(date.fromisoformat(str(moved["off"])), turn.local_now.date())


def _amending(turn: Turn, account: Account | None) -> Mapping[str, Any]:
    """The saved note this text adds to ({note_id, account_id, typed}), while the visit is
    still that customer's; {} when the rep picked another customer for it."""
    amends = turn.vars.get("amends") or {}
    return amends if account is not None and amends.get("account_id") == account.id else {}


def _role_word(turn: Turn, query: Mapping[str, Any]) -> str:
    """The word a role hint was read from, as the rep wrote it: the title when it names
    the role (药师), else the department (药剂科 → 采购者), never a title that says
    nothing of it ("「主任」→ 角色：采购者")."""
    title, department = query.get("title"), query.get("department")
    if title and turn.library.lexicon.title_roles.get(str(title)) == query.get("role"):
        return str(title)
    return str(department or title or "")


def _same_family(one: Any, other: Any) -> bool:
    """林芳 and 林芳主任, 张建国主任 and 张主任: one person, once the customer is corrected."""
    return written_alike(str(one or ""), str(other or ""))


def _replaced(turn: Turn, upcoming: Sequence[Mapping[str, Any]], due: date | None
              ) -> list[Mapping[str, Any]]:
    """The customer's open follow-ups a new next step replaces: one with the same step
    ("送样品资料" again), or, when the note moves a date ("改到周四下午", "改下下周一吧"),
    the one on the old day it names (else the soonest). Not an unrelated one ("月底前要一份
    医保政策解读" leaves "送样品资料" be: `_kept`), the one this visit answers, nor those due
    by today (the visit closes them)."""
    if due is None:
        return []
    step = turn.vars.get("next_action")
    # "不对…下一步是约科会" added to the visit just saved: its step is corrected
    amending = _amending(turn, turn.account())
    amended = amending.get("note_id")
    if amended and (amending.get("kind") == "date" or amending.get("redated")):
        # "日期记错了": that visit's own follow-up moves, the customer's others stay
        return [f for f in upcoming if f["note_id"] == amended]
    lexicon = turn.library.lexicon
    # an open "再去" (or no step at all) is the next visit, whatever the new step is for
    same = [f for f in upcoming if (amended and f["note_id"] == amended)
            or not f["action"] or only_again(lexicon, str(f["action"])) or (
                isinstance(step, str) and step and same_step(str(f["action"]), step))]
    if same:
        return same
    old_days = moved_from(lexicon, _note_text(turn), turn.local_now.date())
    if old_days is None and (not step or only_again(lexicon, str(step))):
        old_days = []  # "下周三再去": the next visit, moved to that day
    if old_days is None or not upcoming:
        return []
    named = [f for f in upcoming if date.fromisoformat(f["day"]) in old_days]
    return (named or list(upcoming))[:1]


def _kept(turn: Turn, upcoming: Sequence[Mapping[str, Any]],
          replaced: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The open follow-ups the new one leaves as they are: shown, so the rep may still
    drop them with one tap ("保存，之前的跟进也不要了")."""
    if turn.vars.get("due_date") is None and not _amending(turn, turn.account()):
        return []  # (an addition with no step of its own leaves the saved one: shown)
    gone = {r["id"] for r in replaced}
    return [f for f in upcoming if f["id"] not in gone]


def _upcoming(turn: Turn, account: Account | None) -> list[dict[str, Any]]:
    """The customer's open follow-ups after today, but the one this visit answers."""
    if account is None:
        return []
    today = turn.local_now.date()
    answering = turn.vars.get("followup")
    return [{"id": f.id, "action": f.action, "day": f.due_date, "note_id": f.note_id,
             "due": date_view(date.fromisoformat(f.due_date), today)}
            for f in turn.store.open_followups(account)
            if f.id != answering and f.due_date > today.isoformat()]


def _note_text(turn: Turn) -> str:
    """The note as the rep typed it (with what they added under the proposal)."""
    return str(turn.vars.get("note_own") or turn.vars.get("note") or "")


def _customer(turn: Turn) -> tuple[Account, bool]:
    """The customer the visit is filed under; a new one is created now, with what the note
    said of them. An existing one gains the hospital, department or title it lacked."""
    account = turn.account()
    query = turn.vars.get("customer_query") or {}
    mention = _mention(query)
    if account is None:
        if mention is None:
            raise LookupError("log_visit needs a customer: pick one or name one in the note")
        created = turn.store.create_account(mention.name, mention.hospital, mention.department,
                                            turn.now, title=mention.title)
        turn.vars["account"] = created.id
        return created, True
    same = mention is not None and resolve(mention, [account], _fields,
                                           turn.library.lexicon).status == KNOWN
    if mention is not None and same:
        account.hospital = account.hospital or mention.hospital
        account.department = account.department or mention.department
        account.title = account.title or mention.title
    return account, False


@action("log_visit", provides=("visit", "coaching", "compliance"),
        args={"updates": ("all", "none"), "earlier": ("replace", "keep", "all")})
def log_visit(turn: Turn, args: Mapping[str, Any]) -> None:
    """Save the visit: the customer (a new one with hospital, department, title), the note,
    its objections, the follow-up (replacing the open ones the proposal showed it replaces,
    `proposal.replaces`: the same step, a bare "再去", the one a date move names; none with
    `earlier: keep`; `all` drops the unrelated ones shown in `proposal.kept` too),
    the `updates` when `all`, and the safety reports the door took from this flow's texts.
    Provides `visit` (note_id, due, action, created, objections, updates, risk, crisis,
    successor),
    `coaching` and `compliance` (redacted, flags, reports, issues)."""
    shown = turn.vars.get("proposal") or {}
    account, created = _customer(turn)
    proposal = _proposal(turn, replaces=False)  # the replaced ones: those in `shown`
    # a long note is read for its first part and stored whole (actions/kept.py)
    note_text = (str(turn.vars.get("note") or "") + str(turn.vars.get("note_rest") or "")
                 ).strip()
    amends = turn.vars.get("amends") or {}
    amending_id = _amending(turn, account).get("note_id")
    amended = turn.store.note(int(amending_id)) if amending_id else None
    if args.get("updates") == "all":
        # before the note is stored: the customer's row is then written once, with
        # the note's time and these changes together
        for update in proposal["updates"]:
            apply_update(turn, account, update)
    if amended is not None and amended.account_id == account.id and note_text:
        review = rewrite_note(turn, amended, note_text, carried=True)
        note: Note | None = amended
    else:
        amended = None
        # the rep filed the addition under another customer: only what was typed now
        note_text = str(amends.get("typed") or note_text).strip()
        review = review_note(turn, note_text)
        note = turn.store.add_note(account, review.text, turn.now, flags=review.flags,
                                   redactions=review.redacted) if note_text else None
    if amended is not None and proposal["dropped"]:  # "他没嫌贵": the saved concern goes
        turn.store.drop_objections(amended, [d["value"] for d in proposal["dropped"]])
    for objection in proposal["objections"]:
        turn.store.add_objection(account, note, objection["value"], objection["phrase"],
                                 turn.now)
    due_iso = turn.vars.get("due_date")
    due: date | None = date.fromisoformat(due_iso) if isinstance(due_iso, str) and due_iso \
        else None
    action_text = proposal["action"] or None  # the step as shown, the open one it moves
    made: list[int] = []
    replaced: list[int] = []
    note_id = note.id if note is not None else None
    if due is not None:
        newest = turn.store.add_followup(account, note, str(action_text) if action_text
                                         else None, due.isoformat(),
                                         remind_at(due, turn.settings), turn.now)
        made.append(newest.id)
        # only those the rep saw it would replace; "all": the ones shown as kept too
        gone = [] if args.get("earlier") == "keep" else list(shown.get("replaces") or [])
        if args.get("earlier") == "all":
            gone += list(shown.get("kept") or [])
        gone = [r for r in gone if r.get("id") != newest.id]
        turn.store.replace_followups(account, [r["id"] for r in gone])
        replaced = [int(r["id"]) for r in gone if r.get("note_id") != note_id]
    if note is not None:  # what a person correction right after would move or give back
        turn.state.last_visit = _last_visit(turn, note, account, replaced)
    done = turn.store.followup(turn.vars.get("followup"))
    if done is not None:
        done.status = "done"
    # this visit is the follow-up of any that was due for this customer by today
    turn.store.close_due_followups(account, turn.local_now.date().isoformat(), keep=made)
    if note is not None and review.flags:
        turn.store.file_compliance_records(note.text, account, note)
    others = [dict(o) for o in proposal["others"]]
    whose = _whose_reports(turn, others, account)
    reports = turn.store.attribute_reports(list(turn.state.reports), account, note,
                                           about_others=lambda e: whose(e) is not None)
    turn.state.reports = []
    tellers: dict[int, str] = {}  # reports told by someone with no name: kept unfiled
    for event in reports:  # "另外吴医生也在，她刚开始用就肌酶升高": hers, kept for her visit
        other = whose(event) if event.account_id is None else None
        if other is not None and "told" in other:
            tellers[event.id] = str(other["told"])
        elif other is not None:
            other["reports"] = [*other.get("reports", []), event.id]
    proposal["others"] = others
    compliance = review.view(turn)
    compliance["reports"] = [{"phrase": e.phrase, "deadline": turn.local_time(e.deadline),
                              "about": next((o["name"] for o in others
                                             if e.id in o.get("reports", [])), None),
                              "told": tellers.get(e.id)}
                             for e in reports if e.status == "open"]
    compliance["issues"] = compliance["issues"] or bool(compliance["reports"])
    turn.vars["compliance"] = compliance
    turn.vars["visit"] = {"note_id": note.id if note else None,
                          "others": proposal["others"],
                          "contact": turn.vars.get("contact"),
                          "amended": amended is not None,
                          # "日期记错了": the saved visit's day corrected, nothing added
                          "revision": amends.get("kind") if amended is not None else None,
                          "due": date_view(due, turn.local_now.date()),
                          "action": action_text, "created": created,
                          "objections": [o["name"] for o in proposal["objections"]],
                          "updates": [u["name"] for u in proposal["updates"]]
                          if args.get("updates") == "all" else []}
    # moving back (seed 002): said once per piece of evidence, right after the visit
    read_hospital_notes(turn, account)  # for the readers below: one round trip
    evidence = at_risk(turn, account)
    fresh = not_yet_alerted(turn, account, evidence)
    turn.vars["visit"]["risk"] = risk_words(turn, fresh) if fresh else ""
    turn.vars["visit"]["reason"] = known_reason(turn, account) if fresh else None
    # a crisis (seed 004: a key person leaving, visits stopped, a key account moving back)
    turn.vars["visit"]["crisis"] = crisis_alert(turn, account, evidence)
    # who takes over from one leaving ("科里以后张副主任管事"): offered as a customer to add
    turn.vars["visit"]["successor"] = successor_named(turn, account, note_text)
    # an addition to the visit just saved is no new visit: its tip was just shown, and
    # showing it again reads as the bot not listening (trial E); a tip only when the
    # addition told something new (a stage sign, a concern)
    news = bool(turn.vars["visit"]["updates"] or turn.vars["visit"]["objections"])
    turn.vars["coaching"] = coaching_prompt(turn, evidence) if amended is None or news else ""
    turn.vars["others"] = proposal["others"]  # not the customer it was filed under
    turn.vars.pop("about", None)  # this note's other people are in visit.others now


def _whose_reports(turn: Turn, others: Sequence[dict[str, Any]], account: Account
                   ) -> Callable[[AdverseEvent], dict[str, Any] | None]:
    """Which of the other people a note names a safety report taken from it is about:
    the one whose part of the note holds the report's words while the customer's own part
    does not; or, for a person with no name ("旁边护士长林姐说…", "their pharmacist
    mentioned…"), {"told": who} when the report's event words all lie in what that person
    told (coach/capture/tellers.py). None for a report about the customer."""
    own, note = turn.vars.get("note_own"), str(turn.vars.get("note") or "")
    has_others = bool(others) and isinstance(own, str)
    parts: list[tuple[dict[str, Any], str]] = []
    told: list[Sequence[Told]] = []

    def others_parts() -> list[tuple[dict[str, Any], str]]:
        """Each other person's part of the note, read once, and only for a report that is
        not in the customer's own part (most saved visits hold no report at all)."""
        if has_others and not parts:
            known_hospitals, known_names = _known(turn.store.account_entries())
            parts.extend((other, read_note_about(
                turn.library.lexicon, note, turn.local_now.date(), str(other.get("name") or ""),
                known_hospitals, known_names).own_text or "") for other in others)
        return parts

    def tellers() -> Sequence[Told]:
        """What people with no name told, read once, and only for a report."""
        if not told:
            told.append(told_parts(turn.library.lexicon, note, [account.name]))
        return told[0]

    def whose(event: AdverseEvent) -> dict[str, Any] | None:
        words = event.phrase.strip("…. ")
        if not words:
            return None
        if has_others and isinstance(own, str) and words not in own:
            named = next((other for other, part in others_parts() if words in part), None)
            if named is not None:
                return named
        teller = _teller_of(turn, note, words, tellers())
        return None if teller is None else {"told": teller}

    return whose


def _teller_of(turn: Turn, note: str, words: str, told: Sequence[Told]) -> str | None:
    """Who of `told` passed on the report named `words`: the one whose part holds every
    event word of it the guard finds (the customer said none of it)."""
    guard = turn.library.guard
    at = note.find(words)
    if not told or guard is None or at < 0:
        return None
    found = guard.check(note)
    found_event = found.adverse_event or found.possible_event
    terms = found_event.terms if found_event is not None else ()
    places = [at + i.start() for term in terms
              for i in re.finditer(re.escape(term), words)]
    if not places:  # no event word to place: the report's words must start in the part
        places = [at]
    tellers = {next((t.who for t in told if t.start <= place < t.end), None)
               for place in places}
    return tellers.pop() if len(tellers) == 1 else None


def _last_visit(turn: Turn, note: Note, account: Account, replaced: list[int]) -> LastVisit:
    """The visit saved now, for a text right after it; an addition to the same visit keeps
    what its first save replaced and when that was."""
    last = turn.state.last_visit
    same = last is not None and last.note_id == note.id and last.account_id == account.id
    return LastVisit(note_id=note.id, account_id=account.id, at=turn.now,
                     replaced=[*(last.replaced if last and same else []), *replaced],
                     first=(last.first or last.at) if last and same else turn.now,
                     name=account.name, hospital=account.hospital)


def coaching_prompt(turn: Turn, evidence: list[Evidence]) -> str:
    """One tactic back for every visit: the best fit not accepted, dismissed or already
    offered lately (the same rest as /next gives), and not one shown after an earlier visit
    while another fits (the tips are remembered), so it is not the same tip every time.
    `evidence`: the customer's regression evidence, as read after this visit was saved."""
    account = turn.require_account()
    playbook = tactic_playbook(turn.library)
    if playbook is None:
        return turn.message("coaching_no_stage", account=turn.account_view(account))
    blocked, penalised, _ = blocked_tactics(turn, playbook, account)
    ranked = rank_tactics(turn, playbook, account, blocked, penalised, evidence)
    if account.stage is None:
        ranked = [t for t in ranked if undiagnosed_fit(t)]
    described = describe_first(turn, playbook, account,
                               fresh_first(ranked, turn.store.recent_tips(account)))
    if not described:
        return turn.message("coaching_no_stage", account=turn.account_view(account))
    turn.store.add_suggestion(account, described[0]["id"], turn.now, status=TIP)
    return f"{described[0]['text']}\n{described[0]['why']}"


@action("reschedule_followup", provides=("followup_due",))
def reschedule_followup(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Move the reminded follow-up to the date the rep gave; it will remind again then."""
    followup = turn.store.followup(turn.vars.get("followup") or 0)
    due_iso = turn.vars.get("due_date")
    turn.vars["followup_due"] = None
    if followup is None or not isinstance(due_iso, str):
        return
    due = date.fromisoformat(due_iso)
    followup.due_date = due.isoformat()
    followup.remind_at = remind_at(due, turn.settings)
    followup.status = "open"
    followup.sent_at = None
    turn.vars["followup_due"] = due.isoformat()


@action("edit_note", provides=("compliance",))
def edit_note(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Replace the note just logged with the rep's edited text, checked again."""
    visit = turn.vars.get("visit") or {}
    note = turn.store.note(visit.get("note_id") or 0)
    text = str(turn.vars.get("note_edit") or "").strip()
    if note is None or not text:
        return
    turn.vars["compliance"] = rewrite_note(turn, note, text, carried=False).view(turn)


def rewrite_note(turn: Turn, note: Note, text: str, *, carried: bool) -> NoteReview:
    """Give a saved note a new text, checked again: what a flagged note said before stays
    in the audit trail, once, and an edit clears no flag."""
    review = review_note(turn, text, carried=carried)
    if note.flags:
        kept = turn.store.file_compliance_records(note.text, turn.require_account(), note)
        kept += [r for r in turn.store.compliance_records_of(note) if r.text == note.text]
        for record in kept:
            record.kind = "edited"
        if not kept:
            turn.store.add_compliance_record("edited", note.flags, note.text, turn.now,
                                             source="edit_note", account=turn.account(),
                                             note=note)
    note.text = review.text
    note.flags = sorted(set(note.flags or []) | set(review.flags))
    note.redactions = sorted(set(note.redactions or []) | set(review.redacted))
    return review
