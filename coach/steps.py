"""What each step kind does: run steps until one waits, and take the rep's answer to it.

Choice keys are `SEQ.TOKEN`: SEQ is the prompt counter stored with the conversation, so a
button from an older question no longer matches and is refused as stale; TOKEN is a choice's
position (or a letter for skip/create/retype). Keys stay a few bytes long whatever the content.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from coach import account_picker
from coach.actions import REGISTRY
from coach.context import Turn
from coach.dates import parse_due_date
from coach.messages import Choice
from coach.numbers import is_number
from coach.playbook import END, StepSpec
from coach.store.conversation import ConversationState
from coach.templating import evaluate

MAX_STEPS_PER_TURN = 200
SKIP_TOKEN = "s"
LAST_PROMPT = "_prompt"
REDACTED = "_redacted"
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


class PlaybookLoop(Exception):
    """A playbook ran too many steps without waiting: a content bug, reported not hung."""


def choice_key(seq: int, token: str | int) -> str:
    return f"{seq}.{token}"


def parse_choice_key(key: str) -> tuple[int, str] | None:
    seq, _, token = key.partition(".")
    if not is_number(seq) or not token or len(key) > 64:
        return None
    return int(seq), token


class Runner:
    """Drives one conversation through its playbook."""

    def __init__(self, turn: Turn, conversation: ConversationState) -> None:
        self.turn = turn
        self.conversation = conversation

    # running ------------------------------------------------------------------------------
    def start(self, playbook_id: str, vars: dict[str, Any] | None = None) -> None:
        playbook = self.turn.library.playbooks[playbook_id]
        self.turn.playbook = playbook
        redacted = self.turn.vars.get(REDACTED)  # reported when the note they came from is saved
        self.turn.vars = dict(vars or {})
        if redacted:
            self.turn.vars[REDACTED] = redacted
        self.conversation.pending = {}
        self.advance(playbook.first_step)

    def advance(self, step_id: str) -> None:
        """Run steps from `step_id` until one waits for the rep or the playbook ends."""
        turn = self.turn
        for _ in range(MAX_STEPS_PER_TURN):
            if step_id == END:
                self.finish()
                return
            if step_id.startswith("@"):
                keep = {k: turn.vars[k] for k in ("account",) if k in turn.vars}
                turn.playbook = turn.library.playbooks[step_id[1:]]
                turn.vars = keep
                step_id = turn.playbook.first_step
                continue
            step = turn.playbook.step(step_id)
            if step is None:
                self.finish()
                return
            kind = step.kind
            if kind == "say" and step.say is not None:
                turn.say(turn.render(step.say))
            elif kind == "set":
                for name, template in (step.set or {}).items():
                    turn.vars[name] = turn.render(template)
            elif kind == "branch":
                step_id = self._branch(step)
                continue
            elif kind == "action" and step.action is not None:
                REGISTRY[step.action].run(turn, step.args)
            elif step.input is not None and step.keep and _has_value(turn.vars, step.save):
                pass
            else:
                self.prompt(step)
                return
            step_id = self._next(step)
        raise PlaybookLoop(f"playbook {turn.playbook.id} ran {MAX_STEPS_PER_TURN} steps")

    def finish(self) -> None:
        self.turn.flush_attachments()
        self.conversation.playbook = None
        self.conversation.step = None
        self.conversation.pending = {}
        self.turn.vars = {}

    def _next(self, step: StepSpec) -> str:
        return step.next or self.turn.playbook.following(step.id)

    def _branch(self, step: StepSpec) -> str:
        context = self.turn.context()
        for case in step.branch or []:
            if evaluate(case.when, context):
                return case.next
        return self._next(step)

    # asking ---------------------------------------------------------------------------------
    def prompt(self, step: StepSpec) -> None:
        """Send `step`'s question and wait: the conversation row now points at it."""
        turn = self.turn
        self.conversation.seq += 1
        seq = self.conversation.seq
        self.conversation.playbook = turn.playbook.id
        self.conversation.step = step.id
        self.conversation.pending = {}
        question = turn.render(step.ask) if step.ask is not None else ""
        if step.input == "account":
            account_picker.prompt(self, step, question)
            return
        choices: tuple[Choice, ...] = ()
        if step.choices:
            choices = tuple(
                Choice(choice_key(seq, index), turn.render(choice.label))
                for index, choice in enumerate(step.choices)
            )
        elif step.optional:
            choices = (Choice(choice_key(seq, SKIP_TOKEN), turn.message("skip_label")),)
        turn.say(question, choices)
        self.remember_prompt()

    def remember_prompt(self) -> None:
        """Keep the question just sent, exactly, so reopening the chat after a restart shows
        it again with the same (still valid) buttons. Notices never replace it."""
        last = self.turn.replies[-1]
        self.turn.vars[LAST_PROMPT] = {"text": last.text,
                                       "choices": [[c.key, c.label] for c in last.choices]}

    def reprompt(self, notice: str) -> None:
        """Explain what was wrong and ask the same question again (same buttons stay valid)."""
        step = self.current_step()
        self.turn.say(notice)
        if step is not None:
            self.conversation.seq -= 1
            self.prompt(step)

    def current_step(self) -> StepSpec | None:
        if self.conversation.step is None:
            return None
        return self.turn.playbook.step(self.conversation.step)

    # answering ------------------------------------------------------------------------------
    def answer(self, text: str | None, token: str | None) -> None:
        """Take the rep's typed text or pressed button for the waiting step."""
        step = self.current_step()
        if step is None:
            self.finish()
            return
        if step.input == "account":
            account_picker.answer(self, step, text, token)
        elif step.choices:
            self._answer_choice(step, text, token)
        else:
            self._answer_input(step, text, token)

    def _answer_choice(self, step: StepSpec, text: str | None, token: str | None) -> None:
        turn = self.turn
        choices = step.choices or []
        index = _choice_index(token, text, [
            [choice.label.get("zh"), choice.label.get("en"), turn.render(choice.label)]
            for choice in choices
        ])
        if index is None and step.passthrough and text is not None:
            redacted = turn.vars.get(REDACTED)
            self.finish()
            if redacted:
                turn.vars[REDACTED] = redacted
            keyword = turn.library.by_keyword.get(text.strip().lower())
            if keyword is not None:
                self.start(keyword.id)
                return
            free = turn.library.catalog.free_text
            self.start(free.playbook, {free.save: text})
            return
        if index is None:
            self.reprompt(turn.message("choose_from_list", count=len(choices)))
            return
        choice = choices[index]
        scores: dict[str, float] = turn.vars.setdefault("_scores", {})
        for dimension, points in choice.scores.items():
            scores[dimension] = scores.get(dimension, 0) + points
        turn.vars.setdefault("_answers", []).append([step.id, index])
        if step.save:
            turn.vars[step.save] = choice.value if choice.value is not None else index + 1
        self.advance(choice.next or self._next(step))

    def _is_skip(self, text: str) -> bool:
        """Typing the skip button's label (in either language) skips, like pressing it."""
        label = self.turn.library.catalog.messages["skip_label"]
        typed = text.strip().lower()
        return typed in {(label.get(loc) or "").strip().lower() for loc in ("zh", "en")}

    def _answer_input(self, step: StepSpec, text: str | None, token: str | None) -> None:
        turn = self.turn
        if step.optional and token is None and text is not None and self._is_skip(text):
            token = SKIP_TOKEN
        if token == SKIP_TOKEN and step.optional:
            turn.vars[step.save or ""] = None
            self.advance(self._next(step))
            return
        if token is not None or text is None:
            self.reprompt(turn.message("choose_from_list", count=1))
            return
        value: Any = text
        if step.input == "number":
            if not _NUMBER.match(text.replace(",", "")):
                self.reprompt(turn.message("invalid_number"))
                return
            number = float(text.replace(",", ""))
            if (step.min is not None and number < step.min) or (
                step.max is not None and number > step.max
            ):
                self.reprompt(turn.message("number_out_of_range", min=step.min, max=step.max))
                return
            value = int(number) if number.is_integer() else number
        elif step.input == "date":
            due = parse_due_date(text, turn.local_now.date())
            if due is None:
                self.reprompt(turn.message("invalid_date"))
                return
            value = due.isoformat()
        turn.vars[step.save or ""] = value
        self.advance(self._next(step))


def _choice_index(token: str | None, text: str | None, labels: list[list[str]]) -> int | None:
    """The chosen position from a button token, a typed number, or a typed label."""
    if token is not None:
        if is_number(token) and int(token) < len(labels):
            return int(token)
        return None
    if text is None:
        return None
    typed = _plain_label(text)
    if is_number(typed) and 1 <= int(typed) <= len(labels):
        return int(typed) - 1
    for index, variants in enumerate(labels):
        if typed and typed in (_plain_label(v) for v in variants):
            return index
    return None


def _plain_label(label: str) -> str:
    """A label as a rep would type it: no emoji or symbols, no spaces, lower case."""
    return "".join(ch for ch in label if unicodedata.category(ch)[0] in "LN").lower()


def _has_value(variables: dict[str, Any], name: str | None) -> bool:
    return name is not None and variables.get(name) is not None
