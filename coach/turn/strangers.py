"""People the engine does not know yet: enroll with `/start CODE`, or (console and tests)
enroll on first contact; refuse everyone else. Nothing of a refused stranger is stored, but
for a revoked rep's message that reads as an adverse event (coach/turn/revoked.py).

Someone already known who sends `/start CODE` with another person's code (a console user,
enrolled on first contact, given a manager's code) becomes that person, as a stranger would:
the identity moves to the code's rep. The link that enrolled them, pressed again, is just
/start."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from coach.context import Turn
from coach.library import Library
from coach.messages import Choice, Incoming, Reply
from coach.settings import EngineSettings
from coach.store.models import Rep
from coach.store.repo import Directory, RepStore
from coach.turn.revoked import revoked_report
from coach.turn.runner import Runner, remember_shown

__all__ = ["Enrolment", "Strangers", "hint_locale"]

_START = re.compile(r"^/start(?:@\S+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)
_MENU = re.compile(r"^/(?:start|menu)(?:@\S+)?\b", re.IGNORECASE)
START_AGAIN = "erased.again"  # the button that makes a new account after /forget


def hint_locale(hint: str | None, default: str) -> str:
    if hint is None:
        return default
    return "en" if hint.lower().startswith("en") else "zh"


@dataclass
class Enrolment:
    replies: list[Reply] = field(default_factory=list)
    first_turn: bool = False  # run the message as the new rep's first turn too


class Strangers:
    def __init__(self, library: Library, settings: EngineSettings) -> None:
        self.library = library
        self.settings = settings

    def meet(self, directory: Directory, incoming: Incoming, now: datetime) -> Enrolment:
        locale = hint_locale(incoming.locale_hint, self.settings.default_locale)
        text = (incoming.text or "").strip()
        start = _START.match(text)
        revoked = directory.is_revoked(incoming.channel, incoming.user_id)
        if revoked and not (start and start.group(1)):
            report = revoked_report(directory, self.library, self.settings, incoming, now,
                                    locale)  # a safety report is kept even now
            return Enrolment([report or Reply(self.library.message("access_revoked", locale))])
        auto = incoming.channel in self.settings.auto_enroll_channels and not revoked
        erased = None if revoked else directory.erased_rep(incoming.channel, incoming.user_id)
        if erased is not None and incoming.locale_hint is None:
            locale = erased.locale  # the language they chose is all that is left of them
        again = erased is not None and auto and self._starts_again(incoming, text, locale)
        if erased is not None and not again and not (start and start.group(1)):
            return Enrolment(self._erased(directory, erased, incoming, now, locale, auto))
        if auto:
            rep = directory.create_rep(incoming.display_name or incoming.user_id, now,
                                       locale=locale)
            directory.bind_identity(rep, incoming.channel, incoming.user_id, now)
            if again or incoming.opened or _MENU.match(text):
                return Enrolment(self.welcome(directory, rep, incoming, now))
            greeting = Reply(self.library.message("welcome", rep.locale,
                                                  rep={"name": rep.name, "locale": rep.locale}))
            return Enrolment([greeting], first_turn=True)
        if start and start.group(1):
            if directory.too_many_attempts(incoming.channel, incoming.user_id, now):
                return Enrolment([Reply(self.library.message("enroll_too_many", locale))])
            owner = directory.redeem_code(start.group(1), now)
            if owner is None:
                directory.failed_attempt(incoming.channel, incoming.user_id, now)
                return Enrolment([Reply(self.library.message("enroll_bad_code", locale))])
            directory.bind_identity(owner, incoming.channel, incoming.user_id, now)
            if incoming.locale_hint:
                owner.locale = locale
            return Enrolment([
                Reply(self.library.message("enroll_ok", owner.locale,
                                           rep={"name": owner.name, "locale": owner.locale})),
                *self.welcome(directory, owner, incoming, now)])
        return Enrolment([Reply(self.library.message("not_enrolled", locale))])

    def _erased(self, directory: Directory, erased: Rep, incoming: Incoming, now: datetime,
                locale: str, auto: bool) -> list[Reply]:
        """Someone whose data was erased (/forget) writes again: told so, their message not
        kept (a safety report is: stored as the law keeps the earlier ones), and asked
        whether to start again with a new, empty account (a button where accounts are made
        on first contact; a new code from the manager elsewhere)."""
        report = revoked_report(directory, self.library, self.settings, incoming, now, locale,
                                erased=erased)
        told = Reply(self.library.message("erased_start_again" if auto else "erased_need_code",
                                          locale, reported=report is not None))
        if auto:
            told = replace(told, choices=(Choice(START_AGAIN, self.library.message(
                "erased_start_again_label", locale)),))
        return [*([report] if report else []), told]

    def _starts_again(self, incoming: Incoming, text: str, locale: str) -> bool:
        """The answer "start again" to `_erased`: its button, its number or label typed (the
        console has no buttons), or a bare /start (what a platform sends when someone opens
        the bot anew). Not /menu or any other text: the person is told first (trial G: /menu
        made a new account without a word about the erased one)."""
        label = self.library.message("erased_start_again_label", locale)
        said = {"1", label.casefold(), label.split(maxsplit=1)[-1].casefold()}
        start = _START.match(text)
        return incoming.button == START_AGAIN or text.casefold() in said \
            or bool(start and not start.group(1))

    def redeem(self, directory: Directory, rep: Rep, incoming: Incoming,
               now: datetime) -> Enrolment | None:
        """`/start CODE` from a known rep: the code's rep takes this identity over (a
        manager's code gives the manager's view). None when there is no code to redeem, or
        it is the one that enrolled this rep (the turn goes on as /start)."""
        start = _START.match((incoming.text or "").strip())
        if not start or not start.group(1) or directory.code_holder(start.group(1)) == rep.id:
            return None
        if directory.too_many_attempts(incoming.channel, incoming.user_id, now):
            return Enrolment([Reply(self.library.message("enroll_too_many", rep.locale))])
        owner = directory.redeem_code(start.group(1), now)
        if owner is None:
            directory.failed_attempt(incoming.channel, incoming.user_id, now)
            return Enrolment([Reply(self.library.message("enroll_bad_code", rep.locale))])
        directory.bind_identity(owner, incoming.channel, incoming.user_id, now)
        return Enrolment([
            Reply(self.library.message("enroll_ok", owner.locale,
                                       rep={"name": owner.name, "locale": owner.locale})),
            # the message was recorded as seen already, under the rep it came in as
            *self.welcome(directory, owner, replace(incoming, message_id=None), now)])

    def welcome(self, directory: Directory, rep: Rep, incoming: Incoming,
                now: datetime) -> list[Reply]:
        """A new rep's first turn: the welcome and the menu."""
        store = RepStore(directory.session, rep)
        conversation = store.lock_conversation(now)
        menu = self.library.by_command.get("start") or self.library.by_command.get("menu")
        turn = Turn(store=store, rep=rep, library=self.library, settings=self.settings,
                    now=now, playbook=next(iter(self.library.playbooks.values())), vars={},
                    state=conversation.engine)
        turn.say(turn.message("welcome"))
        runner = Runner(turn, conversation)
        if incoming.message_id:
            store.seen_message(incoming.channel, incoming.message_id, now)
        if menu is not None:
            runner.start(menu.id)
        remember_shown(turn, turn.replies)
        conversation.save(directory.session, turn.vars, now)
        return turn.replies
