"""The `input: account` step: pick a recent customer, find one by a fuzzy name, or create it.

A rep in a corridor types "李医生" and means the 李主任 at 泰山医院 they logged last week. We
match among this rep's own live accounts only (tens of rows, one indexed query), pick outright
when one match stands out, and otherwise offer the few best as buttons, with "create" and
"retype" beside them. What the picker has offered is kept in the conversation row, so a
restart in the middle of picking loses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.messages import Choice
from coach.names import parse_customer_text, rank_candidates
from coach.numbers import is_number
from coach.playbook import StepSpec
from coach.store.models import Account

if TYPE_CHECKING:
    from coach.steps import Runner

CREATE = "c"
RETYPE = "r"
MAX_OFFERED = 5
SURE = 0.9
MARGIN = 0.15


def _label(runner: Runner, account: Account) -> str:
    return runner.turn.message("account_label", name=account.name, hospital=account.hospital,
                               department=account.department)


def _offer(runner: Runner, text: str, accounts: list[Account], extra: list[tuple[str, str]],
           query: dict[str, Any] | None, *, new_list: bool = True) -> None:
    """Show `accounts` (and create/retype) as choices. A new list gets a new prompt number,
    so buttons of the list before it turn stale instead of picking the wrong customer."""
    from coach.steps import choice_key

    if new_list:
        runner.conversation.seq += 1
    seq = runner.conversation.seq
    tokens = [str(i) for i in range(len(accounts))] + [token for token, _ in extra]
    labels = [_label(runner, a) for a in accounts] + [label for _, label in extra]
    choices = [Choice(choice_key(seq, token), label) for token, label in zip(tokens, labels,
                                                                              strict=True)]
    runner.conversation.pending = {"options": [a.id for a in accounts], "query": query,
                                   "tokens": tokens}
    runner.turn.say(text, tuple(choices))
    runner.remember_prompt()


def prompt(runner: Runner, step: StepSpec, question: str) -> None:
    recent = list(runner.turn.store.recent_accounts(MAX_OFFERED))
    if recent:
        text = f"{question}\n{runner.turn.message('account_prompt')}".strip()
    else:
        text = f"{question}\n{runner.turn.message('account_none_yet')}".strip()
    _offer(runner, text, recent, [], None, new_list=False)


def answer(runner: Runner, step: StepSpec, text: str | None, token: str | None) -> None:
    turn = runner.turn
    pending = runner.conversation.pending or {}
    options: list[int] = list(pending.get("options") or [])
    query: dict[str, Any] | None = pending.get("query")
    tokens: list[str] = list(pending.get("tokens") or [])
    typed = (text or "").strip()
    if token is None and is_number(typed):  # a number answers the numbered list
        number = int(typed)
        if not 1 <= number <= len(tokens):
            runner.reprompt(turn.message("choose_from_list", count=max(len(tokens), 1)))
            return
        token = tokens[number - 1]
    if token == RETYPE:
        runner.reprompt(turn.message("account_prompt"))
        return
    if token == CREATE and step.create and query and query.get("name"):
        account = turn.store.create_account(query["name"], query.get("hospital"),
                                            query.get("department"), turn.now)
        turn.say(turn.message("account_created", name=account.name, hospital=account.hospital,
                              department=account.department))
        _select(runner, step, account)
        return
    if token is not None:
        if is_number(token) and int(token) < len(options):
            chosen = turn.store.account(options[int(token)])
            if chosen is not None and not chosen.archived:
                _select(runner, step, chosen)
                return
        runner.reprompt(turn.message("choose_from_list", count=max(len(tokens), 1)))
        return
    wanted = parse_customer_text(text or "")
    if not wanted.name:
        runner.reprompt(turn.message("account_prompt"))
        return
    ranked = rank_candidates(wanted, list(turn.store.active_accounts()),
                             lambda a: (a.name, a.hospital, a.department))
    query = {"name": wanted.name, "hospital": wanted.hospital, "department": wanted.department}
    create = [(CREATE, turn.message("account_create_label", name=wanted.name,
                                    hospital=wanted.hospital, department=wanted.department))]
    retype = [(RETYPE, turn.message("account_retype_label"))]
    if ranked:
        best, score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if score >= SURE and score - runner_up >= MARGIN:
            turn.say(turn.message("account_picked", account=turn.account_view(best)))
            _select(runner, step, best)
            return
        matches = [account for account, _ in ranked[:MAX_OFFERED]]
        _offer(runner, turn.message("account_matches", query=wanted.name), matches,
               (create if step.create else []) + retype, query)
        return
    if step.create:
        _offer(runner, turn.message("account_not_found", query=wanted.name), [],
               create + retype, query)
    else:
        runner.reprompt(turn.message("account_not_found", query=wanted.name))


def _select(runner: Runner, step: StepSpec, account: Account) -> None:
    turn = runner.turn
    turn.vars[step.save or "account"] = account.id
    turn.store.touch(account, turn.now)
    runner.conversation.pending = {}
    runner.advance(step.next or turn.playbook.following(step.id))
