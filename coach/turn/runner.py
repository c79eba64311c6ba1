"""Drives one conversation through its playbook: run steps until one waits, take answers.

The runner owns the conversation's place (playbook, step, prompt number) and the engine's
state; what a waiting step asks and accepts is its input kind's business
(`coach.turn.inputs`). Every question carries the prompt number in its button keys, so a
button of an older question is refused as stale instead of answering the wrong one.

A note typed at a question that wanted a button is not thrown away: it is kept (parked)
and offered for logging beside every question until the rep logs or drops it. Logging it
puts the flow aside (a quiz half done keeps its answers); when the note is saved, the flow
resumes at the same question. A flow that ends with notes still kept offers them
(`catalog.kept_notes`), oldest first.
"""

from __future__ import annotations

from typing import Any

from coach.actions import REGISTRY
from coach.actions.features import feature_named
from coach.actions.kept import MAX_KEPT, keep_note
from coach.actions.pronoun import as_customer_written
from coach.capture import looks_like_note
from coach.context import Findings, Turn
from coach.messages import Choice, Reply
from coach.playbook import END, StepSpec
from coach.store.conversation import ConversationState, Frame, PickerState, Prompt
from coach.store.conversation import ShownChoice as Shown
from coach.templating import evaluate
from coach.turn.button_words import button_words
from coach.turn.inputs import Accept, Answer, Ask, Question, Retry, input_for, plain_label
from coach.turn.keys import ChoiceKey, encode

__all__ = ["PARK", "SKIP", "PlaybookLoop", "Runner", "remember_shown"]

MAX_STEPS_PER_TURN = 200
MAX_SUSPENDED = 3
SKIP = "s"  # the skip option of an optional input
PARK = "n"  # log the note typed at this question
# note_rest: the part of a long kept note past what is read, stored with it (actions/kept.py)
KEPT_ACROSS_PLAYBOOKS = ("account", "followup", "note", "note_rest", "about", "hospital")


class PlaybookLoop(Exception):
    """A playbook ran too many steps without waiting: a content bug, reported not hung."""


class Runner:
    def __init__(self, turn: Turn, conversation: ConversationState) -> None:
        self.turn = turn
        self.conversation = conversation

    @property
    def state(self) -> Any:
        return self.turn.state

    # running ------------------------------------------------------------------------------
    def start(self, playbook_id: str, variables: dict[str, Any] | None = None) -> None:
        playbook = self.turn.library.playbooks[playbook_id]
        self.turn.playbook = playbook
        self.turn.vars = dict(variables or {})
        self.turn.state.clear_flow()
        self._absorb()
        self.advance(playbook.first_step)

    def start_free_text(self, text: str) -> None:
        """What typed text outside any question starts: a playbook whose keyword it is, an
        offer of the feature a short message names, or logging it as a visit note."""
        library = self.turn.library
        keyword = library.by_keyword.get(text.strip().lower())
        if keyword is not None:
            self.start(keyword.id)
            return
        free = library.catalog.free_text
        named = feature_named(library, text)  # "做个计划": offer /plan, or log it after all
        if named is not None and named.id == free.playbook:  # "记录一下": nothing to log yet
            self.start(named.id)
        elif named is not None:
            self.start(library.catalog.feature_offer, {"typed": text})
        elif plain_label(text) in button_words(library):  # "撤销" after its button went
            self.turn.say(self.turn.message("button_not_active", typed=text))
        else:
            self.start(free.playbook, {free.save: text})

    def _absorb(self) -> None:
        """What the guard found in this turn's text belongs to whatever flow runs now: the
        note it becomes reports the removals, and its adverse events join the customer."""
        state, found = self.turn.state, self.turn.findings
        state.redacted = sorted(set(state.redacted) | found.redacted)
        state.reports += [r for r in found.reports if r not in state.reports]

    def advance(self, step_id: str) -> None:
        """Run steps from `step_id` until one waits for the rep or the playbook ends."""
        turn = self.turn
        for _ in range(MAX_STEPS_PER_TURN):
            if step_id == END:
                self.finish()
                if not self.resume() and not self._offered_choices():
                    self.offer_kept()
                return
            if step_id.startswith("@"):
                target = turn.render(step_id[1:])  # "@{{ feature.id }}": chosen at run time
                if target not in turn.library.playbooks:
                    self.finish()
                    return
                turn.vars = {k: turn.vars[k] for k in KEPT_ACROSS_PLAYBOOKS if k in turn.vars}
                turn.playbook = turn.library.playbooks[target]
                turn.state.scores, turn.state.answers, turn.state.picker = {}, [], None
                step_id = turn.playbook.first_step
                continue
            step = turn.playbook.step(step_id)
            if step is None:
                self.finish()
                return
            kind = step.kind
            if kind == "say" and step.say is not None:
                turn.say(self._spoken(step, turn.render(step.say)))
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
        """The flow is over (or dropped): no question waits any more."""
        self.turn.flush_attachments()
        self.conversation.playbook = None
        self.conversation.step = None
        self.turn.state.clear_flow()
        self.turn.vars = {}

    def abandon(self) -> None:
        """A command or a reminder starts something new: every flow, also those put aside,
        is dropped."""
        self.finish()
        self.turn.state.suspended = []

    def resume(self) -> bool:
        """Back to the flow put aside while a note was logged, at the same question."""
        state = self.turn.state
        while state.suspended:
            frame = state.suspended.pop()
            playbook = self.turn.library.playbooks.get(frame.playbook)
            step = playbook.step(frame.step) if playbook is not None else None
            if playbook is None or step is None:
                continue  # removed by a playbook update since
            self.turn.playbook = playbook
            self.turn.vars = dict(frame.vars)
            state.scores, state.answers, state.picker = dict(frame.scores), list(
                frame.answers), frame.picker
            self.turn.say(self.turn.message("resumed", title=playbook.title.get(
                self.turn.locale)))
            self.prompt(step)
            return True
        return False

    def _offered_choices(self) -> bool:
        """Whether this turn already shows choices as it ends ("↩️ 撤销" after a report is
        forwarded): the kept notes wait for the next turn rather than show a second list
        numbered from 1 in the same reply, where "1" would mean theirs (trial H)."""
        return any(reply.choices for reply in self.turn.replies)

    def offer_kept(self) -> None:
        """Nothing else waits: offer the oldest note still kept, to log or to drop (not
        after /forget: the kept notes went with everything else)."""
        if self.turn.state.parked and not self.turn.forgotten:
            self.start(self.turn.library.catalog.kept_notes)

    def _next(self, step: StepSpec) -> str:
        return step.next or self.turn.playbook.following(step.id)

    def _branch(self, step: StepSpec) -> str:
        context = self.turn.context()
        for case in step.branch or []:
            if evaluate(case.when, context):
                return case.next
        return self._next(step)

    # asking ---------------------------------------------------------------------------------
    def current_step(self) -> StepSpec | None:
        if self.conversation.step is None:
            return None
        return self.turn.playbook.step(self.conversation.step)

    def prompt(self, step: StepSpec) -> None:
        """Send `step`'s question and wait: the conversation row now points at it."""
        turn = self.turn
        self.conversation.seq += 1
        self.conversation.playbook = turn.playbook.id
        self.conversation.step = step.id
        question = input_for(step).ask(turn, step,
                                       turn.render(step.ask) if step.ask is not None else "")
        if step.pronoun:
            question = Question(self._spoken(step, question.text),
                                tuple((token, self._spoken(step, label))
                                      for token, label in question.options), question.picker)
        options = list(question.options)
        if step.optional:
            options.append((SKIP, turn.message("skip_label")))
        self._show(Question(question.text, tuple(options), question.picker))

    def _spoken(self, step: StepSpec, text: str) -> str:
        """`text` of `step` as the rep reads it: 她 for a customer the rep writes of as 她,
        when the step is marked `pronoun`."""
        return as_customer_written(self.turn, text) if step.pronoun else text

    def _show(self, question: Question) -> None:
        state, seq = self.turn.state, self.conversation.seq
        state.picker = question.picker
        options = list(question.options)
        if self._offers_park():
            options.append((PARK, self._park_label()))
        choices = tuple(Choice(encode(ChoiceKey(seq, token)), label) for token, label in options)
        self.turn.say(question.text, choices)
        state.prompt = Prompt(text=question.text,
                              choices=[Shown(key=c.key, label=c.label) for c in choices])

    def reprompt(self, notice: str, extra: tuple[Choice, ...] = ()) -> None:
        """Explain what was wrong and show the waiting question again, exactly as before
        (its buttons stay valid), with the parked note's option if one was just parked.
        `extra` choices go after the question's own, this once (the commands a mistyped
        one may have meant), so every number shown means what it shows."""
        turn = self.turn
        turn.say(notice)
        prompt = turn.state.prompt
        step = self.current_step()
        if prompt is None:
            if step is not None:
                self.prompt(step)
            return
        park = encode(ChoiceKey(self.conversation.seq, PARK))
        choices = [Choice(c.key, c.label) for c in prompt.choices if c.key != park]
        if self._offers_park():  # its label counts the notes kept, one more maybe
            choices.append(Choice(park, self._park_label()))
        turn.say(prompt.text, (*choices, *extra))
        turn.state.prompt = Prompt(text=prompt.text,
                                   choices=[Shown(key=c.key, label=c.label) for c in choices])

    def _offers_park(self) -> bool:
        """Kept notes are offered beside every question, except the one that offers them."""
        state = self.turn.state
        return (bool(state.parked) and len(state.suspended) < MAX_SUSPENDED
                and self.conversation.playbook != self.turn.library.catalog.kept_notes)

    def _park_label(self) -> str:
        return self.turn.message("park_label", count=len(self.turn.state.parked))

    # answering ------------------------------------------------------------------------------
    def answer(self, answer: Answer) -> None:
        """Take the rep's typed text or pressed option for the waiting step."""
        self._absorb()
        step = self.current_step()
        if step is None:
            self.finish()
            return
        if answer.token == PARK:
            self._log_parked()
            return
        if answer.token == SKIP and step.optional:
            self.turn.vars[step.save or ""] = None
            self.turn.state.picker = None
            self.advance(self._next(step))
            return
        taken = input_for(step).take(self.turn, step, answer)
        if isinstance(taken, Accept):
            self._accept(step, taken)
        elif isinstance(taken, Ask):
            self.conversation.seq += 1
            self._show(taken.question)
        else:
            self._refuse(step, answer, taken)

    def _accept(self, step: StepSpec, taken: Accept) -> None:
        turn = self.turn
        turn.state.picker = None
        if taken.notice:
            turn.say(taken.notice)
        if step.input is None:
            index = int(taken.value)
            choice = (step.choices or [])[index]
            for dimension, points in choice.scores.items():
                turn.state.scores[dimension] = turn.state.scores.get(dimension, 0) + points
            turn.state.answers.append((step.id, index))
            if step.save:
                turn.vars[step.save] = choice.value if choice.value is not None else index + 1
            self.advance(choice.next or self._next(step))
            return
        turn.vars[step.save or ""] = taken.value
        self.advance(self._next(step))

    def _refuse(self, step: StepSpec, answer: Answer, retry: Retry) -> None:
        """Not an answer. Text at a menu starts a new note; a note typed at a question is
        parked and offered; anything else gets the question again."""
        turn, text = self.turn, answer.text
        if text and step.on_text and step.input is None:
            turn.vars["typed"] = text
            self.advance(step.on_text)
            return
        if text and step.passthrough and step.input is None:
            self.finish()
            self.start_free_text(text)
            return
        if text and looks_like_note(turn.library.lexicon, text, turn.local_now.date()):
            self.reprompt(turn.message("note_parked") if keep_note(turn, text)
                          else turn.message("too_many_kept", count=MAX_KEPT))
            return
        self.reprompt(retry.notice)

    def _log_parked(self) -> None:
        """Put this flow aside and log the oldest kept note; the flow resumes after it."""
        turn = self.turn
        playbook, step = self.conversation.playbook, self.conversation.step
        parked = turn.state.take_parked() if playbook and step else None
        if parked is None or playbook is None or step is None:
            self.reprompt(turn.message("stale_button"))
            return
        # a question one may leave with any text (`passthrough`: the saved visit's menu) is
        # the end of its flow, not put aside: coming back to it only showed the saved visit
        # again, and every later menu offered to (trial G finding 15)
        if not self._can_leave(step):
            turn.state.suspended.append(Frame(
                playbook=playbook, step=step,
                vars=dict(turn.vars), scores=dict(turn.state.scores),
                answers=list(turn.state.answers),
                picker=turn.state.picker or PickerState() if turn.state.picker else None))
        self.finish()
        turn.findings = Findings(set(parked.redacted), list(parked.reports))
        free = turn.library.catalog.free_text
        self.start(free.playbook, {free.save: parked.text})

    def _can_leave(self, step_id: str) -> bool:
        step = self.turn.playbook.step(step_id)
        return step is not None and step.passthrough


def _has_value(variables: dict[str, Any], name: str | None) -> bool:
    return name is not None and variables.get(name) is not None


def remember_shown(turn: Turn, replies: list[Reply]) -> None:
    """The numbered list the rep now sees last, for numbers they type next. A turn that
    only answered a press with a notice leaves it as it was."""
    visible = [r for r in replies if not r.toast]
    if not visible:
        return
    with_choices = [r for r in visible if r.choices]
    shown = ([Shown(key=c.key, label=c.label) for c in with_choices[-1].choices]
             if with_choices else [])
    if shown != turn.state.shown:  # the same list shown again still means what it meant
        turn.state.shown_at = turn.now if shown else None
    turn.state.shown = shown
