"""The `input: account` step: pick a recent customer, name one, or add a new one; and the
`input: name` step (a customer's new name).

A rep in a corridor types "李医生" and means the 李主任 at 泰山医院 they logged last week. We
match among this rep's own live accounts only (tens of rows, one indexed query) and take a
customer without asking only when it is surely the same person (`coach.capture.matching`);
otherwise the candidates are offered as buttons beside "add …" and "type again". A different
given name is a different person: 李晓明 is offered beside 李主任, never filed under him.

A step with `query:` starts from a customer a note already named (the log flow's "which
one?"), so the rep answers with one tap. What the picker offered is kept in the engine
state, so a restart in the middle of picking loses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.capture import Mention, Resolution, mention_in, resolve, says_more_than_who
from coach.dates import parse_due_date
from coach.names import is_chinese, name_key, surname_of
from coach.numbers import is_number
from coach.playbook import StepSpec
from coach.store.conversation import PickerState
from coach.store.models import Account
from coach.store.repo import AccountEntry
from coach.turn.inputs import Accept, Answer, Ask, Question, Retry, Taken, plain_label

if TYPE_CHECKING:
    from coach.context import Turn

__all__ = ["CREATE", "RETYPE", "AccountInput", "NameInput"]

CREATE = "c"
RETYPE = "r"
MORE = "m"
MAX_OFFERED = 5  # customers on one page of the picker
MAX_LISTED = 100  # recent customers the picker pages through
# typed instead of tapping "➡️ 更多"
MORE_WORDS = frozenset({"更多", "下一页", "下页", "还有", "more", "next", "nextpage"})


def _label(turn: Turn, account: Account) -> str:
    return turn.message("account_label", name=account.name, hospital=account.hospital,
                        department=account.department)


def _fields(account: Account | AccountEntry) -> tuple[str, str | None, str | None, str | None]:
    return account.name, account.hospital, account.department, account.title


def find_account(turn: Turn, mention: Mention) -> Resolution[Account]:
    """Who `mention` is among the rep's live accounts: matched on names and places alone,
    then only the accounts picked are loaded whole."""
    key = name_key(mention.name)
    family = surname_of(key) if is_chinese(key) else None
    found = resolve(mention, turn.store.account_entries(family), _fields, turn.library.lexicon)

    def whole(entry: AccountEntry | None) -> Account | None:
        return None if entry is None else turn.store.account(entry.id)

    candidates = [a for a in map(whole, found.candidates) if a is not None]
    return Resolution(found.status, whole(found.account), candidates)


def _query(mention: Mention) -> dict[str, str | None]:
    return {"name": mention.name, "hospital": mention.hospital,
            "department": mention.department, "title": mention.title}


def _a_name(turn: Turn, mention: Mention) -> bool:
    """Whether what was typed can name a customer: a family name, a Latin name, or a
    department or hospital; not "3天后", "跳过" or "不知道" (they would become customers)."""
    name = mention.name.strip()
    if parse_due_date(name, turn.local_now.date()) is not None:
        return False
    lexicon = turn.library.lexicon
    key = name_key(name)
    if not key:
        return False
    if key[:1].isascii():
        return key[:1].isalpha()
    family = key.startswith(lexicon.compound_surnames) or key[:1] in lexicon.surnames
    place = key.endswith(("科", "室", "院", "部", "中心", "处"))
    # 阿依古丽医生, 那主任: no listed family name, but a title ("老主任" is nobody's name)
    titled = bool(mention.title) and (len(key) >= 2 or key not in lexicon.never_family)
    return family or place or titled


def _preset(turn: Turn, step: StepSpec) -> Mention | None:
    """The customer a `query:` variable names ({name, hospital, department, title})."""
    raw: Any = turn.vars.get(step.query or "") if step.query else None
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return Mention(str(raw["name"]), raw.get("hospital"), raw.get("department"),
                   raw.get("title"))


class AccountInput:
    def ask(self, turn: Turn, step: StepSpec, text: str) -> Question:
        preset = _preset(turn, step)
        if preset is not None:
            resolution = find_account(turn, preset)
            # offered, not assumed (the note says they were not met): a sure match is the
            # first candidate, not left out
            sure = [resolution.account] if resolution.account is not None else []
            return self._offer(turn, step, text, sure + list(resolution.candidates), preset)
        recent = list(turn.store.recent_accounts(MAX_LISTED))
        hint = turn.message("account_prompt" if recent else "account_none_yet")
        return self._offer(turn, step, f"{text}\n{hint}".strip(), recent, None)

    def _offer(self, turn: Turn, step: StepSpec, text: str, accounts: list[Account],
               mention: Mention | None) -> Question:
        picker = PickerState(options=[a.id for a in accounts],
                             query=_query(mention) if mention is not None else None)
        return self._page(turn, step, text, picker, 0, {a.id: a for a in accounts})

    def _page(self, turn: Turn, step: StepSpec, text: str, picker: PickerState, page: int,
              loaded: dict[int, Account] | None = None) -> Question:
        """Page `page` of the customers: their tokens are their places in the whole list,
        so a number or button shown means that customer on every page; "more" goes on, and
        from the last page back to the first."""
        start = page * MAX_OFFERED
        ids = picker.options[start:start + MAX_OFFERED]
        options = []
        for place, account_id in enumerate(ids, start=start):
            account = (loaded or {}).get(account_id) or turn.store.account(account_id)
            if account is not None:
                options.append((str(place), _label(turn, account)))
        left = len(picker.options) - start - len(ids)
        if left > 0:
            options.append((MORE, turn.message("today_more_label", count=left)))
        elif page > 0:
            options.append((MORE, turn.message("today_first_page_label")))
        query = picker.query
        if query is not None and query.get("name"):
            if step.create:
                options.append((CREATE, turn.message(
                    "account_create_label", name=query["name"], hospital=query.get("hospital"),
                    department=query.get("department"))))
            options.append((RETYPE, turn.message("account_retype_label")))
        shown = picker.model_copy(update={"tokens": [token for token, _ in options],
                                          "page": page})
        return Question(text, tuple(options), shown)

    def _more(self, turn: Turn, step: StepSpec, picker: PickerState) -> Ask:
        """The next page of the same list, under the same question."""
        following = picker.page + 1
        if following * MAX_OFFERED >= len(picker.options):
            following = 0
        text = turn.state.prompt.text if turn.state.prompt is not None else ""
        return Ask(self._page(turn, step, text, picker, following))

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        picker = turn.state.picker or PickerState()
        token = answer.token
        if token == RETYPE:
            # a fresh question, not the one that offered the name again: what is typed
            # next is read anew ("张科长 仁济医院 药剂科")
            recent = list(turn.store.recent_accounts(MAX_LISTED))
            hint = turn.message("account_prompt" if recent else "account_none_yet")
            return Ask(self._offer(turn, step, hint, recent, None))
        if token == CREATE and step.create and picker.query and picker.query.get("name"):
            query = picker.query
            if step.create_into:  # added when the flow saves
                turn.vars[step.create_into] = dict(query)
                return Accept(None)
            account = turn.store.create_account(
                str(query["name"]), query.get("hospital"), query.get("department"), turn.now,
                title=query.get("title"))
            return Accept(account.id, turn.message(
                "account_created", name=account.name, hospital=account.hospital,
                department=account.department))
        if token == MORE and MORE in picker.tokens:
            return self._more(turn, step, picker)
        if token is None and MORE in picker.tokens and plain_label(
                answer.text or "") in MORE_WORDS:
            return self._more(turn, step, picker)
        if token is not None:
            if is_number(token) and token in picker.tokens and int(token) < len(
                    picker.options):
                chosen = turn.store.account(picker.options[int(token)])
                if chosen is not None and not chosen.archived:
                    turn.store.touch(chosen, turn.now)
                    return Accept(chosen.id)
            return Retry(turn.message("choose_from_list", count=max(len(picker.tokens), 1)))
        typed = answer.text or ""
        if says_more_than_who(turn.library.lexicon, typed, turn.local_now.date()):
            # a note, not a name: the runner keeps it to log; nobody is picked from it
            return Retry(turn.message("account_prompt"))
        mention = mention_in(turn.library.lexicon, typed, turn.local_now.date())
        if mention is None or not _a_name(turn, mention):
            return Retry(turn.message("account_not_a_name", typed=typed.strip()[:MAX_NAME]))
        resolution = find_account(turn, mention)
        if resolution.status == "known" and resolution.account is not None:
            turn.store.touch(resolution.account, turn.now)
            return Accept(resolution.account.id, turn.message(
                "account_picked", account=turn.account_view(resolution.account)))
        if resolution.status == "ambiguous":
            text = turn.message("account_matches", query=mention.name)
            return Ask(self._offer(turn, step, text, resolution.candidates, mention))
        if step.create:
            text = turn.message("account_not_found", query=mention.name)
            return Ask(self._offer(turn, step, text, [], mention))
        recent = list(turn.store.recent_accounts(MAX_LISTED))
        text = turn.message("account_unknown", query=mention.name)
        return Ask(self._offer(turn, step, text, recent, None))


MAX_NAME = 40


class NameInput:
    """A customer's name, typed: refused when it cannot be one ("明天", a whole note), so a
    note typed here is kept as a note instead of renaming someone after it."""

    def ask(self, turn: Turn, step: StepSpec, text: str) -> Question:
        return Question(text)

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        typed = (answer.text or "").strip()
        today = turn.local_now.date()
        mention = mention_in(turn.library.lexicon, typed, today) if typed else None
        if (not typed or len(typed) > MAX_NAME or mention is None or not _a_name(turn, mention)
                or says_more_than_who(turn.library.lexicon, typed, today)):
            return Retry(turn.message("name_not_a_name"))
        return Accept(typed)
