"""handle(incoming) -> TurnResult: lock the rep's turn, run it in one transaction, retry once.

The engine knows no channel. One turn is one database transaction: the conversation row is
locked first (a row lock on PostgreSQL, the write lock on SQLite), so one rep's messages are
handled strictly in order even across worker processes, and whatever a turn records — an
answer, a note, the step the rep is now on — commits together or not at all.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from coach import claims, nudges
from coach.compliance.guard import GuardResult
from coach.documents.shelf import DocumentShelf
from coach.library import Library
from coach.messages import Incoming, Reply
from coach.nudges import DueNudge
from coach.ordering import KeyedLocks
from coach.reminders import DueReminder, claim_due
from coach.settings import EngineSettings
from coach.store.conversation import Save
from coach.store.database import Database
from coach.store.models import ProcessedMessage, Rep
from coach.store.outage import unreachable
from coach.store.repo import Directory
from coach.templating import TemplateProblem
from coach.turn.door import GUARDED_CHARS, normalise
from coach.turn.failed_report import keep_report_alone
from coach.turn.pipeline import TurnPipeline
from coach.turn.result import Outcome, TurnResult
from coach.turn.strangers import hint_locale

log = logging.getLogger(__name__)

QUOTED_CHARS = 60  # of a message not saved, quoted back so the rep can send it again
Clock = Callable[[], datetime]
#: Stores a decided turn's replies, and writes its conversation state (`Save`, None: nothing
#: to write), in the turn's transaction (coach/mailbox.py).
Keep = Callable[[Session, TurnResult, Save | None], None]
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
M = TypeVar("M")
#: Puts one claimed message in the outbox, in the claim's transaction (coach/claims.py).
Post = Callable[[Session, M], T]


def _as_is(_session: Session, item: M) -> M:
    return item


def _run_and_keep(decide: Callable[[Session, Incoming], tuple[TurnResult, Save | None]],
                  keep: Keep, session: Session, incoming: Incoming) -> TurnResult:
    result, save = decide(session, incoming)
    keep(session, result, save)
    return result


def utc_now() -> datetime:
    """Naive UTC: what the store keeps, the same on SQLite and PostgreSQL."""
    return datetime.utcnow().replace(microsecond=0)


def _playbook_broke(failure: BaseException | None) -> bool:
    """Whether `failure` (or what caused it) is a playbook text that cannot render."""
    seen = 0
    while failure is not None and seen < 10:
        if isinstance(failure, TemplateProblem):
            return True
        failure, seen = failure.__cause__ or failure.__context__, seen + 1
    return False


class Engine:
    """The channel-agnostic coach. Channels call `handle` and render what it returns."""

    def __init__(self, database: Database, library: Library,
                 settings: EngineSettings | None = None, clock: Clock = utc_now,
                 documents: DocumentShelf | None = None) -> None:
        self.database = database
        self.library = library
        self.settings = settings or EngineSettings()
        self.clock = clock
        # documents go out as signed links when a document server runs (`repcoach run`
        # with `documents.enabled`), as files otherwise (the console)
        self.documents = documents
        self.pipeline = TurnPipeline(library, self.settings, lambda: self.clock(), documents)
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()

    def reload(self, library: Library) -> None:
        """Run a new, already validated set of playbooks from the next turn on. A turn in
        flight finishes on the pipeline it started with; the swap is one assignment, so no
        turn sees half of each set."""
        self.library = library
        self.pipeline = TurnPipeline(library, self.settings, lambda: self.clock(),
                                     self.documents)

    async def handle(self, incoming: Incoming, keep: Keep | None = None) -> TurnResult:
        """Handle one message; one identity's messages run one at a time, in arrival order.

        `keep(session, result, save)` runs inside the turn's transaction once the turn is
        decided, and writes the conversation's state (`save`) itself: a channel's mailbox
        stores the replies there, so they commit with the turn or not at all, and sends the
        write with its own statement (coach/mailbox.py)."""
        work: Callable[[Session, Incoming], TurnResult] = self.pipeline.run
        if keep is not None:
            work = functools.partial(_run_and_keep, self.pipeline.decide, keep)
        async with self._locks.hold((incoming.channel, incoming.user_id)):
            failure: Exception | None = None
            for attempt in (1, 2):
                try:
                    return await self.database.run_in_transaction(work, incoming)
                except Exception as exc:
                    failure = exc
                    if not self._run_again(exc, attempt, incoming):
                        break
            result = self._guarded(incoming)
            deadline = None
            if self._report_to_keep(failure, result):
                assert result is not None
                try:
                    deadline = await self.database.run_in_transaction(
                        keep_report_alone, self.settings, incoming, result, self.clock())
                except Exception as exc:  # the rep is told it is not kept: reports it himself
                    log.error("the report in a failed turn could not be kept alone either",
                              exc_info=exc)
            return self._saved_nothing(incoming, failure, result, deadline)

    async def call(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run blocking store work (the reminder loop's) from async code, queued with the
        reps' turns on SQLite, in a thread on PostgreSQL (`Database.run_blocking`)."""
        return await self.database.run_blocking(work, *args, **kwargs)

    def handle_sync(self, incoming: Incoming) -> TurnResult:
        """The same turn, for callers without an event loop (console, benchmarks)."""
        failure: Exception | None = None
        for attempt in (1, 2):
            try:
                with self.database.transaction() as session:
                    return self.pipeline.run(session, incoming)
            except Exception as exc:
                failure = exc
                if not self._run_again(exc, attempt, incoming):
                    break
        result = self._guarded(incoming)
        deadline = None
        if self._report_to_keep(failure, result):
            assert result is not None
            try:
                with self.database.transaction() as session:
                    deadline = keep_report_alone(session, self.settings, incoming, result,
                                                 self.clock())
            except Exception as exc:  # the rep is told it is not kept: reports it himself
                log.error("the report in a failed turn could not be kept alone either",
                          exc_info=exc)
        return self._saved_nothing(incoming, failure, result, deadline)

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
            log.warning("database unavailable, nothing saved: %s",
                        unreachable(exc) or exc.__class__.__name__)
        else:
            log.error("turn failed for %s:%s", incoming.channel, incoming.user_id,
                      exc_info=exc)
        return False

    def _guarded(self, incoming: Incoming) -> GuardResult | None:
        """What the guard finds in the text of a message whose turn failed."""
        guard = self.library.guard
        if not incoming.text or guard is None:
            return None
        return guard.check(normalise(incoming.text)[:GUARDED_CHARS])

    @staticmethod
    def _report_to_keep(failure: Exception | None, result: GuardResult | None) -> bool:
        """Whether the failed turn's message holds a report to store on its own: when the
        turn broke on a bug, not on the database (coach/turn/failed_report.py)."""
        return (result is not None and (result.adverse_event or result.possible_event)
                is not None and failure is not None
                and not isinstance(failure, SQLAlchemyError))

    def _saved_nothing(self, incoming: Incoming, failure: Exception | None,
                       result: GuardResult | None, kept: datetime | None) -> TurnResult:
        """"Nothing was saved", quoting what the rep typed (personal data removed) so they
        can send it again, and saying so when it reads like a safety report: unless the
        report alone was kept (`kept`, its deadline), the rep must not take it as reported.
        When a playbook text broke (a template naming something that does not exist),
        sending again cannot help: the reply says so and asks the rep to tell whoever runs
        the bot."""
        locale = hint_locale(incoming.locale_hint, self.settings.default_locale)
        typed, report = "", False
        if result is not None:
            typed = result.redacted.strip()
            typed = typed if len(typed) <= QUOTED_CHARS else typed[:QUOTED_CHARS] + "…"
            report = (result.adverse_event or result.possible_event) is not None
        deadline = "" if kept is None else (
            kept + timedelta(hours=self.settings.utc_offset_hours)).strftime("%Y-%m-%d %H:%M")
        return TurnResult((Reply(self.library.message(
            "saved_nothing", locale, typed=typed, report=report, deadline=deadline,
            kind="playbook" if _playbook_broke(failure) else "store",
            hours=self.settings.adverse_event_hours)),), Outcome.NOT_SAVED)

    # administration -------------------------------------------------------------------------
    def enroll(self, name: str, *, role: str = "rep", team: str | None = None,
               locale: str | None = None, wecom_user: str | None = None) -> str:
        """Create a rep and return a one-time enrollment code for `/start CODE`. With
        `wecom_user` the WeCom UserID is bound at once (the admin knows who it is): that
        member can write to the app straight away, a revoked one again."""
        now = self.clock()
        with self.database.transaction() as session:
            directory = Directory(session)
            rep = directory.create_rep(name, now, locale=locale or self.settings.default_locale,
                                       role=role, team=team)
            if wecom_user:
                directory.bind_identity(rep, "wecom", wecom_user, now)
            return directory.issue_code(rep, now, timedelta(days=self.settings.enroll_code_days))

    def claim_reminders(self, channels: list[str], post: Post[DueReminder, T]) -> list[T]:
        """Claim the reminders due now (follow-ups, adverse events near their deadline, those
        past it for the managers), addressed to each person's identity on the first listed
        channel, and `post` each to the outbox in the same transaction (coach/claims.py)."""
        now = self.clock()
        return claims.claim(self.database, functools.partial(
            claim_due, library=self.library, now=now, channels=channels,
            offset_hours=self.settings.utc_offset_hours), post)

    def claim_nudge(self, rep_id: int, channels: list[str], post: Post[DueNudge, T]
                    ) -> list[T]:
        """One rep's weekly nudge, claimed and posted (none: nothing to propose, or another
        worker took the week)."""
        return claims.claim(self.database, functools.partial(
            nudges.claim_nudge, library=self.library, rep_id=rep_id, now=self.clock(),
            channels=channels, review_days=self.settings.review_days,
            stalled_visits=self.settings.stalled_visits), post)

    def due_reminders(self, channels: list[str]) -> list[DueReminder]:
        """`claim_reminders` handing them to the caller, not to an outbox (tests, tools):
        claimed and marked sent as they are returned."""
        return self.claim_reminders(channels, _as_is)

    def reps_due_for_nudge(self) -> list[int]:
        return nudges.reps_due(self.database, self.clock())

    def prune_processed(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget platform message ids older than `older_than`: no platform redelivers a
        message after days (Telegram within 24 hours, WeCom within seconds), and the table
        would otherwise grow by every message ever received. Returns how many went."""
        with self.database.transaction() as session:
            result = session.execute(delete(ProcessedMessage).where(
                ProcessedMessage.created_at < self.clock() - older_than))
            return int(getattr(result, "rowcount", 0) or 0)

    def revoke(self, *, name: str | None = None, rep_id: int | None = None) -> list[str]:
        """Deactivate a rep (by id, or by name when it is unique); their data stays for the
        company's records. Their channel identities stay bound to them, refused on every
        channel (no fresh account on the next message) until an admin enrolls them again.
        Returns who was revoked."""
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
            return [f"{rep.id} {rep.name}"]

    def command_menu(self, locale: str) -> list[tuple[str, str]]:
        """(command, description) pairs for a channel's command menu."""
        return [(c.name, c.description.get(locale)) for c in self.library.catalog.commands]

