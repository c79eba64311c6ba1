"""One turn, inside one transaction: who is this, is it new, guard the text, route, save.

    identify the rep, lock their conversation row and    -> strangers are enrolled or refused
    record the message id (one statement on PostgreSQL)  -> a redelivery: outcome `duplicate`
    typed text: normalise, guard (at the door, in any state), route
    buttons: decode the key, route
    save the conversation: place, variables, engine state; the numbered list now on screen

Everything a turn changes commits together or not at all, so a crash between any two
messages loses nothing that was acknowledged to the rep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from coach.context import Turn
from coach.documents.replies import finish_documents
from coach.documents.shelf import DocumentShelf
from coach.library import Library
from coach.messages import Incoming, Reply
from coach.settings import EngineSettings
from coach.store.conversation import Save
from coach.store.conversation import ShownChoice as Shown
from coach.store.repo import Directory, RepStore
from coach.turn.door import GUARDED_CHARS, check_at_door, normalise
from coach.turn.result import Outcome, TurnResult
from coach.turn.router import Router
from coach.turn.runner import Runner, remember_shown
from coach.turn.strangers import Strangers
from coach.turn.typed_reason import REASON_WAIT

__all__ = ["TurnPipeline"]


class TurnPipeline:
    def __init__(self, library: Library, settings: EngineSettings,
                 clock: Callable[[], datetime], documents: DocumentShelf | None = None) -> None:
        self.library = library
        self.documents = documents
        self.settings = settings
        self.clock = clock
        self.strangers = Strangers(library, settings)

    def run(self, session: Session, incoming: Incoming) -> TurnResult:
        result, save = self.decide(session, incoming)
        if save is not None:
            save.run(session)
        return result

    def decide(self, session: Session, incoming: Incoming) -> tuple[TurnResult, Save | None]:
        """The turn, all but the write of the conversation's state, returned to be made by
        the caller in the same transaction (None: nothing to write): `run` makes it at once,
        a channel's mailbox with the statement that stores the replies (coach/mailbox.py)."""
        now = self.clock()
        directory = Directory(session)
        message = (incoming.message_id, now) if incoming.message_id else None
        known = directory.rep_with_conversation(incoming.channel, incoming.user_id, message)
        if known is not None:
            rep, conversation, seen = known
            store = RepStore(session, rep)
        else:
            found = directory.rep_for_identity(incoming.channel, incoming.user_id)
            if found is None:
                enrolled = self.strangers.meet(directory, incoming, now)
                if enrolled.first_turn:
                    again, save = self.decide(session, incoming)
                    return TurnResult((*enrolled.replies, *again.replies), again.outcome), save
                return TurnResult(tuple(enrolled.replies)), None
            rep, store = found, RepStore(session, found)
            conversation = store.lock_conversation(now)
            seen = message is not None and store.seen_message(incoming.channel, *message)
        if seen:
            return TurnResult((), Outcome.DUPLICATE), None
        redeemed = self.strangers.redeem(directory, rep, incoming, now)
        if redeemed is not None:  # a known rep given someone's code (a manager's)
            return TurnResult(tuple(redeemed.replies)), None
        playbook_id = conversation.playbook or self.library.catalog.free_text.playbook
        playbook = self.library.playbooks.get(playbook_id)
        if playbook is None:  # the playbook was removed since this conversation started
            conversation.playbook = conversation.step = None
            playbook = self.library.playbooks[self.library.catalog.free_text.playbook]
        turn = Turn(store=store, rep=rep, library=self.library, settings=self.settings,
                    now=now, playbook=playbook, vars=dict(conversation.vars),
                    state=conversation.engine)
        runner = Runner(turn, conversation)
        outcome = self._route(Router(runner), turn, conversation.step, incoming)
        if outcome is Outcome.OK and not turn.replies and not turn.notices \
                and not turn.forgotten:  # a flow that ended with nothing to say ("完成")
            turn.say(turn.message("flow_done"))
        replies = one_numbered_list([*turn.notices, *turn.replies], turn)
        replies = finish_documents(replies, turn.library, turn.locale, turn.now,
                                   self.documents)
        remember_shown(turn, replies)
        # after /forget there is no conversation left to save
        save = None if turn.forgotten else conversation.saving(turn.vars, now)
        return TurnResult(tuple(replies), outcome), save

    def _route(self, router: Router, turn: Turn, step: str | None,
               incoming: Incoming) -> Outcome:
        if incoming.opened:
            router.opened()
            return Outcome.OK
        if incoming.button is not None:
            turn.state.dismissing = turn.state.dismissing_at = None  # asked again if need be
            return router.button(incoming.button)
        text = normalise(incoming.text or "")
        if not text:
            router.refuse(turn.message("empty_message"))
            return Outcome.OK
        source = f"{turn.playbook.id}/{step}" if step is not None else "free text"
        # the answer to "why is this not an adverse event?", typed (trial F)
        asked, at = turn.state.dismissing, turn.state.dismissing_at
        turn.state.dismissing = turn.state.dismissing_at = None
        if asked is not None and at is not None and turn.now - at <= REASON_WAIT \
                and len(text) <= self.settings.max_text_chars \
                and router.dismissal_reason(asked, text, source):
            return Outcome.OK
        text = check_at_door(turn, text, source)
        if len(text) > GUARDED_CHARS:  # more than the guard reads: no phone note is this long
            router.refuse(turn.message("message_too_long", limit=GUARDED_CHARS))
            return Outcome.OK
        if len(text) > self.settings.max_text_chars:  # guarded whole above, then kept whole
            router.too_long(text)
            return Outcome.OK
        return router.typed(text, incoming.sent_at)


def one_numbered_list(replies: list[Reply], turn: Turn) -> list[Reply]:
    """A door question (is this an adverse event?) asked in the middle of a flow puts its
    answers under the flow's question, after its options: a rep who types numbers (console,
    WeCom) sees one numbered list, so "1" can only mean one thing."""
    asking = [i for i, r in enumerate(replies[:len(turn.notices)]) if r.choices]
    later = [i for i, r in enumerate(replies) if r.choices and i >= len(turn.notices)]
    if not asking or not later:
        return replies
    out = list(replies)
    extra = tuple(c for i in asking for c in replies[i].choices)
    for i in asking:
        out[i] = replace(replies[i], choices=())
    last = later[-1]
    out[last] = replace(replies[last], choices=(*replies[last].choices, *extra))
    prompt = turn.state.prompt
    if prompt is not None and prompt.text == replies[last].text:
        prompt.choices = [*prompt.choices, *(Shown(key=c.key, label=c.label) for c in extra)]
    return out
