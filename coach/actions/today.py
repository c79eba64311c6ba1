"""`/today`: what needs the rep today: follow-ups due today or overdue, customers in crisis
(coach/actions/crisis.py) or showing signs of moving back (regression), and safety reports
still waiting for a customer. Each follow-up and customer is one tap away from logging the
visit. Under them, the open follow-ups still ahead (接下来), soonest first, so the rep sees
the coming days too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from coach.actions.crisis import crises, describe_crisis
from coach.actions.dates import date_view
from coach.actions.reasons import known_reason
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.regression import regressions as regressions_of
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


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("upcoming",), ("weekdays",), ("months_en",))(playbook)


@action("today_list", provides=("agenda", "agenda_items", "agenda_page"), content_check=_check)
def today_list(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The rep's day: `agenda` (followups, crises, regressions, reports) and `agenda_items`
    ({id, label}) to pick one."""
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
    for event in reports:
        account = accounts.get(event.account_id or 0)
        # the id says what the label offers: "e" logs a report still without a customer,
        # "v" confirms one already filed was forwarded; a press acts only on what it said
        report_items.append({"id": f"{'v' if account else 'e'}{event.id}", "label": turn.message(
            "today_report_label", phrase=event.phrase,
            name=shown(account) if account else None)})
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
        "reports": [{"phrase": e.phrase, "deadline": turn.local_time(e.deadline),
                     "late": e.deadline < turn.now,
                     "customer": shown(accounts[e.account_id])
                     if e.account_id in accounts else None} for e in reports],
    }
    # safety reports first: their clock runs in hours; a long day comes a page at a time
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


@action("open_today_item", provides=("agenda_done",))
def open_today_item(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The picked follow-up or customer becomes the visit to log. A safety report waiting
    for a customer is logged as a note (and filed with it); one already filed is marked
    forwarded to pharmacovigilance, when that is what the pressed item offered. An item
    that no longer fits what happened since the list was shown (an old screen shown again)
    changes nothing: the list is drawn afresh."""
    picked = str(turn.vars.get("agenda_pick") or "")
    number = picked[1:]
    turn.vars["agenda_done"] = None
    if picked == MORE:
        turn.vars["agenda_page"] = int(turn.vars.get("agenda_page") or 0) + 1
        turn.vars["agenda_done"] = MORE
        return
    if picked[:1] in ("e", "v") and number.isdigit():
        event = turn.store.adverse_event(int(number))
        filed = event is not None and event.account_id is not None
        if event is None or event.status in CLOSED_REPORTS or filed != (picked[0] == "v"):
            turn.vars["agenda_done"] = REDRAW
        elif not filed:
            turn.vars["note"] = event.report
            turn.state.reports = [event.id]
        else:
            event.status, event.forwarded_at = "forwarded", turn.now
            event.forwarded_by = f"rep: {turn.rep.name}"[:100]
            turn.vars["agenda_done"] = event.phrase
        return
    if picked.startswith("f") and number.isdigit():
        followup = turn.store.followup(int(number))
        if followup is not None:
            turn.vars["account"], turn.vars["followup"] = followup.account_id, followup.id
    elif picked.startswith("a") and number.isdigit():
        account = turn.store.account(int(number))
        if account is not None:
            turn.vars["account"] = account.id
