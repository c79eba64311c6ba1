"""The hospital as the customer (seed 002: "在医院销售领域则特指医院"): one plan for a
hospital, in seed 001's development-plan sections.

Everything comes from the rep's own records of the people there: the decision chain with
each person's role, their attitude (read from their stage and any sign of moving back, and
said to be read so) and what that role cares about (seed 003); the adopter share by
department against the critical mass (seed 002); supporters and how to develop them; the
three-party win (the hospital's goals, the doctors' needs, the company's); the resources to
use; and dated actions with owners. The plan is kept under a hospital account of the rep
(created on first use), so the next plan says what changed, in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from coach.actions.crisis import leaving, successor_words
from coach.actions.events import MONTH, WEEK, hospital_events
from coach.actions.keyaccounts import holds
from coach.actions.reasons import known_reason
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.signals import find_signals
from coach.actions.supporters import attitude_of
from coach.actions.usage import usage
from coach.capture import mention_in
from coach.capture.matching import Mention
from coach.names import hospitals_match, name_key
from coach.playbook import Playbook
from coach.shown_notes import shown_note
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.context import Turn

ROLE_ORDER = ("decision_maker", "influencer", "user", "purchaser", "recommender")
ADOPTERS = ("adoption",)  # 采纳, as /adopter counts them
NEUTRAL_STAGES = ("awareness", "interest", "evaluation")
TRACKED = ("people", "leaving", "supporters", "opposed", "gaps", "shares", "goals")


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("role_cares",), ("document",), ("filename",),
                               ("company_goals",), ("resources",), ("actions",),
                               ("actions", "event"), ("actions", "answer_why"),
                               ("actions", "find_successor"), ("actions", "successor_known"),
                               ("actions", "event_month"), ("actions", "event_week"),
                               ("actions", "booked"), ("actions", "followup"),
                               ("crisis",), ("leaving",), ("events",),
                               ("critical_mass",), ("change_names",), ("hospital_goals",),
                               ("goal_named",), ("safety",))(playbook)


def hospital_people(turn: Turn, hospital: str) -> list[Account]:
    """The rep's live customers at `hospital` (a department or doctor account; 湘雅二院 is
    not 湘雅医院)."""
    return [a for a in turn.store.active_accounts() if a.kind != "hospital"
            and a.hospital and hospitals_match(a.hospital, hospital)]


def _hospital_account(turn: Turn, hospital: str) -> Account:
    """Where the hospital's plans are kept: an account of kind "hospital", archived from
    the start so it never shows among the rep's customers, pickers or matches."""
    session = turn.store.session
    found = session.execute(
        select(Account).where(Account.rep_id == turn.rep.id, Account.kind == "hospital",
                              Account.name == hospital[:100])).scalars().first()
    if found is not None:
        return found
    return turn.store.create_account(hospital, hospital, None, turn.now, kind="hospital",
                                     archived=True)


def _facts(turn: Turn, hospital: str, people: list[Account], gone: Mapping[int, Any],
           said: list[dict[str, str]]) -> dict[str, Any]:
    """What the plan is built from and compares with the last one; `gone`: the people a
    recent note says are leaving (coach/actions/crisis.py); `said`: the hospital's goals
    the notes speak of (`_goals`)."""
    content = turn.library.content(turn.playbook, turn.locale)
    attitudes = {a.id: attitude_of(turn, a) for a in people}
    departments: dict[str, list[Account]] = {}
    for person in people:  # adoption is counted among the prescribers (使用者)
        if holds(person, "user"):
            departments.setdefault(person.department or "", []).append(person)
    shares = {dept or "—": round(100 * sum(a.stage in ADOPTERS for a in doctors) / len(doctors))
              for dept, doctors in sorted(departments.items())}
    goals = [g["name"] for g in said] or sorted(
        {n for a in people for n in (a.needs or []) if n == "interest"})
    return {
        "people": sorted(a.name for a in people),
        "leaving": sorted(a.name for a in people if a.id in gone),
        "supporters": sorted(a.name for a in people if attitudes[a.id] == "support"),
        "opposed": sorted(a.name for a in people if attitudes[a.id] == "opposed"),
        "gaps": [r for r in ROLE_ORDER if not any(holds(a, r) for a in people)],
        "shares": shares,
        "goals": goals,
        "critical_low": int(content["critical_mass"].get("low", 10)),
    }


def _goals(turn: Turn, people: list[Account]) -> list[dict[str, str]]:
    """The hospital's goals and pressures the notes of `people` speak of (控费, DRG/DIP,
    药占比, 考核, 学科建设, 签约率 …; the playbook's `hospital_goals`), each once, with who
    said it and the words, newest note first."""
    content = turn.library.content(turn.playbook, turn.locale)
    spec = turn.playbook.content.get("hospital_goals") or {}
    if not spec or not people:
        return []
    names = {a.id: a.name for a in people}
    days = int(turn.playbook.content.get("goal_days", 180))
    signals = [{"kind": key, "phrases": goal["phrases"]} for key, goal in spec.items()]
    found: dict[str, dict[str, str]] = {}
    for note in turn.recent_notes(names, days):
        for hit in find_signals(note.text, signals):
            goal = content["hospital_goals"][hit["kind"]]
            found.setdefault(hit["kind"], {"name": goal["name"], "who": names[note.account_id],
                                           "phrase": hit["phrase"]})
    return [found[key] for key in spec if key in found]


def _actions(turn: Turn, facts: Mapping[str, Any],
             people: list[Account]) -> tuple[list[str], list[str]]:
    """Dated actions with owners, from the playbook's `content.actions` templates, in the
    order a key-account manager would take them; the dated events from the notes (药事会,
    评优 …, coach/actions/events.py) come in by the day to act on them, each saying what to
    do before it; the joint visits booked for the people here come in on their day. All in
    date order. Returns every action, and the events' own."""
    content = turn.library.content(turn.playbook, turn.locale)
    templates = content["actions"]
    today = turn.local_now.date()
    planned: list[tuple[date, str]] = []

    def add(days: int, key: str, **words: Any) -> None:
        day = today + timedelta(days=days)
        planned.append((day, turn.render(templates[key], due=day.isoformat(), **words)))

    going = set(facts["leaving"])
    deciders = [a.name for a in people if holds(a, "decision_maker") and a.name not in going]
    named = {a.name: a for a in people}
    successor = successor_words(turn, people) if going else None
    for name in facts["leaving"]:  # the first thing to do: whoever takes over decides next
        add(7, "successor_known" if successor else "find_successor", name=name,
            successor=successor)
    # the cause once recorded, rather than asking again
    for name in [n for n in facts["opposed"] if n not in going]:
        reason = known_reason(turn, named[name]) if name in named else None
        if reason is not None:  # an objection's words, shown as documents show notes
            add(7, "answer_why", name=name,
                reason={**reason, "phrase": shown_note(turn, str(reason["phrase"]))})
        else:
            add(7, "ask_why", name=name)
    if deciders:
        add(30, "three_party", name="、".join(deciders) if turn.locale == "zh"
            else ", ".join(deciders))
    elif not going:  # a decider leaving: meeting the successor (above) comes first
        add(14, "find_decider")
    # sharing experience needs experience: only someone his stage or notes say used it
    for name in [n for n in facts["supporters"] if n not in going
                 and n in named and usage(turn, named[n]).used][:2]:
        add(21, "supporter_share", name=name)
    low = [d for d, share in facts["shares"].items() if share < facts["critical_low"]]
    if low:
        add(45, "kol_session", departments=low)
    add(90, "review")
    dated = []
    for event in hospital_events(turn, people, turn.playbook.content.get("events") or {}):
        spec = content["events"][event.kind]
        ready = ready_by(today, event.day, int(spec.get("lead_days", 7)))
        if event.span == MONTH:
            when = turn.render(templates["event_month"], year=event.day.year,
                               month=event.day.month)
        elif event.span == WEEK:
            when = turn.render(templates["event_week"], monday=event.day.isoformat())
        else:
            when = event.day.isoformat()
        dated.append((ready, turn.render(templates["event"], day=when,
                                         ready=ready.isoformat(), name=spec["name"],
                                         prepare=spec["prepare"], who=event.who,
                                         phrase=event.phrase)))
    dated += _followups(turn, people, templates["followup"])
    events = [text for _, text in sorted(dated, key=lambda item: item[0])]
    # the joint visits booked with /joint for the people here (a follow-up of no note)
    for person in people:
        for followup in turn.store.open_followups(person):
            day = date.fromisoformat(followup.due_date) if followup.due_date else None
            if followup.note_id is None and followup.action and day is not None \
                    and day >= today:
                planned.append((day, turn.render(templates["booked"], due=day.isoformat(),
                                                 name=person.name, action=followup.action)))
    # by date, the plan's own order breaking ties (sorted is stable)
    return [text for _, text in sorted(planned + dated, key=lambda item: item[0])], events


MIN_NOTICE_DAYS = 3  # an event too close for its lead time: the days to get ready in


def ready_by(today: date, day: date, lead_days: int) -> date:
    """The day to have an event's preparation done by: `lead_days` before it, but for an
    event that close, a few days from now (never today, while the event is further off
    than tomorrow), and never after the eve of the event."""
    soonest = min(today + timedelta(days=MIN_NOTICE_DAYS), day - timedelta(days=1))
    return max(today, day - timedelta(days=lead_days), soonest)


def _followups(turn: Turn, people: list[Account], template: Any) -> list[tuple[date, str]]:
    """The rep's own open follow-ups with the people here (回访王主任 12-17), each on its
    date: the dates the rep set are dates from the notes too. A joint visit booked with
    /joint (no note) is already among the actions as `booked`."""
    today = turn.local_now.date()
    found: list[tuple[date, str]] = []
    for person in people:
        for followup in turn.store.open_followups(person):
            if not followup.due_date or (followup.note_id is None and followup.action):
                continue
            day = date.fromisoformat(followup.due_date)
            found.append((day, turn.render(template, due=day.isoformat(), name=person.name,
                                           action=followup.action or "",
                                           overdue=day < today,
                                           held=bool(turn.store.open_reports(person)))))
    return found


def _said(turn: Turn, key: str, values: list[Any]) -> list[str]:
    """Roles and needs by their names, never their stored keys."""
    group = {"gaps": "roles", "goals": "needs"}.get(key)
    return [str(turn.library.label(group, v, turn.locale) if group else v) for v in values]


def _changes(turn: Turn, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    content = turn.library.content(turn.playbook, turn.locale)
    lines = []
    for key in TRACKED:
        old, new = before.get(key), after.get(key)
        if old == new or not (old or new):  # a key an older plan did not keep is no change
            continue
        if isinstance(new, dict) or isinstance(old, dict):
            old, new = old or {}, new or {}
            moved = [{"name": k, "before": old.get(k), "after": new.get(k)}
                     for k in sorted({*old, *new}) if old.get(k) != new.get(k)]
            lines.append(turn.render(content["change_shares"], moved=moved))
            continue
        added = _said(turn, key, [v for v in new or [] if v not in (old or [])])
        removed = _said(turn, key, [v for v in old or [] if v not in (new or [])])
        lines.append(turn.render(content["change_line"],
                                 name=content["change_names"].get(key, key),
                                 added=added, removed=removed))
    return lines


MAX_HOSPITALS = 10  # offered to pick from, those with most customers first


@action("plan_target", provides=("hospital", "account"))
def plan_target(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`/plan 泰山医院` plans for the hospital: what follows the command names one of the
    rep's hospitals and no person in it. Otherwise it names a customer (`/plan 张建国`,
    `/plan 泰山医院李主任`): when exactly one matches, his plan starts without the picker."""
    typed = str(turn.vars.get("command_args") or "").strip()
    turn.vars["hospital"] = None
    named = mention_in(turn.library.lexicon, typed, turn.local_now.date()) if typed else None
    if not typed:
        return
    accounts = turn.store.active_accounts()
    if named is None or named.name == named.hospital:
        hospitals = sorted({a.hospital for a in accounts if a.hospital})
        turn.vars["hospital"] = next((h for h in hospitals if hospitals_match(h, typed)), None)
    if turn.vars["hospital"] is None:  # `/plan 张建国`: that customer's plan, no picker
        _take_named(turn, typed, named, accounts)


def _take_named(turn: Turn, typed: str, named: Mention | None,
                accounts: Sequence[Account]) -> None:
    """The one customer of `accounts` the words typed after a command name become the
    flow's customer (`account`); several or none leave the picker to ask."""
    person = named.name if named is not None else typed
    found = [a for a in accounts if a.kind != "hospital" and a.name == person] or [
        a for a in accounts if a.kind != "hospital" and name_key(a.name) == name_key(person)
        and (named is None or not named.hospital or not a.hospital
             or hospitals_match(a.hospital, named.hospital))]
    if len(found) == 1:
        turn.vars["account"] = found[0].id


@action("named_customer", provides=("account",))
def named_customer(turn: Turn, _args: Mapping[str, Any]) -> None:
    """`/next 王主任` (or a mistyped `/nxt 王主任` whose guess was tapped): the customer
    named after the command, when exactly one matches, so the picker does not ask again."""
    typed = str(turn.vars.get("command_args") or "").strip()
    if typed:
        named = mention_in(turn.library.lexicon, typed, turn.local_now.date())
        _take_named(turn, typed, named, turn.store.active_accounts())


@action("hospital_choices", provides=("hospital", "hospital_list"))
def hospital_choices(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The hospitals the rep has customers at (most customers first) to pick from, or the
    one typed after the command (`/hospital 泰山医院`, `/hospital 泰山`)."""
    counts: dict[str, int] = {}
    for account in turn.store.active_accounts():
        if account.kind != "hospital" and account.hospital:
            counts[account.hospital] = counts.get(account.hospital, 0) + 1
    ranked = sorted(counts, key=lambda h: (-counts[h], h))
    # `/hospital 泰山`, or `/plan 泰山医院` handed over with the hospital already found
    typed = str(turn.vars.get("command_args") or turn.vars.get("hospital") or "").strip()
    turn.vars["hospital"] = None
    if typed:
        turn.vars["hospital"] = next((h for h in ranked if hospitals_match(h, typed)), typed)
    turn.vars["hospital_list"] = [{"id": h, "label": turn.render(
        turn.library.content(turn.playbook, turn.locale)["pick_label"], name=h, count=counts[h])}
        for h in ranked[:MAX_HOSPITALS]]


@action("hospital_plan", provides=("hospital_plan",), content_check=_check)
def hospital_plan(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Build the plan for the hospital in `hospital` (typed, or the picked customer's)."""
    account = turn.account()
    hospital = str(turn.vars.get("hospital") or (account.hospital if account else "") or "")
    people = hospital_people(turn, hospital) if hospital else []
    turn.vars["hospital_plan"] = None
    if not people:
        return
    library, locale = turn.library, turn.locale
    content = library.content(turn.playbook, locale)
    gone = leaving(turn, {a.id: a for a in people})
    said = _goals(turn, people)
    facts = _facts(turn, hospital, people, gone, said)
    home = _hospital_account(turn, hospital)
    previous = turn.store.latest_plan(home)
    changes = _changes(turn, previous.facts, facts) if previous is not None else []
    chain = []
    for role in ROLE_ORDER:
        holders = [a for a in people if holds(a, role)]
        chain.append({"role": library.label("roles", role, locale),
                      "cares": content["role_cares"][role],
                      "people": [{"name": a.name, "department": a.department,
                                  "attitude": content["attitudes"][attitude_of(turn, a)],
                                  "leaving": content["leaving"] if a.id in gone else ""}
                                 for a in holders]})
    needs = sorted({n for a in people for n in (a.needs or [])})
    crisis = [{"name": a.name, "phrase": gone[a.id]["phrase"]} for a in people if a.id in gone]
    actions, events = _actions(turn, facts, people)
    reports = [{"name": a.name, "kind": turn.message(f"report_kind_{r[0].kind}")}
               for a in people if (r := turn.store.open_reports(a))]
    plan = {
        "hospital": hospital, "people": len(people), "chain": chain,
        "gaps": [library.label("roles", r, locale) for r in facts["gaps"]],
        "shares": [{"department": d, "share": s, "below": s < facts["critical_low"]}
                   for d, s in facts["shares"].items()],
        "critical_low": facts["critical_low"],
        "supporters": facts["supporters"], "opposed": facts["opposed"],
        # of the supporters: who has used it (can share experience), and who is not the
        # decision maker himself (can bring the plan to him)
        "sharers": [a.name for a in people if a.name in facts["supporters"]
                    and usage(turn, a).used],
        "carriers": [a.name for a in people if a.name in facts["supporters"]
                     and not holds(a, "decision_maker")],
        "hospital_goals": bool(facts["goals"]),
        "goals": [turn.render(content["goal_named"], **g) for g in said],
        "doctor_needs": [library.label("needs", n, locale) for n in needs],
        "company_goals": content["company_goals"], "resources": content["resources"],
        "actions": actions, "events": events, "changes": changes,
        "crisis": turn.render(content["crisis"], crisis=crisis) if crisis else "",
        "safety": turn.render(content["safety"], reports=reports) if reports else "",
        "first": previous is None, "date": turn.local_date(turn.now),
    }
    turn.store.add_plan(home, facts, turn.now)
    turn.document(str(content["document"]), turn.render(str(content["filename"]), plan=plan),
                  "plan.html", plan=plan)
    turn.vars["hospital_plan"] = plan
