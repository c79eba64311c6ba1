"""handle(incoming) -> replies: find the rep, lock their conversation, run steps, save.

The engine knows no channel. One turn is one database transaction: the conversation row is
locked first (a row lock on PostgreSQL, the write lock on SQLite), so one rep's messages are
handled strictly in order even across worker processes, and whatever a turn records — an
answer, a note, the step the rep is now on — commits together or not at all.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import unicodedata
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from coach import nudges
from coach.context import Turn
from coach.library import Library
from coach.messages import Choice, Incoming, Reply
from coach.nudges import SNOOZE, WEEK, DueNudge, parse_nudge_key
from coach.reminders import (
    LOG,
    RESCHEDULE,
    DueReminder,
    due,
    due_adverse_events,
    mark_sent,
    parse_adverse_event_key,
    parse_reminder_key,
)
from coach.settings import EngineSettings
from coach.steps import LAST_PROMPT, REDACTED, Runner, parse_choice_key
from coach.store.conversation import ConversationState
from coach.store.database import Database
from coach.store.models import Identity, Rep
from coach.store.repo import Directory, RepStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)
_CONTROL = {cat for cat in ("Cc", "Cs", "Co", "Cn")}


P = ParamSpec("P")
R = TypeVar("R")

def utc_now() -> datetime:
    """Naive UTC: what the store keeps, the same on SQLite and PostgreSQL."""
    return datetime.utcnow().replace(microsecond=0)


def clean_text(text: str) -> str:
    """Drop control and unassigned characters (PostgreSQL rejects NUL) but keep new lines."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _CONTROL
    ).strip()


class Engine:
    """The channel-agnostic coach. Channels call `handle` and render what it returns."""

    def __init__(self, database: Database, library: Library,
                 settings: EngineSettings | None = None, clock: Clock = utc_now) -> None:
        self.database = database
        self.library = library
        self.settings = settings or EngineSettings()
        self.clock = clock
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message; one identity's messages run one at a time, in arrival order."""
        key = (incoming.channel, incoming.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            for attempt in (1, 2):
                try:
                    return await self.database.run_in_transaction(self._turn, incoming)
                except Exception as exc:
                    if not self._run_again(exc, attempt, incoming):
                        break
            return [self._saved_nothing(incoming)]

    async def call(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run blocking store work (the reminder loop's) from async code, queued with the
        reps' turns on SQLite, in a thread on PostgreSQL (`Database.run_blocking`)."""
        return await self.database.run_blocking(work, *args, **kwargs)

    def handle_sync(self, incoming: Incoming) -> list[Reply]:
        """The same turn, for callers without an event loop (console, benchmarks)."""
        for attempt in (1, 2):
            try:
                with self.database.transaction() as session:
                    return self._turn(session, incoming)
            except Exception as exc:
                if not self._run_again(exc, attempt, incoming):
                    break
        return [self._saved_nothing(incoming)]

    def _run_again(self, exc: Exception, attempt: int, incoming: Incoming) -> bool:
        """Whether a failed turn is worth running once more; logs the failure either way.

        Only a turn that found its pooled connection dead (the server restarted since) is:
        nothing of it was committed and no reply has left yet. This replaces pinging the
        server before every turn, a round trip each time. Anything else is answered
        "nothing was saved": the rep can send again."""
        if isinstance(exc, DBAPIError) and exc.connection_invalidated and attempt == 1:
            log.info("database connection lost; running the turn on a new one")
            return True
        if isinstance(exc, SQLAlchemyError):
            log.warning("database unavailable, nothing saved: %s", exc.__class__.__name__)
        else:
            log.error("turn failed for %s:%s", incoming.channel, incoming.user_id,
                      exc_info=exc)
        return False

    def _saved_nothing(self, incoming: Incoming) -> Reply:
        locale = _hint_locale(incoming.locale_hint, self.settings.default_locale)
        return Reply(self.library.message("saved_nothing", locale))

    # the turn ---------------------------------------------------------------------------------
    def _turn(self, session: Session, incoming: Incoming) -> list[Reply]:
        now = self.clock()
        directory = Directory(session)
        text = clean_text(incoming.text) if incoming.text is not None else None
        known = directory.rep_with_conversation(incoming.channel, incoming.user_id)
        if known is not None:
            rep, conversation = known
            store = RepStore(session, rep)
        else:
            found = directory.rep_for_identity(incoming.channel, incoming.user_id)
            if found is None:
                return self._stranger(directory, incoming, text, now)
            rep, store = found, RepStore(session, found)
            conversation = store.lock_conversation(now)
        if incoming.message_id and store.seen_message(incoming.channel, incoming.message_id, now):
            return []
        playbook_id = conversation.playbook or self.library.catalog.free_text.playbook
        playbook = self.library.playbooks.get(playbook_id)
        if playbook is None:  # the playbook was removed since this conversation started
            conversation.playbook = conversation.step = None
            playbook = self.library.playbooks[self.library.catalog.free_text.playbook]
        turn = Turn(store=store, rep=rep, library=self.library, settings=self.settings,
                    now=now, playbook=playbook, vars=copy.deepcopy(conversation.vars))
        runner = Runner(turn, conversation)
        self._route(runner, conversation, incoming, text)
        if not turn.forgotten:  # after /forget there is no conversation left to save
            conversation.save(session, turn.vars, now)
        return turn.replies

    def _route(self, runner: Runner, conversation: ConversationState, incoming: Incoming,
               text: str | None) -> None:
        turn = runner.turn
        if incoming.opened:
            waiting = turn.vars.get(LAST_PROMPT)
            if conversation.step is not None and isinstance(waiting, dict):
                turn.replies.append(Reply(str(waiting["text"]), tuple(
                    Choice(str(key), str(label)) for key, label in waiting["choices"])))
            else:
                self._command(runner, conversation, "menu", None)
            return
        if incoming.button is not None:
            self._button(runner, conversation, incoming.button)
            return
        if text is None or not text:
            turn.say(turn.message("empty_message"))
            return
        if len(text) > self.settings.max_text_chars:
            turn.say(turn.message("message_too_long", limit=self.settings.max_text_chars))
            return
        command = _COMMAND.match(text)
        if command:
            self._command(runner, conversation, command.group(1).lower(), command.group(2))
            return
        text = self._redact(turn, text)
        if conversation.step is not None:
            runner.answer(text, None)
            return
        keyword = self.library.by_keyword.get(text.lower())
        if keyword is not None:
            runner.start(keyword.id)
            return
        free = self.library.catalog.free_text
        runner.start(free.playbook, {free.save: text})

    def _redact(self, turn: Turn, text: str) -> str:
        """Personal data and per-doctor prescription numbers leave typed text before it is
        kept anywhere, even in the conversation row; what was removed is remembered so the
        rep can be told when the note is saved."""
        guard = self.library.guard
        if guard is None:
            return text
        result = guard.check(text)
        if result.redactions:
            kinds = set(turn.vars.get(REDACTED, [])) | {r.category for r in result.redactions}
            turn.vars[REDACTED] = sorted(kinds)
        return result.redacted

    def _button(self, runner: Runner, conversation: ConversationState, key: str) -> None:
        reminder = parse_reminder_key(key)
        if reminder is not None:
            self._reminder_button(runner, *reminder)
            return
        event_id = parse_adverse_event_key(key)
        if event_id is not None:
            event = runner.turn.store.adverse_event(event_id)
            if event is None or event.status == "forwarded":
                runner.turn.replies.append(Reply(runner.turn.message("stale_button"), toast=True))
                return
            event.status, event.forwarded_at = "forwarded", runner.turn.now
            runner.turn.say(runner.turn.message("adverse_event_forwarded"))
            return
        nudge = parse_nudge_key(key)
        if nudge is not None:
            self._nudge_button(runner, nudge)
            return
        parsed = parse_choice_key(key)
        if parsed is None or conversation.step is None or parsed[0] != conversation.seq:
            runner.turn.replies.append(
                Reply(runner.turn.message("stale_button"), toast=True)
            )
            return
        runner.answer(None, parsed[1])

    def _reminder_button(self, runner: Runner, followup_id: int, action: str) -> None:
        """Log, reschedule or drop a reminded follow-up: only the rep's own, only once."""
        turn = runner.turn
        followup = turn.store.followup(followup_id)
        if followup is None or followup.status in ("done", "dropped"):
            turn.replies.append(Reply(turn.message("stale_button"), toast=True))
            return
        context = {"account": followup.account_id, "followup": followup.id}
        if action == LOG:
            runner.finish()
            runner.start(self.library.catalog.free_text.playbook, context)
        elif action == RESCHEDULE:
            runner.finish()
            runner.start(self.library.catalog.reschedule, context)
        else:
            followup.status = "dropped"
            turn.say(turn.message("reminder_dropped"))

    def _nudge_button(self, runner: Runner, nudge: int | str) -> None:
        """Re-evaluate a proposed customer now, or snooze the weekly nudge."""
        turn = runner.turn
        if nudge == SNOOZE:
            turn.rep.nudge_after = turn.now + WEEK
            turn.say(turn.message("nudge_snoozed"))
            return
        account = turn.store.account(nudge)
        if account is None or account.archived:
            turn.replies.append(Reply(turn.message("stale_button"), toast=True))
            return
        runner.finish()
        runner.start(self.library.catalog.review, {"account": account.id})

    def _command(self, runner: Runner, conversation: ConversationState, name: str,
                 argument: str | None) -> None:
        turn = runner.turn
        if name == "cancel":
            was_active = conversation.step is not None
            runner.finish()
            turn.say(turn.message("cancelled" if was_active else "nothing_to_cancel"))
            return
        playbook = self.library.by_command.get(name)
        if playbook is None:
            turn.say(turn.message("unknown_command", command=name))
            return
        runner.finish()
        runner.start(playbook.id, {"command_args": (argument or "").strip()[:200]})

    # people we do not know yet -------------------------------------------------------------
    def _stranger(self, directory: Directory, incoming: Incoming, text: str | None,
                  now: datetime) -> list[Reply]:
        """Enroll with `/start CODE`, auto-enroll trusted local channels, refuse the rest.

        Nothing of a stranger's is stored: no rep, no identity, no message id.
        """
        locale = _hint_locale(incoming.locale_hint, self.settings.default_locale)
        if incoming.channel in self.settings.auto_enroll_channels:
            rep = directory.create_rep(incoming.display_name or incoming.user_id, now,
                                       locale=locale)
            directory.bind_identity(rep, incoming.channel, incoming.user_id, now)
            command = _COMMAND.match(text or "")
            if incoming.opened or (command and command.group(1).lower() in ("start", "menu")):
                return self._welcome(directory.session, rep, incoming, now)
            greeting = Reply(self.library.message("welcome", rep.locale,
                                                  rep={"name": rep.name, "locale": rep.locale}))
            return [greeting, *self._turn(directory.session, incoming)]
        command = _COMMAND.match(text or "")
        if command and command.group(1).lower() == "start" and command.group(2):
            owner = directory.redeem_code(command.group(2).strip(), now)
            if owner is None:
                return [Reply(self.library.message("enroll_bad_code", locale))]
            directory.bind_identity(owner, incoming.channel, incoming.user_id, now)
            if incoming.locale_hint:
                owner.locale = locale
            return [Reply(self.library.message("enroll_ok", owner.locale,
                                               rep={"name": owner.name, "locale": owner.locale})),
                    *self._welcome(directory.session, owner, incoming, now)]
        return [Reply(self.library.message("not_enrolled", locale))]

    def _welcome(self, session: Session, rep: Rep, incoming: Incoming | None,
                 now: datetime) -> list[Reply]:
        """A new rep's first turn: the menu, then (console) whatever they typed first."""
        store = RepStore(session, rep)
        conversation = store.lock_conversation(now)
        menu = self.library.by_command.get("start") or self.library.by_command.get("menu")
        turn = Turn(store=store, rep=rep, library=self.library, settings=self.settings,
                    now=now, playbook=next(iter(self.library.playbooks.values())), vars={})
        turn.say(turn.message("welcome"))
        runner = Runner(turn, conversation)
        if incoming is not None and incoming.message_id:
            store.seen_message(incoming.channel, incoming.message_id, now)
        if menu is not None:
            runner.start(menu.id)
        conversation.save(session, turn.vars, now)
        return turn.replies

    # administration -------------------------------------------------------------------------
    def enroll(self, name: str, *, role: str = "rep", team: str | None = None,
               locale: str | None = None) -> str:
        """Create a rep and return a one-time enrollment code for `/start CODE`."""
        now = self.clock()
        with self.database.transaction() as session:
            directory = Directory(session)
            rep = directory.create_rep(name, now, locale=locale or self.settings.default_locale,
                                       role=role, team=team)
            return directory.issue_code(rep, now, timedelta(days=self.settings.enroll_code_days))

    def due_reminders(self, channels: list[str]) -> list[DueReminder]:
        """Follow-ups due now and adverse events near their deadline, addressed to each rep's
        identity on the first listed channel."""
        now = self.clock()
        return [*due(self.database, self.library, now, channels),
                *due_adverse_events(self.database, self.library, now, channels,
                                    self.settings.utc_offset_hours)]

    def due_nudges(self, channels: list[str]) -> list[DueNudge]:
        """Weekly re-evaluation proposals for reps whose week has come round."""
        return [nudge for rep_id in self.reps_due_for_nudge()
                if (nudge := self.nudge_for(rep_id, channels)) is not None]

    def reps_due_for_nudge(self) -> list[int]:
        return nudges.reps_due(self.database, self.clock())

    def nudge_for(self, rep_id: int, channels: list[str]) -> DueNudge | None:
        """One rep's weekly nudge (None: nothing to propose, or another worker took it)."""
        return nudges.nudge_for(self.database, self.library, rep_id, self.clock(), channels,
                                self.settings.review_days, self.settings.stalled_visits)

    def mark_reminded(self, followup_ids: list[int]) -> None:
        mark_sent(self.database, followup_ids, self.clock())

    def revoke(self, *, name: str | None = None, rep_id: int | None = None) -> list[str]:
        """Deactivate a rep (by id, or by name when it is unique) and unbind their channel
        identities; their data stays for the company's records. Returns who was revoked."""
        with self.database.transaction() as session:
            query = select(Rep).where(Rep.active.is_(True))
            query = query.where(Rep.id == rep_id) if rep_id is not None else query.where(
                Rep.name == name)
            found = session.execute(query).scalars().all()
            if len(found) != 1:
                raise LookupError(f"{len(found)} active reps match; use --id" if found
                                  else "no active rep matches")
            rep = found[0]
            rep.active = False
            session.execute(delete(Identity).where(Identity.rep_id == rep.id))
            return [f"{rep.id} {rep.name}"]

    def command_menu(self, locale: str) -> list[tuple[str, str]]:
        """(command, description) pairs for a channel's command menu."""
        return [(c.name, c.description.get(locale)) for c in self.library.catalog.commands]


def _hint_locale(hint: str | None, default: str) -> str:
    if hint is None:
        return default
    return "en" if hint.lower().startswith("en") else "zh"

