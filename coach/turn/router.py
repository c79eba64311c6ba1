"""Where a turn goes: a command, a button (by its key's kind), or typed text.

Typed text is read against what the rep sees. A number is a choice of the newest numbered
list they were shown (a question, a reminder), whatever channel they are on: "1" at a
question whose only option is "skip" skips it, and a number outside the list gets "reply
1–N" and the question again, never a note. A choice's label typed out counts as pressing
it. Everything else goes to the waiting step as text, or starts logging a visit note.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from difflib import get_close_matches

from coach import forwarding
from coach.actions.kept import keep_note
from coach.context import Turn
from coach.dates import parse_due_date
from coach.dismissal import REASONS, UNRELATED, ask_why, dismiss
from coach.library import alias_key
from coach.messages import Choice, Reply
from coach.nudges import WEEK
from coach.playbook import StepSpec
from coach.reminders import LOG, RESCHEDULE
from coach.store.models import CLOSED_FOLLOWUPS, CLOSED_REPORTS, AdverseEvent
from coach.turn.inputs import Answer, plain_label
from coach.turn.keys import (
    AdverseEventKey,
    ButtonKey,
    ChoiceKey,
    CommandKey,
    NudgeKey,
    ReminderKey,
    SnoozeKey,
    decode,
    encode,
)
from coach.turn.result import Outcome
from coach.turn.runner import Runner
from coach.turn.typed_reason import reason_typed

__all__ = ["COMMAND", "Router"]

COMMAND = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,31})(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)
_CHOICE_NUMBER = re.compile(r"^(?:第\s*)?([0-9]{1,3})\s*(?:[.。、)）]|个|项|号)?$")
# Where a typed number may be the answer itself (a count, "5号"), not a choice.
_ANSWERED_BY_NUMBERS = ("number", "date", "days")
# Platforms stamp a message in whole seconds by their own clock: a number counts as sent
# before the list on screen only when it is older by more than this, so a quick answer to
# the list is never refused for a clock a second or two apart from ours.
SENT_BEFORE_MARGIN = timedelta(seconds=2)
MAX_GUESSES = 3
#: What each forwarding button does; each returns False when the report no longer allows it.
FORWARDING = {"f": forwarding.ask, "c": forwarding.confirm, "k": forwarding.keep_open,
              "u": forwarding.undo}
GUESS_CUTOFF = 0.6  # "nxt" is 0.86 from "next", "plna" 0.75 from "plan"; "foo" is nothing


def choice_number(text: str) -> int | None:
    """The number of "3", "3.", "第3个": what a rep types to pick from a numbered list."""
    match = _CHOICE_NUMBER.match(text.strip())
    return int(match.group(1)) if match else None


class Router:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.turn: Turn = runner.turn

    # opening the chat -----------------------------------------------------------------------
    def opened(self) -> None:
        """Show the waiting question again, exactly, or the menu."""
        prompt = self.turn.state.prompt
        if self.runner.conversation.step is not None and prompt is not None:
            self.turn.replies.append(Reply(prompt.text, tuple(
                Choice(c.key, c.label) for c in prompt.choices)))
        else:
            self.command("menu", None)

    def refuse(self, notice: str) -> None:
        """Say why a message did nothing; a question still waiting is shown again under it,
        so its numbers and buttons still mean what they meant (a typo never ends a flow)."""
        if self.runner.current_step() is not None:
            self.runner.reprompt(notice)
        else:
            self.turn.say(notice)

    def too_long(self, text: str) -> None:
        """A message longer than a note is read for (`max_text_chars`: the note reader's
        work grows faster than the text, and every turn holds the rep's conversation row)
        is not thrown away (trial G finding 9): already guarded whole at the door, it is kept
        whole as a note to log or drop, offered beside the waiting question or at once, with
        the safety reports taken from it. Only when ten notes already wait is it refused."""
        turn = self.turn
        limit = turn.settings.max_text_chars
        reports = len(turn.findings.reports)
        if not keep_note(turn, text):
            self.refuse(turn.message("message_too_long", limit=limit))
            return
        notice = turn.message("long_message_kept", count=len(text), limit=limit,
                              reports=reports)
        if self.runner.current_step() is not None:
            self.runner.reprompt(notice)
        else:
            turn.say(notice)
            self.runner.offer_kept()

    # commands ---------------------------------------------------------------------------------
    def command(self, name: str, argument: str | None) -> None:
        turn, runner = self.turn, self.runner
        if name == "cancel":
            if runner.conversation.step is None:
                turn.say(turn.message("nothing_to_cancel"))
                return
            # what the cancel does not undo is said: safety reports are stored at the door,
            # notes kept aside stay kept
            kept = {"reports": len(turn.state.reports)}
            runner.finish()
            kept["count"] = len(turn.state.parked)
            if turn.state.suspended:  # back to the flow the cancelled note interrupted
                turn.say(turn.message("cancelled_back", **kept))
                runner.resume()
            else:
                turn.say(turn.message("cancelled", **kept))
            return
        playbook = turn.library.by_command.get(name)
        if playbook is None:
            turn.state.typed_args = (argument or "").strip()[:200] or None
            self._did_you_mean(name)
            return
        turn.state.typed_args = None  # a did-you-mean offered before is answered now
        runner.abandon()
        runner.start(playbook.id, {"command_args": (argument or "").strip()[:200]})

    def _did_you_mean(self, name: str) -> None:
        """A mistyped command ("/nxt", "/hosptial") is answered with the closest ones to tap,
        after the waiting question's own choices (it still waits, as `refuse` keeps it)."""
        turn = self.turn
        guesses = self._guesses(name)
        if not guesses:
            self.refuse(turn.message("unknown_command", command=name))
            return
        # "/nxt 王主任" offers "/next 王主任": tapping it runs /next with 王主任 (typed_args)
        typed = f" {turn.state.typed_args}" if turn.state.typed_args else ""
        choices = tuple(Choice(encode(CommandKey(guess)), turn.message(
            "command_choice_label", command=guess + typed, title=self._title(guess)))
            for guess in guesses)
        notice = turn.message("unknown_command_close", command=name,
                              names=[f"/{guess}{typed}" for guess in guesses])
        if self.runner.current_step() is not None:
            self.runner.reprompt(notice, choices)
        else:
            self.turn.say(notice, choices)

    def _guesses(self, name: str) -> list[str]:
        """The commands `name` may mean: the one whose playbook a rep calls by that word
        ("/customers" is /accounts, the menu's 我的客户: its English `keywords`), then the
        closest command names by spelling (each playbook's first), or else the closest
        keywords."""
        library = self.turn.library
        aliases = library.command_aliases
        typed = alias_key(name)
        guesses = [aliases[typed]] if typed in aliases else []
        # a playbook's first command only: "/start" is how a new rep redeems a code, and
        # for one already enrolled only another name of /menu (trial G: "/stats" offered it)
        commands = [*sorted({pb.commands[0] for pb in library.by_command.values()}),
                    "cancel"]
        close = get_close_matches(name.lower(), commands, n=MAX_GUESSES, cutoff=GUESS_CUTOFF)
        if not close:  # "/customer", "/remiders": a keyword misspelt
            close = [aliases[word] for word in get_close_matches(
                typed, sorted(aliases), n=MAX_GUESSES, cutoff=GUESS_CUTOFF)]
        for guess in close:
            if guess not in guesses:
                guesses.append(guess)
        return guesses[:MAX_GUESSES]

    def _title(self, command: str) -> str:
        playbook = self.turn.library.by_command.get(command)
        if playbook is None:  # /cancel: the engine's own
            return self.turn.message("cancel_title")
        return playbook.title.get(self.turn.locale) or command

    # buttons ----------------------------------------------------------------------------------
    def button(self, raw: str) -> Outcome:
        key = decode(raw)
        if key is None or not self._press(key):
            self.turn.replies.append(Reply(self.turn.message("stale_button"), toast=True))
            return Outcome.STALE
        return Outcome.OK

    def _press(self, key: ButtonKey) -> bool:
        """Act on a pressed (or typed) option; False when it no longer applies."""
        if isinstance(key, ChoiceKey):
            conversation = self.runner.conversation
            if conversation.step is None or key.seq != conversation.seq:
                return False
            self.runner.answer(Answer(token=key.token))
            return True
        if isinstance(key, ReminderKey):
            return self._reminder(key)
        if isinstance(key, AdverseEventKey):
            return self._forwarded(key)
        if isinstance(key, CommandKey):
            if key.name != "cancel" and key.name not in self.turn.library.by_command:
                return False
            typed, self.turn.state.typed_args = self.turn.state.typed_args, None
            self.command(key.name, typed)
            return True
        if isinstance(key, SnoozeKey):
            self.turn.rep.nudge_after = self.turn.now + WEEK
            self.turn.say(self.turn.message("nudge_snoozed"))
            return True
        return self._review(key)

    def _reminder(self, key: ReminderKey) -> bool:
        """Log, reschedule or drop a reminded follow-up: only the rep's own, only once."""
        turn, runner = self.turn, self.runner
        followup = turn.store.followup(key.followup_id)
        if followup is None or followup.status in CLOSED_FOLLOWUPS:
            return False
        context = {"account": followup.account_id, "followup": followup.id}
        if key.action == LOG:
            runner.abandon()
            runner.start(turn.library.catalog.free_text.playbook, context)
        elif key.action == RESCHEDULE:
            runner.abandon()
            runner.start(turn.library.catalog.reschedule, context)
        else:
            followup.status = "dropped"
            turn.say(turn.message("reminder_dropped"))
        return True

    def _forwarded(self, key: AdverseEventKey) -> bool:
        """Forwarded to pharmacovigilance (asked, confirmed, not yet, undone); or the rep's
        answer to "is this an adverse event?" for one the guard was unsure of; or "this is
        not an adverse event" and why, for one it filed (a "no" is kept, marked, with who,
        when and why: coach/dismissal.py)."""
        turn = self.turn
        event = turn.store.adverse_event(key.event_id)
        if event is None:
            return False
        if key.action == "d":  # not one: ask why, the report stays open until answered
            if event.status in CLOSED_REPORTS:
                return False
            ask_why(turn, event)
            return True
        if key.action in REASONS:
            if event.status in CLOSED_REPORTS:
                return False
            reason = REASONS[key.action]
            closed = dismiss(turn, event, reason)
            self._answered_report(turn.message(
                "adverse_event_dismissed", reason=turn.message(f"dismiss_reason_{reason}"),
                count=len(closed)), closed)
            return True
        if key.action in FORWARDING:  # never closed in one tap (coach/forwarding.py)
            return FORWARDING[key.action](turn, event)
        if event.status != "unconfirmed":
            return False
        if key.action == "y":
            event.status = "open"
            said = turn.message("adverse_event_confirmed", deadline=turn.local_time(
                event.deadline), hours=turn.settings.adverse_event_hours)
            self._answered_report(said, [event])
        else:
            closed = dismiss(turn, event, UNRELATED)
            self._answered_report(turn.message("adverse_event_not_one"), closed)
        return True

    def _answered_report(self, said: str, events: list[AdverseEvent]) -> None:
        """Say `said`; the question the rep was answering is shown again, without the buttons
        of the reports just answered (they were added under it: pipeline.one_numbered_list).
        """
        turn = self.turn
        prompt = turn.state.prompt
        if prompt is not None:
            answered = {e.id for e in events}
            prompt.choices = [c for c in prompt.choices
                              if not isinstance(key := decode(c.key), AdverseEventKey)
                              or key.event_id not in answered]
        if self.runner.current_step() is not None:
            self.runner.reprompt(said)
        else:
            turn.say(said)

    def _review(self, key: NudgeKey) -> bool:
        """Re-evaluate a customer the weekly nudge proposed."""
        account = self.turn.store.account(key.account_id)
        if account is None or account.archived:
            return False
        self.runner.abandon()
        self.runner.start(self.turn.library.catalog.review, {"account": account.id})
        return True

    def dismissal_reason(self, event_id: int, text: str, source: str) -> bool:
        """`text` typed right after "why is this not an adverse event?": that reason, unless
        it is a command or one of the choices on screen (coach/turn/typed_reason.py)."""
        if COMMAND.match(text) or choice_number(text) is not None or any(
                plain_label(c.label) == plain_label(text) for c in self.turn.state.shown):
            return False
        taken = reason_typed(self.turn, event_id, text, source)
        if taken is None:
            return False
        said, closed = taken
        if closed:
            self._answered_report(said, closed)
        return True

    # typed text -------------------------------------------------------------------------------
    def typed(self, text: str, sent_at: datetime | None = None) -> Outcome:
        """`sent_at`: when the rep sent it (None: unknown, e.g. the console)."""
        command = COMMAND.match(text)
        if command:
            self.command(command.group(1).lower(), command.group(2))
            return Outcome.OK
        step = self.runner.current_step()
        shown = self.turn.state.shown
        number = choice_number(text)
        if number is not None and (step is None or step.input not in _ANSWERED_BY_NUMBERS
                                   or 1 <= number <= len(shown)
                                   or (step.input in ("date", "days") and parse_due_date(
                                       text, self.turn.local_now.date()) is None)):
            if 1 <= number <= len(shown) and self._sent_before_list(sent_at):
                return self._earlier_list(step)
            return self._typed_number(number, step)
        typed = plain_label(text)
        for choice in shown:
            if typed and plain_label(choice.label) == typed:
                return self._typed_choice(choice.key)
        if step is not None:
            self.runner.answer(Answer(text=text))
        else:
            self.runner.start_free_text(text)
        return Outcome.OK

    def _sent_before_list(self, sent_at: datetime | None) -> bool:
        """Whether a message was sent before the numbered list now on screen was shown: its
        number was meant for an earlier list, and a number shown as a choice always means
        that choice."""
        shown_at = self.turn.state.shown_at
        return (sent_at is not None and shown_at is not None
                and sent_at < shown_at - SENT_BEFORE_MARGIN)

    def _earlier_list(self, step: StepSpec | None) -> Outcome:
        """A number typed at an earlier list, handled after a newer one was shown: nothing is
        applied; the rep is told and sees the list now on screen again, to choose anew."""
        notice = self.turn.message("answered_earlier_list")
        if step is not None:
            self.runner.reprompt(notice)
        else:
            self.turn.say(notice, tuple(Choice(c.key, c.label) for c in self.turn.state.shown))
        return Outcome.OK

    def _typed_number(self, number: int, step: StepSpec | None) -> Outcome:
        shown = self.turn.state.shown
        if 1 <= number <= len(shown):
            return self._typed_choice(shown[number - 1].key)
        if step is not None and step.input == "date":  # "18": the 18th? say it in words
            self.runner.reprompt(self.turn.message("date_needs_words", number=number,
                                                   count=len(shown)))
            return Outcome.OK
        if not shown:
            if step is not None and step.input in ("text", "name"):  # a number is no note
                self.runner.reprompt(self.turn.message("words_not_a_number"))
            else:
                self.turn.say(self.turn.message("no_choices_waiting"))
            return Outcome.OK
        notice = self.turn.message("choose_from_list", count=len(shown))
        if step is not None:
            self.runner.reprompt(notice)
        else:
            self.turn.say(notice)
        return Outcome.OK

    def _typed_choice(self, raw: str) -> Outcome:
        key = decode(raw)
        if key is None or not self._press(key):
            self.turn.say(self.turn.message("stale_button"))
        return Outcome.OK
