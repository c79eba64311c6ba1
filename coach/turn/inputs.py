"""What a waiting step asks and how it takes an answer: one protocol for every input kind.

Each kind turns a step into a `Question` (text and options), and an `Answer` (typed text or
the token of a pressed option) into one of three outcomes:

* `Accept(value)`: the answer is good; the runner saves it and moves on;
* `Ask(question)`: ask something else at the same step (the picker's list of candidates);
* `Retry(notice)`: not an answer; the runner explains and asks again, or, when the text
  reads like a visit note, offers to log it.

Inputs never touch the runner or the conversation row: the runner owns prompt numbers,
keys and state, so a new kind is one small class here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from coach.dates import parse_due_date
from coach.numbers import is_number
from coach.playbook import StepSpec
from coach.store.conversation import PickerState
from coach.templating import evaluate

if TYPE_CHECKING:
    from coach.context import Turn

__all__ = [
    "Accept",
    "Answer",
    "Ask",
    "Question",
    "Retry",
    "StepInput",
    "Taken",
    "input_for",
    "plain_label",
]

_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class Answer:
    text: str | None = None  # typed (already normalised and guarded)
    token: str | None = None  # an option of the waiting question


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[tuple[str, str], ...] = ()  # (token, label)
    picker: PickerState | None = None


@dataclass(frozen=True)
class Accept:
    value: Any
    notice: str | None = None


@dataclass(frozen=True)
class Ask:
    question: Question


@dataclass(frozen=True)
class Retry:
    notice: str


Taken = Accept | Ask | Retry


class StepInput(Protocol):
    def ask(self, turn: Turn, step: StepSpec, text: str) -> Question: ...

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken: ...


def plain_label(label: str) -> str:
    """A label as a rep would type it: no emoji or symbols, no spaces, lower case, and 她
    as 他 (a label shown with the customer's pronoun, `pronoun` steps, is typed either way)."""
    return "".join(ch for ch in label
                   if unicodedata.category(ch)[0] in "LN").lower().replace("她", "他")


def _by_label(text: str | None, labels: list[tuple[str, list[str]]]) -> str | None:
    """The token whose label (in either language) the rep typed, if any."""
    typed = plain_label(text or "")
    if not typed:
        return None
    for token, variants in labels:
        if typed in (plain_label(v) for v in variants):
            return token
    return None


def shown_count(turn: Turn, offered: int) -> int:
    """How many numbered buttons the rep sees under the question: the step's own and any
    the engine adds (a note sent mid-flow adds "📝 先记下这条"), so "回复 1–N" names them
    all; the step's count when no list was kept."""
    return max(len(turn.state.shown), offered)


class ChoiceInput:
    """A question with buttons from the playbook; `when` hides a choice that does not apply."""

    def offered(self, turn: Turn, step: StepSpec) -> list[int]:
        choices = step.choices or []
        context = turn.context() if any(c.when for c in choices) else {}
        return [i for i, c in enumerate(choices) if c.when is None or evaluate(c.when, context)]

    def ask(self, turn: Turn, step: StepSpec, text: str) -> Question:
        choices = step.choices or []
        return Question(text, tuple((str(i), turn.render(choices[i].label))
                                    for i in self.offered(turn, step)))

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        offered = self.offered(turn, step)
        choices = step.choices or []
        token = answer.token
        if token is None:
            token = _by_label(answer.text, [
                (str(i), [choices[i].label.get("zh"), choices[i].label.get("en"),
                          turn.render(choices[i].label)]) for i in offered])
        if token is not None and is_number(token) and int(token) in offered:
            return Accept(int(token))
        return Retry(turn.message("choose_from_list", count=shown_count(turn, len(offered))))


class TextInput:
    def ask(self, turn: Turn, step: StepSpec, text: str) -> Question:
        return Question(text)

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        if answer.text:
            return Accept(answer.text)
        return Retry(turn.message("choose_from_list", count=1))


class NumberInput(TextInput):
    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        text = (answer.text or "").replace(",", "")
        if not _NUMBER.match(text):
            return Retry(turn.message("invalid_number"))
        number = float(text)
        if (step.min is not None and number < step.min) or (
                step.max is not None and number > step.max):
            return Retry(turn.message("number_out_of_range", min=step.min, max=step.max))
        return Accept(int(number) if number.is_integer() else number)


def _not_a_date(turn: Turn, answer: Answer) -> Retry:
    """The typed text, quoted back: the rep sees what was not read as a day, and why."""
    return Retry(turn.message("invalid_date", typed=(answer.text or "").strip()[:40]))


class DateInput(TextInput):
    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        due = parse_due_date(answer.text or "", turn.local_now.date())
        if due is None:
            return _not_a_date(turn, answer)
        return Accept(due.isoformat())


class DaysInput(ChoiceInput):
    """A few buttons with a number of days each ("明天", "下周"), or a day typed as for any
    date question ("下周三下午", "月底前", "元旦后第一个工作日"): saves the days from today,
    within the step's `min` and `max`."""

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        choices = step.choices or []
        picked = super().take(turn, step, answer)
        if isinstance(picked, Accept):
            value = choices[int(picked.value)].value
            return Accept(value if value is not None else int(picked.value) + 1)
        if answer.token is not None or not answer.text:
            return picked
        today = turn.local_now.date()
        due = parse_due_date(answer.text, today)
        if due is None:
            return _not_a_date(turn, answer)
        days = (due - today).days
        low, high = int(step.min or 1), int(step.max or days)
        if not low <= days <= high:
            last = today + timedelta(days=high)
            return Retry(turn.message("date_out_of_range", min=low, max=high,
                                      last={"month": last.month, "day": last.day,
                                            "iso": last.isoformat()}))
        return Accept(days)


class ItemInput:
    """Pick one of a list an action prepared (`items:` names it): recent notes to move,
    today's follow-ups. Each item is {id, label}; the step saves the id."""

    def _items(self, turn: Turn, step: StepSpec) -> list[dict[str, Any]]:
        items = turn.vars.get(step.items or "") or []
        return [i for i in items if isinstance(i, dict) and "id" in i]

    def ask(self, turn: Turn, step: StepSpec, text: str) -> Question:
        return Question(text, tuple((str(n), str(item.get("label", "")))
                                    for n, item in enumerate(self._items(turn, step))))

    def take(self, turn: Turn, step: StepSpec, answer: Answer) -> Taken:
        items = self._items(turn, step)
        token = answer.token or _by_label(
            answer.text, [(str(n), [str(i.get("label", ""))]) for n, i in enumerate(items)])
        if token is not None and is_number(token) and int(token) < len(items):
            return Accept(items[int(token)]["id"])
        return Retry(turn.message("choose_from_list", count=shown_count(turn, max(len(items), 1))))


def input_for(step: StepSpec) -> StepInput:
    """The input kind of a waiting step (a step with choices and no `input` is a choice)."""
    from coach.turn.picker import AccountInput, NameInput

    kind = step.input
    if kind is None:
        return ChoiceInput()
    kinds: dict[str, StepInput] = {"text": TextInput(), "number": NumberInput(),
                                   "date": DateInput(), "days": DaysInput(), "item": ItemInput(),
                                   "account": AccountInput(), "name": NameInput()}
    return kinds[kind]
