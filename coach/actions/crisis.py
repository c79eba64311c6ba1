"""Crisis early warning and response (seed 004, 客户关系深度维护方法: 危机预警 and 危机应对).

A customer is in crisis, by the rules in `playbooks/crisis.yaml`, when
- a key person is leaving: a recent note says 调走了, 退休, 离职, 换了主任 …;
- visits stopped: there used to be regular visits and none came for weeks;
- a key account moves back: the regression evidence of seed 002 (a stage gone down, a
  generic or competitor coming in, usage falling; coach/actions/regression.py) for a
  customer /screen placed in tier A or B, or for anyone with other crisis evidence.

The rep hears of it once right after a visit (the alert shares `Account.risk_alerted` with
the regression alert, its keys prefixed "c"), sees it in /today while the evidence is recent,
and typing 危机预警 lists every customer in crisis. The response follows the seed: respond
fast, talk it through and solve it (a joint visit when the team can help), improve.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from itertools import pairwise
from statistics import median
from typing import TYPE_CHECKING, Any

from coach.actions.reasons import known_reason
from coach.actions.registry import ContentIssue, action, require_content
from coach.actions.regression import (
    RECENT_DAYS,
    Evidence,
    not_yet_alerted,
    regressions,
    risk_words,
)
from coach.actions.signals import find_signals
from coach.capture.lexicon import Lexicon
from coach.capture.people import Person, find_people
from coach.names import hospitals_match, name_key
from coach.playbook import Playbook
from coach.store.models import Account
from coach.templating import evaluate

if TYPE_CHECKING:
    from coach.context import Turn

PLAYBOOK = "crisis"
KINDS = ("person", "visits", "moving_back")


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(
        ("key_person", "zh"), ("key_person", "en"), ("moving_back_when",), ("steps",),
        *[("visits", k) for k in ("min_visits", "regular_days", "silent_days", "times_usual",
                                  "lookback_days")],
        *[("evidence", k) for k in KINDS], *[("responses", k) for k in KINDS],
        ("responses", "moving_back_known"))(playbook)


def _rules(turn: Turn) -> Mapping[str, Any] | None:
    playbook = turn.library.playbooks.get(PLAYBOOK)
    return playbook.content if playbook is not None else None


def crises(turn: Turn, accounts: Mapping[int, Account],
           moving_back: Mapping[int, list[Evidence]] | None = None, *,
           just_visited: bool = False) -> dict[int, list[Evidence]]:
    """Each customer of `accounts` in crisis, with the evidence: items {"kind", "key", …}.
    `moving_back` is the regression evidence when the caller has it already;
    `just_visited`: a visit was logged today, so a silence before it still counts (right
    after the visit), where /today sees a customer visited today as back in touch."""
    rules = _rules(turn)
    if rules is None or not accounts:
        return {}
    found: dict[int, list[Evidence]] = {}
    for account_id, item in [*_key_people(turn, accounts, rules),
                             *_silences(turn, accounts, rules, just_visited)]:
        found.setdefault(account_id, []).append(item)
    if moving_back is None:
        moving_back = regressions(turn, accounts)
    for account_id, evidence in moving_back.items():
        account = accounts.get(account_id)
        if account is None or not evidence:
            continue
        key_account = bool(evaluate(str(rules["moving_back_when"]),
                                    {"tier": account.tier, "klass": account.klass}))
        if key_account or account_id in found:
            found.setdefault(account_id, []).extend(
                {"kind": "moving_back", "key": "c" + e["key"], "evidence": e} for e in evidence)
    return found


def _key_people(turn: Turn, accounts: Mapping[int, Account],
                rules: Mapping[str, Any]) -> list[tuple[int, Evidence]]:
    signal = {"kind": "person", "phrases": rules["key_person"]}
    found = []
    seen: set[int] = set()
    for note in turn.recent_notes(accounts, RECENT_DAYS):
        if note.account_id in seen:
            continue  # the newest note that says so is evidence enough
        for clause in CLAUSE.split(note.text):
            hit = next((h for h in find_signals(clause, [signal])
                        if not _rep_moving(clause[:h["at"]], rules)), None)
            if hit is not None:
                seen.add(note.account_id)
                found.append((note.account_id, {"kind": "person", "key": f"cp{note.id}",
                                                 "phrase": hit["phrase"]}))
                break
    return found


def leaving_clauses(turn: Turn, text: str) -> list[tuple[int, int]]:
    """The clauses of `text` that say a key person is leaving ("听说周主任下个月去省医院上班
    了"): their date is when he goes, not a next step for the rep, so no follow-up is taken
    from them (the reminder would read "跟进：上班")."""
    rules = _rules(turn)
    if rules is None:
        return []
    signal = {"kind": "person", "phrases": rules["key_person"]}
    return [(m.start(), m.end()) for m in CLAUSE_TEXT.finditer(text)
            if any(not _rep_moving(m.group()[:hit["at"]], rules)
                   for hit in find_signals(m.group(), [signal]))]


def _rep_moving(before: str, rules: Mapping[str, Any]) -> bool:
    """Whether the words `before` a key-person phrase make it the rep's own movement
    ("今天去了人民医院": a visit), not the customer's: they start with one of the playbook's
    `rep_moves` and name nobody of `someone_else` ("今天听说王主任去了…" is about him).
    Both languages' words count: a rep writes notes in either."""
    lowered = before.strip().lower() + " "
    return (any(lowered.startswith(w) for w in _words(rules, "rep_moves"))
            and not any(w in lowered for w in _words(rules, "someone_else")))


def _words(rules: Mapping[str, Any], key: str) -> list[str]:
    words = rules.get(key) or {}
    return [str(w).lower() for lang in ("zh", "en") for w in words.get(lang) or []]


def leaving(turn: Turn, accounts: Mapping[int, Account]) -> dict[int, Evidence]:
    """The people of `accounts` a recent note says are leaving or gone (the key-person
    evidence of the crisis warning): the plan, the chain and the advice then stop treating
    them as the one to win and turn to whoever takes over."""
    rules = _rules(turn)
    if rules is None or not accounts:
        return {}
    return dict(_key_people(turn, accounts, rules))


def successor_words(turn: Turn, accounts: Iterable[Account]) -> str | None:
    """What the rep has written about who takes over ("新来的分管副院长姓郑"): the newest
    clause of a recent note of `accounts` with one of the playbook's `successor` phrases."""
    rules = _rules(turn)
    phrases = (rules or {}).get("successor") or {}
    ids = [a.id for a in accounts]
    if not phrases or not ids:
        return None
    signal = {"kind": "person", "phrases": phrases}
    for note in turn.recent_notes(ids, RECENT_DAYS):
        for clause in CLAUSE.split(note.text):
            if find_signals(clause, [signal]):
                return clause.strip()
    return None


def successor_named(turn: Turn, account: Account, text: str) -> dict[str, Any] | None:
    """The person a note names as taking over from `account` ("科里以后张副主任管事", "接替他
    的是李主任", "新主任是刘建华"), in a clause with one of the playbook's `successor`
    phrases, at his hospital and department; None when the note names nobody ("新来的主任姓
    郑"), or only someone already among the rep's customers there. Offered, never added
    unasked."""
    rules = _rules(turn)
    phrases = (rules or {}).get("successor") or {}
    if not phrases:
        return None
    signal = {"kind": "person", "phrases": phrases}
    clauses = [c for c in CLAUSE.split(text) if find_signals(c, [signal])]
    if not clauses or account.id not in leaving(turn, {account.id: account}):
        return None
    lexicon = turn.library.lexicon
    known = [a for a in turn.store.active_accounts()
             if not a.hospital or not account.hospital
             or hospitals_match(a.hospital, account.hospital)]
    for clause in clauses:
        for person in find_people(lexicon, clause, []):
            name = _person_name(lexicon, clause, person)
            if name is None or any(name_key(a.name) == name_key(name) for a in known):
                continue
            return {"name": name, "title": person.title, "hospital": account.hospital,
                    "department": account.department}
    return None


def _person_name(lexicon: Lexicon, clause: str, person: Person) -> str | None:
    """`person` as a name to file: a family name and a title (张副主任) or a full name (刘建
    华), or in English a title and a name (Dr Zhang); a word before the family name is left
    out ("由陈副主任" is 陈副主任). None for what is not one: "管事", "新任主任", a surname
    alone ("分管副院长姓郑")."""
    name = person.name
    if name.isascii():  # "Dr Zhang takes over": a Latin title before a family name
        return name if person.title and name.startswith(person.title) else None
    if clause[person.span.end:].startswith("姓"):
        return None
    if name[:1] not in lexicon.surnames and name[1:2] in lexicon.surnames:
        name = name[1:]
    if name[:1] not in lexicon.surnames and not name.startswith(lexicon.compound_surnames):
        return None
    given = len(name) - len(person.title or "")
    if person.title and (not name.endswith(person.title) or not 1 <= given <= 3):
        return None
    return name if person.title or 2 <= len(name) <= 4 else None


CLAUSE = re.compile(r"[，。；！？,;!?\n]+")
CLAUSE_TEXT = re.compile(r"[^，。；！？,;!?\n]+")  # a clause itself, where CLAUSE splits


def _silences(turn: Turn, accounts: Mapping[int, Account], rules: Mapping[str, Any],
              just_visited: bool) -> list[tuple[int, Evidence]]:
    """Customers visited regularly and then not for weeks: the visits are the days with a
    note (two notes on one day are one visit)."""
    limits = rules["visits"]
    today = turn.local_now.date()
    days: dict[int, dict[date, int]] = {}
    for note in reversed(turn.recent_notes(accounts, int(limits["lookback_days"]))):
        day = date.fromisoformat(turn.local_date(note.created_at))
        days.setdefault(note.account_id, {})[day] = note.id  # the day's last note
    found = []
    for account_id, visits in days.items():
        if today in visits and not just_visited:
            continue  # back in touch today
        before = sorted(d for d in visits if d < today)
        if len(before) < int(limits["min_visits"]):
            continue
        usual = median((b - a).days for a, b in pairwise(before))
        gap = (today - before[-1]).days
        if usual <= int(limits["regular_days"]) and gap >= int(limits["silent_days"]) \
                and gap >= float(limits["times_usual"]) * usual:
            found.append((account_id, {"kind": "visits", "key": f"cv{visits[before[-1]]}",
                                       "every": round(usual), "gap": gap,
                                       "ongoing": today not in visits}))
    return found


def describe_crisis(turn: Turn, account: Account, evidence: list[Evidence]) -> dict[str, Any]:
    """The crisis as the rep reads it: `evidence` and `responses` (one line each, by kind,
    in the order of KINDS) and `kinds`. Moving back is answered with the reason the rep
    recorded, when there is one, instead of asking for it again."""
    content = turn.library.content(turn.library.playbooks[PLAYBOOK], turn.locale)
    ordered = sorted(evidence, key=lambda e: KINDS.index(e["kind"]))
    kinds = list(dict.fromkeys(e["kind"] for e in ordered))
    lines = []
    for item in ordered:
        if item["kind"] != "moving_back":
            lines.append(turn.render(content["evidence"][item["kind"]], **item))
    back = [e["evidence"] for e in ordered if e["kind"] == "moving_back"]
    if back:  # the regression evidence in one line, as the 📉 alert words it
        lines.append(turn.render(content["evidence"]["moving_back"],
                                 words=risk_words(turn, back)))
    reason = known_reason(turn, account) if back else None
    responses = [turn.render(content["responses"]["moving_back_known"], reason=reason)
                 if k == "moving_back" and reason else content["responses"][k] for k in kinds]
    return {"evidence": lines, "responses": responses, "kinds": kinds,
            "steps": list(content["steps"])}


def crisis_alert(turn: Turn, account: Account,
                 moving_back: list[Evidence]) -> dict[str, Any] | None:
    """Right after a visit: the crisis, once per episode (what was shown is remembered with
    the regression alerts, keys prefixed "c"), or None."""
    evidence = crises(turn, {account.id: account}, {account.id: moving_back},
                      just_visited=True).get(account.id, [])
    fresh = not_yet_alerted(turn, account, evidence)
    return describe_crisis(turn, account, fresh) if fresh else None


@action("crisis_list", provides=("crises", "watch"), content_check=_check)
def crisis_list(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Every customer in crisis, the most kinds of evidence first; then those moving back
    who are not (yet) a crisis, the 📉 alert the rep already had, so the warning view
    leaves none of them out (`watch`: name, the evidence in words, the known reason)."""
    accounts = {a.id: a for a in turn.store.active_accounts()}
    moving_back = regressions(turn, accounts)
    found = crises(turn, accounts, moving_back)
    shown = [{"name": accounts[i].name, "id": i, **describe_crisis(turn, accounts[i], e)}
             for i, e in found.items()]
    shown.sort(key=lambda c: (-len(c["kinds"]), c["name"]))
    turn.vars["crises"] = shown
    turn.vars["watch"] = sorted(
        ({"name": accounts[i].name, "words": risk_words(turn, e),
          "reason": known_reason(turn, accounts[i])}
         for i, e in moving_back.items() if e and i not in found),
        key=lambda w: str(w["name"]))
