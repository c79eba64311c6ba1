"""`/today`: what needs the rep today: follow-ups due today or overdue, customers in crisis
(coach/actions/crisis.py) or showing signs of moving back (regression), safety reports not
yet forwarded, and the ones the rep marked forwarded lately (to undo a slip). Each
follow-up and customer is one tap away from logging the visit; a report is one tap away
from the question "forwarded?", never closed by the tap itself (coach/forwarding.py).
Under them, the open follow-ups still ahead (接下来), soonest first, so the rep sees the
coming days too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from coach import forwarding
from coach.actions.crisis import crises, describe_crisis
from coach.actions.dates import date_view
from coach.actions.reasons import known_reason
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.regression import regressions as regressions_of
from coach.dismissal import ask_why
from coach.playbook import Playbook
from coach.store.models import (
    CLOSED_REPORTS,
    OPEN_FOLLOWUPS,
    Account,
    AdverseEvent,
    FollowUp,
)

if TYPE_CHECKING:
    from coach.context import Turn

RECENT_DAYS = 30
MAX_ITEMS = 10
MAX_UPCOMING = 8  # follow-ups after today listed under 接下来; the card lists each customer's
MORE = "more"  # the item that turns the page
REDRAW = "redraw"  # an item that no longer fits: the list is shown as it is now
DISMISS = "x"  # a report the rep says is not an adverse event: why is asked next
SAID = "said"  # the item answered for itself (a report reopened)
REPORT = "report"  # a report picked: what to do with it is asked (`report_ask`)
REPORTS = "reports"  # the item standing for many reports: their own list (`agenda_reports`)
BACK = "back"  # from the reports' list or a report's question back to the day's list
#: Up to this many report items stand in the day's list one by one; more are one item that
#: opens their list, so overdue follow-ups stay on the first page too (trial D 12).
MAX_REPORT_ITEMS = 3


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("upcoming",), ("weekdays",), ("months_en",))(playbook)


@action("today_list", provides=("agenda", "agenda_items", "agenda_page", "agenda_reports"),
        content_check=_check)
def today_list(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep's day: `agenda` (followups, crises, regressions, reports) and `agenda_items`
    ({id, label}) to pick one: one item per report (what to do with it is asked next), or
    one for all of them when they are many (`agenda_reports`, their own list)."""
    store, session = turn.store, turn.store.session
    today = turn.local_now.date()
    accounts = {a.id: a for a in store.active_accounts()}
    due = session.execute(
        select(FollowUp).where(FollowUp.rep_id == turn.rep.id,
                               FollowUp.status.in_(OPEN_FOLLOWUPS),
                               FollowUp.due_date <= today.isoformat())
        .order_by(FollowUp.due_date, FollowUp.id)).scalars().all()
    items: list[dict[str, Any]] = []
    followups: list[dict[str, Any]] = []
    names = Counter(a.name for a in accounts.values())

    def shown(account: Account) -> str:
        """Two 赵主任 are told apart by their hospitals."""
        if names[account.name] > 1 and account.hospital:
            return f"{account.name}（{account.hospital}）" if turn.locale == "zh" \
                else f"{account.name} ({account.hospital})"
        return account.name

    for followup in due:
        account = accounts.get(followup.account_id)
        if account is None:
            continue
        late = (today - date.fromisoformat(followup.due_date)).days
        entry = {"name": shown(account), "action": followup.action, "late": late}
        followups.append(entry)
        items.append({"id": f"f{followup.id}", "label": turn.message(
            "today_followup_label", name=shown(account), action=followup.action, count=late)})
    moving_back = regressions_of(turn, accounts)
    # a crisis (seed 004) says all a customer's evidence, moving back included, once
    in_crisis = crises(turn, accounts, moving_back)
    crisis_list = []
    for account_id, evidence in in_crisis.items():
        account = accounts[account_id]
        crisis_list.append({"name": shown(account), **describe_crisis(turn, account, evidence)})
        items.append({"id": f"a{account_id}", "label": turn.message(
            "today_crisis_label", name=shown(account))})
    regressions = []
    for account_id, evidence in moving_back.items():
        if account_id in in_crisis:
            continue
        account = accounts[account_id]
        regressions.append({"name": shown(account), **evidence[0],
                            "stage_name": turn.library.stage_name(account.stage, turn.locale),
                            "reason": known_reason(turn, account)})
        items.append({"id": f"a{account_id}", "label": turn.message(
            "today_regression_label", name=shown(account))})
    reports = session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id == turn.rep.id,
                                   AdverseEvent.status.not_in(CLOSED_REPORTS))
        .order_by(AdverseEvent.deadline)).scalars().all()
    report_items = []
    # a report stays linked to its customer when the customer is archived: it is filed
    filed = {e.account_id: store.account(e.account_id) for e in reports if e.account_id}
    filed_names = {i: (shown(a) if i in accounts else a.name) for i, a in filed.items() if a}
    for event in reports:
        # one item: forwarded, logged under a customer, or not an adverse event is asked next
        report_items.append({"id": f"r{event.id}", "label": turn.message(
            "today_report_item_label", phrase=event.phrase,
            name=filed_names.get(event.account_id or 0))})
    recent = [e for e in session.execute(
        select(AdverseEvent).where(AdverseEvent.rep_id == turn.rep.id,
                                   AdverseEvent.status == "forwarded",
                                   AdverseEvent.forwarded_at >= turn.now - forwarding.UNDO_WINDOW)
        .order_by(AdverseEvent.forwarded_at.desc())).scalars().all()
        if forwarding.undoable(e, turn.now)]
    report_items += [{"id": f"u{e.id}", "label": turn.message(
        "today_undo_label", phrase=e.phrase)} for e in recent]
    # what comes after today, so a quiet day still shows the week ahead (the third new-rep
    # trial, finding 7: "今天没有到期的跟进" while five were open)
    ahead = session.execute(
        select(FollowUp).where(FollowUp.rep_id == turn.rep.id,
                               FollowUp.status.in_(OPEN_FOLLOWUPS),
                               FollowUp.due_date > today.isoformat())
        .order_by(FollowUp.due_date, FollowUp.id)).scalars().all()
    ahead = [f for f in ahead if f.account_id in accounts]
    upcoming = [{"name": shown(accounts[f.account_id]), "action": f.action,
                 "due": date_view(date.fromisoformat(f.due_date), today)}
                for f in ahead[:MAX_UPCOMING]]
    content = turn.library.content(turn.playbook, turn.locale)
    turn.vars["agenda"] = {
        "upcoming": upcoming, "upcoming_text": turn.render(
            content["upcoming"], upcoming=upcoming, more=max(0, len(ahead) - MAX_UPCOMING),
            weekdays=content["weekdays"], months=content["months_en"]).strip(),
        "followups": followups, "regressions": regressions, "crises": crisis_list,
        # each by its kind, as /team and the digest name it (a quality complaint is none
        # of an adverse event)
        "reports": [{"phrase": e.phrase, "deadline": turn.local_time(e.deadline),
                     "kind": turn.message(f"report_kind_{e.kind}"),
                     "late": e.deadline < turn.now,
                     "customer": filed_names.get(e.account_id or 0)} for e in reports],
        "forwarded": [{"phrase": e.phrase, "customer": e.customer,
                       "at": turn.local_time(e.forwarded_at or turn.now)} for e in recent],
    }
    turn.vars["agenda_reports"] = [*report_items, {
        "id": BACK, "label": turn.message("today_back_label")}]
    if len(report_items) > MAX_REPORT_ITEMS:
        report_items = [{"id": REPORTS, "label": turn.message(
            "today_reports_label", count=len(reports), late=sum(
                1 for e in reports if e.deadline < turn.now), forwarded=len(recent))}]
    # safety reports first: their clock runs in hours; then the follow-ups, overdue first;
    # a long day comes a page at a time
    turn.vars["agenda_items"] = _page(turn, report_items + items)


def _page(turn: Turn, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of the page the rep is on, and "more" when others follow."""
    if len(items) <= MAX_ITEMS:
        return items
    size = MAX_ITEMS - 1
    pages = (len(items) + size - 1) // size
    page = int(turn.vars.get("agenda_page") or 0) % pages
    shown = items[page * size:(page + 1) * size]
    left = len(items) - (page + 1) * size
    more = turn.message("today_more_label", count=left) if left > 0 else \
        turn.message("today_first_page_label")
    turn.vars["agenda_page"] = page
    return [*shown, {"id": MORE, "label": more}]


@action("open_today_item", provides=("agenda_done", "forward_event", "report_ask",
                                     "report_filed"))
def open_today_item(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The picked follow-up or customer becomes the visit to log. A safety report picked
    asks what to do with it (`report_ask`: forwarded, logged under a customer while it has
    none, not an adverse event, back); many reports open their own list first; one marked
    forwarded lately is reopened. An item that no longer fits what happened since the list
    was shown (an old screen shown again) changes nothing: the list is drawn afresh."""
    picked = str(turn.vars.get("agenda_pick") or "")
    number = picked[1:]
    turn.vars["agenda_done"] = None
    if picked == MORE:
        turn.vars["agenda_page"] = int(turn.vars.get("agenda_page") or 0) + 1
        turn.vars["agenda_done"] = MORE
        return
    if picked in (REPORTS, BACK):
        turn.vars["agenda_done"] = picked
        return
    # "e" and "v": a report's items in a list shown before each report became one item
    if picked[:1] in ("r", "e", "v") and number.isdigit():
        _ask_about_report(turn, int(number))
        return
    if picked[:1] == DISMISS and number.isdigit():
        event = turn.store.adverse_event(int(number))
        if event is None or event.status in CLOSED_REPORTS:
            turn.vars["agenda_done"] = REDRAW
        else:  # the reasons are buttons of their own, answered wherever the rep is next
            ask_why(turn, event)
            turn.vars["agenda_done"] = DISMISS
        return
    if picked[:1] == "u" and number.isdigit():
        event = turn.store.adverse_event(int(number))
        turn.vars["agenda_done"] = SAID if event is not None and forwarding.undo(
            turn, event) else REDRAW
        return
    if picked.startswith("f") and number.isdigit():
        followup = turn.store.followup(int(number))
        if followup is not None:
            turn.vars["account"], turn.vars["followup"] = followup.account_id, followup.id
    elif picked.startswith("a") and number.isdigit():
        account = turn.store.account(int(number))
        if account is not None:
            turn.vars["account"] = account.id


def _ask_about_report(turn: Turn, event_id: int) -> None:
    """A report picked in /today: the question names it (day 0, deadline) and offers
    forwarded (the rep asked, the report named: never closed by the list's tap alone),
    logging it under a customer while it has none, not an adverse event (why is asked), or
    back to the list. The items of lists shown before ("e", "v") open it too."""
    event = turn.store.adverse_event(event_id)
    if event is None or event.status in CLOSED_REPORTS:
        turn.vars["agenda_done"] = REDRAW
        return
    turn.vars["agenda_done"] = REPORT
    turn.vars["report_filed"] = event.account_id is not None
    turn.vars["report_ask"] = turn.message("today_report_ask",
                                           **forwarding.described(turn, event))
    turn.vars["forward_event"] = event.id


@action("forward_today_report")
def forward_today_report(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep confirmed the report asked about (`forward_event`) was forwarded."""
    _answer(turn, forwarding.confirm)


@action("log_today_report")
def log_today_report(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep chose to log the report asked about (one without a customer) as a visit:
    saving it files the report under that customer. One filed or closed since: the list
    is drawn afresh (`agenda_done` REDRAW)."""
    asked = turn.vars.get("forward_event")
    event = turn.store.adverse_event(asked) if isinstance(asked, int) else None
    if event is None or event.status in CLOSED_REPORTS or event.account_id is not None:
        turn.vars["agenda_done"] = REDRAW
        return
    turn.vars["agenda_done"] = None
    turn.vars["note"] = event.report
    turn.state.reports = [event.id]


@action("dismiss_today_report")
def dismiss_today_report(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep said the report asked about is not an adverse event: why is asked, one
    button per reason (coach/dismissal.py); the report stays open until one is chosen."""
    _answer(turn, _ask_why)


def _ask_why(turn: Turn, event: AdverseEvent) -> bool:
    if event.status in CLOSED_REPORTS:
        return False
    ask_why(turn, event)
    return True


def _answer(turn: Turn, answer: Callable[[Turn, AdverseEvent], bool]) -> None:
    """Apply the rep's answer to the report asked about; one closed since (by the safety
    team, or from a reminder's button) is said to have changed, nothing else happens."""
    asked = turn.vars.get("forward_event")
    event = turn.store.adverse_event(asked) if isinstance(asked, int) else None
    if event is None or not answer(turn, event):
        turn.say(turn.message("today_item_changed"))
