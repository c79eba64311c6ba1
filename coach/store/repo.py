"""Queries, always scoped to one rep.

`RepStore` is built for one rep and every method filters on that rep's id: there is no way to
ask it for another rep's account, note or follow-up, which is what keeps reps isolated even
when a button key or an id is forged. Rep-independent lookups (identities, enrollment, due
reminders) live in `Directory`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from coach.claims import due_rows
from coach.names import name_key
from coach.store import built
from coach.store.conversation import COLUMNS as CONVERSATION_COLUMNS
from coach.store.conversation import ConversationState
from coach.store.models import (
    CLOSED_REPORTS,
    OPEN_FOLLOWUPS,
    Account,
    AdverseEvent,
    ComplianceRecord,
    Conversation,
    EnrollAttempt,
    EnrollmentCode,
    FollowUp,
    Goal,
    Identity,
    Lesson,
    Note,
    Objection,
    Plan,
    ProcessedMessage,
    QuizResult,
    Rep,
    Screening,
    StageChange,
    StyleAssessment,
    Suggestion,
)

RECENT_ACCOUNTS = 5
#: Reads for more accounts than this (a rep's whole book) go to the database as they are,
#: not through the per-turn cache: 15,000 customers' notes are not worth holding.
CACHED_ACCOUNTS = 100
Row = TypeVar("Row", bound="_Dated")
MAX_ATTEMPTS_PER_IDENTITY = 5  # failed codes an hour, per channel identity
MAX_ATTEMPTS_OVERALL = 200  # failed codes an hour, from everyone together


_LAST_CHARACTER = "\U0010ffff"  # sorts after every character: a prefix's upper bound
_FIRST_CHINESE = "\u2e80"  # name keys below this start with a Latin letter or a digit


class AccountEntry(NamedTuple):
    """An account's identity and place, without the rest of its row."""

    id: int
    name: str
    hospital: str | None
    department: str | None
    title: str | None


def customer_label(account: Account | None) -> str | None:
    """How a safety record names its customer ("李主任 · 泰山医院"), kept as written then."""
    if account is None:
        return None
    return " · ".join(p for p in (account.name, account.hospital) if p)[:200]


#: Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def normal_code(code: str) -> str:
    """A code as typed, in its one spelling: case, dashes and look-alikes do not matter."""
    return code.strip().upper().translate(_READ_AS)


def hash_code(code: str) -> str:
    return hashlib.sha256(normal_code(code).encode("utf-8")).hexdigest()


#: The channel of the fingerprints /forget leaves (Directory.mark_erased): never delivered to.
ERASED_CHANNEL = "erased"


def erased_print(channel: str, external_id: str) -> str:
    """A one-way fingerprint of a channel identity: enough to recognise the person writing
    again, not to tell who they are."""
    return hashlib.sha256(f"{channel}\n{external_id}".encode()).hexdigest()


class Directory:
    """Lookups that come before a rep is known: identities, enrollment, due reminders."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def rep_for_identity(self, channel: str, external_id: str) -> Rep | None:
        row = self.session.execute(
            select(Rep)
            .join(Identity, Identity.rep_id == Rep.id)
            .where(Identity.channel == channel, Identity.external_id == external_id)
        ).scalar_one_or_none()
        return row if row is not None and row.active else None

    def rep_with_conversation(self, channel: str, external_id: str,
                              message: tuple[str, datetime] | None = None
                              ) -> tuple[Rep, ConversationState, bool] | None:
        """The active rep behind an identity and their conversation, its row locked: every
        turn of a known rep starts here. None when there is no such rep or the conversation
        row does not exist yet (then `rep_for_identity` and `RepStore.lock_conversation`).

        With `message` (the platform's message key, and now) the message is also recorded
        as processed once the row is locked, as `RepStore.seen_message` does; the flag says
        it was recorded before (a redelivery: handle nothing). On PostgreSQL that is one
        statement, one round trip where two were (`_LOCK_AND_RECORD`): the insert reads the
        locked row, so it runs after the lock, and only when there is a row to lock."""
        values: dict[str, Any] = {"channel": channel, "external_id": external_id}
        dialect = self.session.get_bind().dialect.name
        if message is not None and dialect == "postgresql":
            values.update(message_key=message[0], created_at=message[1])
            row = self.session.execute(_LOCK_AND_RECORD, values).one_or_none()
            if row is None:
                return None
            rep = row[0]
            return rep, ConversationState.of(rep.id, *row[1:-1]), not row[-1]
        row = self.session.execute(_REP_WITH_CONVERSATION, values).one_or_none()
        if row is None:
            return None
        rep = row[0]
        seen = message is not None and RepStore(self.session, rep).seen_message(
            channel, message[0], message[1])
        return rep, ConversationState.of(rep.id, *row[1:]), seen

    def create_rep(self, name: str, now: datetime, *, locale: str = "zh", role: str = "rep",
                   team: str | None = None) -> Rep:
        rep = Rep(name=name, locale=locale, role=role, team=team, active=True, created_at=now)
        self.session.add(rep)
        self.session.flush()
        return rep

    def bind_identity(self, rep: Rep, channel: str, external_id: str, now: datetime) -> None:
        """Bind the identity to `rep`; one that belonged to a revoked rep moves over (an
        admin enrolled the person again)."""
        existing = self.session.execute(
            select(Identity).where(Identity.channel == channel,
                                   Identity.external_id == external_id)
        ).scalar_one_or_none()
        if existing is not None:
            existing.rep_id, existing.created_at = rep.id, now
        else:
            self.session.add(Identity(rep_id=rep.id, channel=channel, external_id=external_id,
                                      created_at=now))
        # enrolled again after /forget: nothing left to tell them
        self.session.execute(delete(Identity).where(
            Identity.channel == ERASED_CHANNEL,
            Identity.external_id == erased_print(channel, external_id)))
        self.session.flush()

    def mark_erased(self, rep: Rep, now: datetime) -> None:
        """After /forget: each of `rep`'s identities leaves only a one-way fingerprint on
        the ERASED channel (no reminder or digest is ever sent there), so that the person
        writing again is told their data was erased rather than silently given a new
        account (trial D); the identities themselves are deleted by the caller."""
        for identity in self.identities_of(rep.id):
            if identity.channel == ERASED_CHANNEL:
                continue
            print_ = erased_print(identity.channel, identity.external_id)
            existing = self.session.execute(select(Identity).where(
                Identity.channel == ERASED_CHANNEL, Identity.external_id == print_)
            ).scalar_one_or_none()
            if existing is None:
                self.session.add(Identity(rep_id=rep.id, channel=ERASED_CHANNEL,
                                          external_id=print_, created_at=now))
            else:
                existing.rep_id, existing.created_at = rep.id, now

    def erased_rep(self, channel: str, external_id: str) -> Rep | None:
        """The anonymised rep this identity's data was erased from, if it was (/forget)."""
        return self.session.execute(
            select(Rep).join(Identity, Identity.rep_id == Rep.id)
            .where(Identity.channel == ERASED_CHANNEL,
                   Identity.external_id == erased_print(channel, external_id))
        ).scalars().first()

    def is_revoked(self, channel: str, external_id: str) -> bool:
        """Whether the identity belongs to a rep whose access was taken away."""
        return self.revoked_rep(channel, external_id) is not None

    def revoked_rep(self, channel: str, external_id: str) -> Rep | None:
        """The rep whose access was taken away behind the identity, if that is whose it is."""
        return self.session.execute(
            select(Rep).join(Identity, Identity.rep_id == Rep.id)
            .where(Identity.channel == channel, Identity.external_id == external_id,
                   Rep.active.is_(False))
        ).scalars().first()

    def issue_code(self, rep: Rep, now: datetime, valid_for: timedelta) -> str:
        """A fresh one-time code; only its hash is kept."""
        plain = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        code = f"{plain[:5]}-{plain[5:]}"
        self.session.add(
            EnrollmentCode(code_hash=hash_code(code), rep_id=rep.id, expires_at=now + valid_for)
        )
        self.session.flush()
        return code

    def too_many_attempts(self, channel: str, external_id: str, now: datetime) -> bool:
        """Whether this identity (5 an hour) or everyone together (200 an hour) has failed
        too often to try another code now."""
        since = now - timedelta(hours=1)
        mine = self.session.scalar(select(func.count(EnrollAttempt.id)).where(
            EnrollAttempt.channel == channel, EnrollAttempt.external_id == external_id,
            EnrollAttempt.at >= since)) or 0
        everyone = self.session.scalar(select(func.count(EnrollAttempt.id)).where(
            EnrollAttempt.at >= since)) or 0
        return mine >= MAX_ATTEMPTS_PER_IDENTITY or everyone >= MAX_ATTEMPTS_OVERALL

    def failed_attempt(self, channel: str, external_id: str, now: datetime) -> None:
        self.session.execute(delete(EnrollAttempt).where(
            EnrollAttempt.at < now - timedelta(days=1)))
        self.session.add(EnrollAttempt(channel=channel, external_id=external_id[:128], at=now))

    def code_holder(self, code: str) -> int | None:
        """The id of the rep a code (used or not) was issued to, or None for no such code."""
        return self.session.scalar(
            select(EnrollmentCode.rep_id).where(EnrollmentCode.code_hash == hash_code(code)))

    def redeem_code(self, code: str, now: datetime) -> Rep | None:
        """The rep a valid, unused, unexpired code belongs to; marks the code used."""
        row = self.session.execute(
            select(EnrollmentCode).where(EnrollmentCode.code_hash == hash_code(code))
            .with_for_update()
        ).scalar_one_or_none()
        if row is None or row.used_at is not None or row.expires_at < now:
            return None
        row.used_at = now
        rep = self.session.get(Rep, row.rep_id)
        return rep if rep is not None and rep.active else None

    def due_followups(self, now: datetime, channels: Sequence[str], limit: int = 100
                      ) -> Sequence[FollowUp]:
        """Open follow-ups due by `now`, oldest first, of active reps reachable on one of
        `channels` only: a revoked or unreachable rep's reminders can never fill a batch and
        starve everyone else's. Claimed for this transaction (coach/claims.py): another
        worker's pass skips them."""
        return self.session.execute(due_rows(
            select(FollowUp)
            .where(FollowUp.status == "open", FollowUp.remind_at <= now,
                   FollowUp.rep_id.in_(self.reachable_reps(channels)))
            .order_by(FollowUp.remind_at)
            .limit(limit))
        ).scalars().all()

    @staticmethod
    def reachable_reps(channels: Sequence[str]) -> Select[Any]:
        """Ids of active reps with an identity on one of `channels` (a subquery)."""
        return (select(Identity.rep_id).join(Rep, Rep.id == Identity.rep_id)
                .where(Rep.active.is_(True), Identity.channel.in_(list(channels))))

    def managers_of(self, team: str) -> Sequence[Rep]:
        """The active managers of `team`."""
        return self.session.execute(
            select(Rep).where(Rep.team == team, Rep.role == "manager", Rep.active.is_(True))
            .order_by(Rep.id)
        ).scalars().all()

    def escalation_targets(self, rep: Rep) -> list[Rep]:
        """Who hears of `rep`'s report that needs a person: the active managers of their
        team; for a manager's own report, the team's other managers, or the manager
        themself when there is none (docs/deploy.md, "Safety reports"). Nobody when the
        team has no manager: the safety team's `repcoach ae list` shows every open report."""
        managers = list(self.managers_of(rep.team)) if rep.team else []
        others = [m for m in managers if m.id != rep.id]
        return others or managers

    def identities_of(self, rep_id: int) -> Sequence[Identity]:
        return self.session.execute(
            select(Identity).where(Identity.rep_id == rep_id).order_by(Identity.id)
        ).scalars().all()


class _PerAccount(Generic[Row]):
    """Rows of some of the rep's accounts, read once a turn for several readers: after a
    visit is logged, the regression check, the crisis check, known facts and the hospital's
    events all read the notes of the same people; on PostgreSQL each round trip costs more
    than filtering a few hundred rows here. Rows are kept per account from `since`; a
    reader asking further back reads again. The store clears it when it writes such rows."""

    def __init__(self, statement: Callable[[bool], Select[Any]], *,
                 entities: bool = True) -> None:
        self.statement = statement  # the rows of `ids` (and from `since` on, when dated)
        self.entities = entities  # whole ORM objects, or plain rows of a few columns
        self.rows: dict[int, list[Row]] = {}
        self.since: datetime | None = None

    def clear(self) -> None:
        self.rows.clear()
        self.since = None

    def missing(self, ids: Iterable[int], since: datetime | None = None) -> list[int]:
        """The ids not read yet, for rows from `since` on (None: every row)."""
        if self.rows and (since is None) != (self.since is None):
            self.clear()
        if since is not None and self.since is not None and since < self.since:
            self.clear()
        if not self.rows:
            self.since = since
        return [i for i in dict.fromkeys(ids) if i not in self.rows]

    def fill(self, ids: Iterable[int], rows: Iterable[Row]) -> None:
        for account_id in ids:
            self.rows.setdefault(account_id, [])
        for row in rows:
            self.rows[row.account_id].append(row)

    def of(self, ids: Iterable[int]) -> list[Row]:
        return [row for i in dict.fromkeys(ids) for row in self.rows.get(i, [])]

    def read(self, session: Session, rep_id: int, account_ids: Iterable[int], *,
             since: datetime | None = None, window: datetime | None = None,
             limit: int | None = None) -> list[Row]:
        """The rep's rows for `account_ids`, from `since` on, newest first, at most
        `limit`: from what this turn read already where it can, reading only the accounts
        not read yet, from `window` on (earlier than `since`) for the readers that come
        later in the turn and look further back. More than CACHED_ACCOUNTS go straight to
        the database."""
        ids = list(dict.fromkeys(account_ids))
        if len(ids) > CACHED_ACCOUNTS:
            found = self._select(session, rep_id, ids, since)
        else:
            missing = self.missing(ids, since if window is None or since is None
                                   else min(since, window))
            if missing:
                self.fill(missing, self._select(session, rep_id, missing, self.since))
            found = [row for row in self.of(ids) if since is None or row.created_at >= since]
        found.sort(key=lambda row: (row.created_at, row.id), reverse=True)
        return found if limit is None else found[:limit]

    def _select(self, session: Session, rep_id: int, ids: list[int],
                since: datetime | None) -> list[Row]:
        result = session.execute(self.statement(since is not None),
                                 {"rep_id": rep_id, "ids": ids, "since": since})
        return list(result.scalars() if self.entities else result.all())


class _Dated(Protocol):
    """A row kept per account in a `_PerAccount`."""

    @property
    def id(self) -> int: ...

    @property
    def account_id(self) -> int: ...

    @property
    def created_at(self) -> datetime: ...


class NoteText(_Dated, Protocol):
    """A note as the readers of notes see it (regression, crisis, events, known facts):
    plain rows of four columns, not ORM objects, whose flags and redactions (JSON) would
    be decoded for nothing; read-only."""

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class TacticHistory:
    blocked: set[str]
    dismissals: list[tuple[str, str | None]]  # (tactic id, reason), newest first
    offered: int  # suggestions offered to the rep since `offered_since`, any customer


class RepStore:
    """Every read and write a turn makes, for one rep."""

    def __init__(self, session: Session, rep: Rep) -> None:
        self.session = session
        self.rep = rep
        self.rep_id = rep.id
        self._quiz_style: str | None = None  # see quiz_style()
        # per account: how many safety reports are open, read along with tactic_history
        self._open_report_counts: dict[int, int] = {}
        # the tips shown per account (newest first), read along with tactic_history()
        self._tips: dict[int, list[tuple[datetime, int, str]]] = {}
        self._entries: list[AccountEntry] | None = None  # see account_entries()
        self._entry_keys: list[str] = []  # their name keys, in the same order
        self._active: list[Account] | None = None  # see active_accounts()
        # per account, what several readers of one turn ask for (see _per_account)
        self._notes = _PerAccount[NoteText](built.note_texts, entities=False)
        self._open_objections = _PerAccount[Objection](built.open_objections)
        self._stage_changes = _PerAccount[StageChange](built.stage_changes)

    # conversation state -------------------------------------------------------------------
    def lock_conversation(self, now: datetime) -> ConversationState:
        """The rep's conversation, its row locked for this transaction (created on first
        use)."""
        row = self.session.execute(
            select(Conversation).where(Conversation.rep_id == self.rep_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            row = Conversation(rep_id=self.rep_id, playbook=None, step=None, vars={}, engine={},
                               seq=0, updated_at=now)
            self.session.add(row)
            self.session.flush()
        return ConversationState.of_row(row)

    def seen_message(self, channel: str, message_key: str, now: datetime) -> bool:
        """True when this platform message was handled before; otherwise records it."""
        dialect = self.session.get_bind().dialect.name
        inserted = self.session.execute(_RECORD_MESSAGE[dialect], {
            "channel": channel, "message_key": message_key, "rep_id": self.rep_id,
            "created_at": now}).first()
        return inserted is None

    # accounts -------------------------------------------------------------------------------
    def account(self, account_id: Any) -> Account | None:
        if not isinstance(account_id, int) or isinstance(account_id, bool):
            return None
        account = self.session.get(Account, account_id)  # no query when loaded this turn
        return account if account is not None and account.rep_id == self.rep_id else None

    def active_accounts(self) -> Sequence[Account]:
        """This rep's live accounts, most recently touched first (≈50 rows, index-backed).
        Read once a turn: the tip after a visit, known facts, the hospital's people and
        the crisis check all start from it (an account made, archived or merged this turn
        makes it read again; a touch only reorders it)."""
        if self._active is None:
            self._active = list(self.session.execute(
                built.active_accounts(), {"rep_id": self.rep_id}).scalars())
        return sorted(self._active, key=lambda a: (a.updated_at, a.id), reverse=True)

    def _accounts_changed(self) -> None:
        self._entries = self._active = None

    def account_entries(self, family: str | None = None) -> list[AccountEntry]:
        """This rep's live accounts as names and places only, most recent first: what
        matching a name needs. A rep with thousands of customers pays for a few columns a
        row, not for whole objects (measured: 15,000 accounts cost 0.8 s a note as objects).

        With `family` (a Chinese family name), only the accounts whose name key starts with
        it, or is not Chinese at all, come back: read through the (rep_id, name_key) index,
        the only ones a name of that family can match."""
        if family is None:
            if self._entries is None:  # once a turn, unless changed
                rows = self.session.execute(built.account_entries(),
                                            {"rep_id": self.rep_id}).all()
                self._entries = [AccountEntry(*row[:5]) for row in rows]
                self._entry_keys = [str(row.name_key) for row in rows]
            return self._entries
        if self._entries is not None:
            # a note turn has read them all already: the same rows as the two ranges
            # below, in the same order, without a second round trip
            return [entry for entry, key in zip(self._entries, self._entry_keys, strict=True)
                    if key.startswith(family) or key < _FIRST_CHINESE]
        columns = (Account.id, Account.name, Account.hospital, Account.department,
                   Account.title)
        live = (Account.rep_id == self.rep_id, Account.archived.is_(False))
        # two index ranges, each read on its own (an OR of them would scan every row), in
        # one statement: one round trip to PostgreSQL, not two; the ranges do not overlap
        ranges = [and_(Account.name_key >= family, Account.name_key < family + _LAST_CHARACTER),
                  Account.name_key < _FIRST_CHINESE]
        found = list(self.session.execute(union_all(
            *(select(*columns, Account.updated_at).where(*live, where) for where in ranges))
        ).all())
        found.sort(key=lambda row: (row.updated_at, row.id), reverse=True)
        return [AccountEntry(*row[:5]) for row in found]

    def recent_accounts(self, limit: int | None = RECENT_ACCOUNTS) -> Sequence[Account]:
        """This rep's live accounts, the last visited first: by the newest note logged
        for each, else when it was added. Opening a card, picking a customer or tiering one
        does not move it, so the list and the picker keep their numbers between views (the
        third new-rep trial, finding 7). Read from the rep's newest notes when they name
        enough customers (`_recent_from_notes`), else for every account (one seek on the
        notes' account index each: 90 ms at 15,000 accounts)."""
        if limit is not None:
            found = self._recent_from_notes(limit)
            if found is not None:
                return found
        last_visit = (select(func.max(Note.created_at)).where(Note.account_id == Account.id)
                      .correlate(Account).scalar_subquery())
        return self.session.execute(
            select(Account)
            .where(Account.rep_id == self.rep_id, Account.archived.is_(False),
                   Account.kind != "hospital")
            .order_by(func.coalesce(last_visit, Account.created_at).desc(), Account.id.desc())
            .limit(limit)
        ).scalars().all()

    def _recent_from_notes(self, limit: int) -> list[Account] | None:
        """The `limit` last visited accounts from the rep's newest notes (read backwards on
        the (rep_id, created_at) index), exactly as `recent_accounts` orders them, or None
        when those notes do not settle it. Every account visited after the oldest note read
        is among them with its true last visit; one added since then with no note is placed
        by when it was added; any other was last seen before, so it comes after all of
        these: when they are `limit` or more, the first `limit` are the answer."""
        window = max(limit * 4, 200)
        rows = self.session.execute(
            select(Note.account_id, Note.created_at).where(Note.rep_id == self.rep_id)
            .order_by(Note.created_at.desc(), Note.id.desc()).limit(window)).all()
        if len(rows) < window:  # every note read: the accounts never visited decide
            return None
        last: dict[int, datetime] = {}
        for account_id, at in rows:
            last.setdefault(account_id, at)
        floor = rows[-1][1]
        candidates = self.session.execute(  # two columns a row: only the first are loaded
            select(Account.id, Account.created_at).where(
                Account.rep_id == self.rep_id, Account.archived.is_(False),
                Account.kind != "hospital",
                Account.id.in_(list(last)) | (Account.created_at > floor))).all()
        if len(candidates) < limit:
            return None
        first = [account_id for account_id, _ in sorted(
            candidates, key=lambda row: (last.get(row[0], row[1]), row[0]), reverse=True)[:limit]]
        loaded = {a.id: a for a in self.session.execute(
            select(Account).where(Account.id.in_(first))).scalars()}
        return [loaded[account_id] for account_id in first]

    def create_account(self, name: str, hospital: str | None, department: str | None,
                       now: datetime, kind: str = "doctor", title: str | None = None,
                       *, archived: bool = False) -> Account:
        self._accounts_changed()
        account = Account(rep_id=self.rep_id, kind=kind, name=name[:100],
                          name_key=name_key(name)[:100], hospital=_cut(hospital, 100),
                          department=_cut(department, 100), title=_cut(title, 30),
                          archived=archived, created_at=now, updated_at=now)
        self.session.add(account)
        self.session.flush()
        return account

    def touch(self, account: Account, now: datetime) -> None:
        account.updated_at = now

    def rename(self, account: Account, new_name: str, now: datetime) -> None:
        self._entries = None
        new_name = _PLACEHOLDER.sub("", new_name).strip() or account.name
        account.name = new_name[:100]
        account.name_key = name_key(new_name)[:100]
        account.updated_at = now

    def archive(self, account: Account, now: datetime) -> None:
        self._accounts_changed()
        account.archived = True
        account.updated_at = now

    def merge(self, keep: Account, duplicate: Account, now: datetime) -> None:
        """Move the duplicate's history to `keep` and archive the duplicate."""
        self._accounts_changed()
        self._history_changed()
        for table in (Note, StageChange, StyleAssessment, Suggestion, FollowUp, Objection,
                      AdverseEvent):
            self.session.execute(
                update(table)
                .where(table.account_id == duplicate.id, table.rep_id == self.rep_id)
                .values(account_id=keep.id)
            )
        keep.hospital = keep.hospital or duplicate.hospital
        keep.department = keep.department or duplicate.department
        keep.title = keep.title or duplicate.title
        if keep.stage is None:
            keep.stage, keep.stage_confidence = duplicate.stage, duplicate.stage_confidence
        if keep.style is None:
            keep.style, keep.style_confidence = duplicate.style, duplicate.style_confidence
        duplicate.archived = True
        duplicate.merged_into = keep.id
        keep.updated_at = now
        duplicate.updated_at = now

    # notes and follow-ups ---------------------------------------------------------------------
    def add_note(self, account: Account, text: str, now: datetime, *,
                 flags: list[str] | None = None, redactions: list[str] | None = None) -> Note:
        note = Note(rep_id=self.rep_id, account_id=account.id, text=text, created_at=now,
                    flags=flags or [], redactions=redactions or [])
        self.session.add(note)
        account.updated_at = now
        self.session.flush()
        self._notes.clear()
        return note

    def notes_since(self, account_ids: Iterable[int], since: datetime, *,
                    window: datetime | None = None, limit: int | None = None
                    ) -> list[NoteText]:
        """The rep's notes on `account_ids` written since `since`, newest first (at most
        `limit`). `window`, earlier than `since`, reads from there on for the readers that
        come later in the turn and look further back (known facts and events: half a
        year)."""
        return self._notes.read(self.session, self.rep_id, account_ids, since=since,
                                window=window, limit=limit)

    def note(self, note_id: int) -> Note | None:
        return self.session.execute(
            select(Note).where(Note.id == note_id, Note.rep_id == self.rep_id)
        ).scalar_one_or_none()

    def move_note(self, note: Note, account: Account, now: datetime) -> None:
        """File a note (and what came with it: its follow-ups, objections and safety
        reports) under another customer; its reports and compliance flags name him now
        (the manager's and pharmacovigilance's lists show that label)."""
        for table in (FollowUp, Objection, AdverseEvent):
            self.session.execute(
                update(table).where(table.note_id == note.id, table.rep_id == self.rep_id)
                .values(account_id=account.id))
        label = customer_label(account)
        self.session.execute(update(AdverseEvent).where(
            AdverseEvent.note_id == note.id, AdverseEvent.rep_id == self.rep_id
        ).values(customer=label))
        self.session.execute(update(ComplianceRecord).where(
            ComplianceRecord.note_id == note.id, ComplianceRecord.rep_id == self.rep_id
        ).values(customer=label))
        note.account_id = account.id
        account.updated_at = now
        self._history_changed()
        self._open_report_counts.clear()  # its reports are another customer's now

    def note_reports(self, note: Note) -> Sequence[AdverseEvent]:
        """The safety reports filed with `note` (they follow it when it is moved)."""
        return self.session.execute(
            select(AdverseEvent).where(AdverseEvent.note_id == note.id,
                                       AdverseEvent.rep_id == self.rep_id)
            .order_by(AdverseEvent.id)).scalars().all()

    def drop_objections(self, note: Note, kinds: Sequence[str]) -> None:
        """The rep took back concerns `note` recorded ("不对 他没嫌贵"): they go."""
        self.session.execute(
            delete(Objection).where(Objection.note_id == note.id, Objection.rep_id == self.rep_id,
                                    Objection.kind.in_(list(kinds))))
        self._open_objections.clear()

    def delete_note(self, note: Note) -> None:
        """Delete a note filed by mistake, with the follow-ups and objections it made. A
        safety report it carried stays, with the rep's words kept in the report."""
        for table in (FollowUp, Objection):
            self.session.execute(
                delete(table).where(table.note_id == note.id, table.rep_id == self.rep_id))
        self.session.delete(note)
        self.session.flush()
        self._history_changed()

    def _history_changed(self) -> None:
        """Notes or what came with them moved or went: the per-turn reads start over."""
        for cached in (self._notes, self._open_objections, self._stage_changes):
            cached.clear()

    def add_objection(self, account: Account, note: Note | None, kind: str, phrase: str,
                      now: datetime) -> Objection:
        row = Objection(rep_id=self.rep_id, account_id=account.id,
                        note_id=note.id if note else None, kind=kind[:30], phrase=phrase[:200],
                        status="open", created_at=now)
        self.session.add(row)
        self._open_objections.clear()
        return row

    def open_objections(self, account: Account, limit: int = 10) -> Sequence[Objection]:
        """The customer's unresolved concerns, newest first."""
        return self.open_objections_of([account.id])[:limit]

    def open_objections_of(self, account_ids: Iterable[int]) -> list[Objection]:
        """The unresolved concerns of `account_ids`, newest first: read once a turn (the
        regression check and the answers to objections both want them)."""
        return [row for row in self._open_objections.read(self.session, self.rep_id, account_ids)
                if row.status == "open"]

    def resolve_objections(self, account: Account, now: datetime) -> int:
        """Mark every open concern of the customer answered."""
        result = self.session.execute(
            update(Objection)
            .where(Objection.account_id == account.id, Objection.rep_id == self.rep_id,
                   Objection.status == "open")
            .values(status="resolved", resolved_at=now))
        self._open_objections.clear()
        return int(getattr(result, "rowcount", 0) or 0)

    def recent_notes(self, account: Account, limit: int = 5) -> Sequence[Note]:
        return self.session.execute(
            select(Note)
            .where(Note.account_id == account.id, Note.rep_id == self.rep_id)
            .order_by(Note.created_at.desc(), Note.id.desc())
            .limit(limit)
        ).scalars().all()

    def recent_tips(self, account: Account, limit: int = 20) -> list[str]:
        """The tactics last shown as tips after `account`'s logged visits, newest first,
        each once: from what tactic_history() read this turn, when it did."""
        if account.id in self._tips:
            return list(dict.fromkeys(tactic for _, _, tactic in self._tips[account.id][:limit]))
        rows = self.session.execute(
            select(Suggestion.tactic_id)
            .where(Suggestion.account_id == account.id, Suggestion.rep_id == self.rep_id,
                   Suggestion.status == built.TIP)
            .order_by(Suggestion.offered_at.desc(), Suggestion.id.desc())
            .limit(limit)).scalars().all()
        return list(dict.fromkeys(rows))

    def add_followup(self, account: Account, note: Note | None, action: str | None,
                     due_date: str, remind_at: datetime, now: datetime) -> FollowUp:
        row = FollowUp(rep_id=self.rep_id, account_id=account.id,
                       note_id=note.id if note else None, action=action, due_date=due_date,
                       remind_at=remind_at, status="open", created_at=now)
        self.session.add(row)
        self.session.flush()
        return row

    def open_followups(self, account: Account) -> Sequence[FollowUp]:
        """`account`'s follow-ups still to do, soonest first."""
        return self.session.scalars(
            select(FollowUp)
            .where(FollowUp.account_id == account.id, FollowUp.rep_id == self.rep_id,
                   FollowUp.status.in_(OPEN_FOLLOWUPS))
            .order_by(FollowUp.due_date, FollowUp.id)).all()

    def replace_followups(self, account: Account, ids: Sequence[int]) -> None:
        """A visit that sets a new next step replaces the customer's earlier ones the
        proposal showed it would (`ids`); nothing the rep was not shown."""
        if not ids:
            return
        self.session.execute(
            update(FollowUp)
            .where(FollowUp.account_id == account.id, FollowUp.rep_id == self.rep_id,
                   FollowUp.status.in_(OPEN_FOLLOWUPS), FollowUp.id.in_(list(ids)))
            .values(status="replaced"))

    def close_due_followups(self, account: Account, today: str,
                            keep: Sequence[int] = ()) -> None:
        """Follow-ups of `account` due by `today` (ISO) are done: a visit has happened.
        `keep`: the ones this visit set ("今天下午再过去一趟"): the visit is not their
        follow-up, it made them, so they stay open and show on /today."""
        self.session.execute(
            update(FollowUp)
            .where(FollowUp.account_id == account.id, FollowUp.rep_id == self.rep_id,
                   FollowUp.status.in_(OPEN_FOLLOWUPS), FollowUp.due_date <= today,
                   FollowUp.id.not_in(list(keep)))
            .values(status="done"))

    def add_adverse_event(self, account: Account | None, note: Note | None, phrase: str,
                          now: datetime, deadline: timedelta, remind_before: timedelta, *,
                          report: str, source: str | None = None,
                          status: str = "open", kind: str = "event") -> AdverseEvent:
        """Day 0 is now: the pharmacovigilance clock starts when the rep hears of it. Without
        a customer the report waits for attribution (`attribute_reports`). An "unconfirmed"
        one waits for the rep to say whether it is an adverse event; its clock runs too."""
        self._open_report_counts.clear()  # open_reports() reads again
        event = AdverseEvent(rep_id=self.rep_id, account_id=account.id if account else None,
                             note_id=note.id if note else None, phrase=phrase[:200],
                             report=report, source=source, day0=now, deadline=now + deadline,
                             remind_at=now + deadline - remind_before, status=status,
                             customer=customer_label(account), kind=kind[:32])
        self.session.add(event)
        self.session.flush()
        return event

    def attribute_reports(self, event_ids: list[int], account: Account, note: Note | None,
                          *, about_others: Callable[[AdverseEvent], bool] | None = None
                          ) -> list[AdverseEvent]:
        """File reports taken at the door under the customer and note they turned out to be
        about; a report already filed elsewhere keeps its customer, and one `about_others`
        says is about someone else the note names waits, unfiled, for that person's visit.
        All of them come back."""
        if not event_ids:
            return []
        self._open_report_counts.clear()  # open_reports() reads again
        events = self.session.execute(
            select(AdverseEvent).where(AdverseEvent.id.in_(event_ids),
                                       AdverseEvent.rep_id == self.rep_id)
        ).scalars().all()
        for event in events:
            if about_others is not None and event.account_id is None and about_others(event):
                continue
            if event.account_id is None:
                event.account_id = account.id
                event.customer = customer_label(account)
            if event.note_id is None and note is not None and event.account_id == account.id:
                event.note_id = note.id
        return list(events)

    def add_compliance_record(self, kind: str, categories: Sequence[str], text: str,
                              now: datetime, *, source: str | None = None,
                              account: Account | None = None, note: Note | None = None
                              ) -> ComplianceRecord:
        """A flag kept for the manager and the compliance team, whatever the note becomes."""
        record = ComplianceRecord(rep_id=self.rep_id, kind=kind, categories=sorted(categories),
                                  text=text, source=(source or None) and source[:100],
                                  customer=customer_label(account),
                                  note_id=note.id if note else None, created_at=now)
        self.session.add(record)
        return record

    def file_compliance_records(self, text: str, account: Account, note: Note | None
                                ) -> list[ComplianceRecord]:
        """Records kept at the door for `text` before anyone knew whose visit it was: they
        get the customer and the note now (the customer as named at this moment)."""
        records = self.session.execute(
            select(ComplianceRecord).where(ComplianceRecord.rep_id == self.rep_id,
                                           ComplianceRecord.text == text,
                                           ComplianceRecord.note_id.is_(None))
        ).scalars().all()
        for record in records:
            record.customer = record.customer or customer_label(account)
            record.note_id = note.id if note else None
        return list(records)

    def compliance_records_of(self, note: Note) -> Sequence[ComplianceRecord]:
        return self.session.execute(
            select(ComplianceRecord).where(ComplianceRecord.rep_id == self.rep_id,
                                           ComplianceRecord.note_id == note.id)
        ).scalars().all()

    def adverse_event(self, event_id: int) -> AdverseEvent | None:
        return self.session.execute(
            select(AdverseEvent).where(AdverseEvent.id == event_id,
                                       AdverseEvent.rep_id == self.rep_id)
        ).scalar_one_or_none()

    def same_open_reports(self, report: str, since: datetime) -> list[AdverseEvent]:
        """The rep's reports still open or awaiting an answer whose text is `report`, taken
        since `since`, oldest first: the same note sent again is the same report."""
        return list(self.session.execute(
            select(AdverseEvent).where(AdverseEvent.rep_id == self.rep_id,
                                       AdverseEvent.report == report,
                                       AdverseEvent.status.not_in(CLOSED_REPORTS),
                                       AdverseEvent.day0 >= since)
            .order_by(AdverseEvent.day0, AdverseEvent.id)).scalars().all())

    def dismiss_report(self, event: AdverseEvent, reason: str, now: datetime,
                       note: str | None = None) -> None:
        """The rep says `event` is not an adverse event: closed (no reminder, no escalation)
        and kept, with who, when and why (`note`: the reason as typed)."""
        self._open_report_counts.clear()  # open_reports() reads again
        event.status = "not_ae"
        event.dismissed_at = now
        event.dismissed_by = f"rep: {self.rep.name}"[:100]
        event.dismissed_reason = reason[:32]
        event.dismissed_note = note

    def open_reports(self, account: Account) -> Sequence[AdverseEvent]:
        """The safety reports about `account` not closed yet (not forwarded, not ruled out),
        oldest deadline first: while one is open, advice for him holds back on more use.
        No round trip when this turn's tactic_history counted none."""
        if self._open_report_counts.get(account.id) == 0:
            return []
        return self.session.execute(
            select(AdverseEvent).where(AdverseEvent.rep_id == self.rep_id,
                                       AdverseEvent.account_id == account.id,
                                       AdverseEvent.status.not_in(CLOSED_REPORTS))
            .order_by(AdverseEvent.deadline, AdverseEvent.id)
        ).scalars().all()

    def followup(self, followup_id: Any) -> FollowUp | None:
        """The rep's follow-up `followup_id`; None for no such one (or no id at all)."""
        if not isinstance(followup_id, int) or isinstance(followup_id, bool) or followup_id <= 0:
            return None
        return self.session.execute(
            select(FollowUp).where(FollowUp.id == followup_id, FollowUp.rep_id == self.rep_id)
        ).scalar_one_or_none()

    # quiz, style, stage -------------------------------------------------------------------
    def add_quiz_result(self, playbook_id: str, version: int, scores: dict[str, float],
                        dominant: str, now: datetime) -> QuizResult:
        row = QuizResult(rep_id=self.rep_id, playbook_id=playbook_id, playbook_version=version,
                         scores=scores, dominant=dominant, created_at=now)
        self.session.add(row)
        self._quiz_style = None
        return row

    def quiz_style(self) -> str:
        """The rep's own thinking style (the first dominant quadrant of their latest quiz),
        "" before any quiz; read once per turn however many tactics a turn describes."""
        if self._quiz_style is None:
            dominant = self.session.execute(built.quiz_style(),
                                            {"rep_id": self.rep_id}).scalar()
            self._quiz_style = str(dominant or "")[:1]
        return self._quiz_style

    def style_assessments(self, account: Account, limit: int = 5) -> Sequence[StyleAssessment]:
        return self.session.execute(
            select(StyleAssessment)
            .where(StyleAssessment.account_id == account.id,
                   StyleAssessment.rep_id == self.rep_id)
            .order_by(StyleAssessment.created_at.desc(), StyleAssessment.id.desc())
            .limit(limit)
        ).scalars().all()

    def add_style_assessment(self, account: Account, scores: dict[str, float], letters: str,
                             confidence: float, evidence: list[str], version: int,
                             now: datetime) -> None:
        self.session.add(StyleAssessment(
            rep_id=self.rep_id, account_id=account.id, scores=scores, letters=letters,
            confidence=confidence, evidence=evidence, playbook_version=version, created_at=now))

    def stage_history(self, account: Account, limit: int = 10) -> Sequence[StageChange]:
        return self.stage_changes([account.id])[:limit]

    def stage_changes(self, account_ids: Iterable[int]) -> list[StageChange]:
        """Every recorded stage of `account_ids`, newest first (a handful per customer):
        read once a turn for the regression check, its stage evidence and /stage."""
        return self._stage_changes.read(self.session, self.rep_id, account_ids)

    def add_stage(self, account: Account, stage: str, confidence: float, evidence: list[str],
                  version: int, now: datetime) -> StageChange:
        row = StageChange(rep_id=self.rep_id, account_id=account.id, stage=stage,
                          previous_stage=account.stage, confidence=confidence,
                          evidence=evidence, playbook_version=version, created_at=now)
        self.session.add(row)
        self._stage_changes.clear()
        account.stage = stage
        account.stage_confidence = confidence
        account.updated_at = now
        return row

    def correct_stage(self, row: StageChange, account: Account, stage: str, confidence: float,
                      evidence: list[str], version: int, now: datetime) -> None:
        """The rep put right the stage `row` recorded from a note hint: `row` now records
        `stage` (from the same stage before it), as if the note had said so
        (coach/actions/stage_correction.py)."""
        row.stage, row.confidence, row.evidence = stage, confidence, evidence
        row.playbook_version = version
        self._stage_changes.clear()
        account.stage = stage
        account.stage_confidence = confidence
        account.updated_at = now

    def hint_then_no_visit(self, account: Account, at: datetime) -> bool:
        """Whether a note of `account` was saved at `at` (a stage hint saved with its
        visit) and none after it."""
        notes = select(func.count()).select_from(Note).where(
            Note.account_id == account.id, Note.rep_id == self.rep_id)
        with_it = self.session.execute(notes.where(Note.created_at == at)).scalar_one()
        after = self.session.execute(notes.where(Note.created_at > at)).scalar_one()
        return bool(with_it) and not after

    # key accounts ---------------------------------------------------------------------------
    def add_screening(self, account: Account, scores: dict[str, int], tier: str, klass: str,
                      now: datetime) -> None:
        self.session.add(Screening(rep_id=self.rep_id, account_id=account.id, scores=scores,
                                   tier=tier, klass=klass, created_at=now))

    def add_goal(self, account: Account, stage: str, date: str | None, now: datetime) -> None:
        self.session.add(Goal(rep_id=self.rep_id, account_id=account.id, target_stage=stage,
                              target_date=date, created_at=now))
        self.session.flush()

    def latest_goal(self, account: Account) -> Goal | None:
        return self.session.execute(
            select(Goal).where(Goal.account_id == account.id, Goal.rep_id == self.rep_id)
            .order_by(Goal.created_at.desc(), Goal.id.desc()).limit(1)
        ).scalar_one_or_none()

    def latest_plan(self, account: Account) -> Plan | None:
        return self.session.execute(
            select(Plan).where(Plan.account_id == account.id, Plan.rep_id == self.rep_id)
            .order_by(Plan.created_at.desc(), Plan.id.desc()).limit(1)
        ).scalar_one_or_none()

    def add_plan(self, account: Account, facts: dict[str, Any], now: datetime) -> None:
        self.session.add(Plan(rep_id=self.rep_id, account_id=account.id, facts=facts,
                              created_at=now))

    def note_count(self, account: Account) -> int:
        return int(self.session.execute(
            select(func.count(Note.id))
            .where(Note.account_id == account.id, Note.rep_id == self.rep_id)
        ).scalar_one())

    def add_lesson(self, account: Account | None, kind: str, text: str, now: datetime) -> None:
        self.session.add(Lesson(rep_id=self.rep_id, account_id=account.id if account else None,
                                kind=kind, text=text, created_at=now))

    def search_lessons(self, query: str, *, include_team: bool,
                       limit: int = 10) -> list[tuple[Lesson, str | None, str]]:
        """Lessons matching every word of `query` (all lessons when empty), newest first:
        the rep's own, and with `include_team` those of reps in the same team."""
        authors = [self.rep_id]
        if include_team and self.rep.team:
            authors = list(self.session.execute(
                select(Rep.id).where(Rep.team == self.rep.team)).scalars())
        statement = (
            select(Lesson, Account.name, Rep.name)
            .join(Rep, Rep.id == Lesson.rep_id)
            .outerjoin(Account, Account.id == Lesson.account_id)
            .where(Lesson.rep_id.in_(authors))
        )
        for word in query.split()[:5]:
            pattern = f"%{word}%"
            statement = statement.where(Lesson.text.ilike(pattern) | Account.name.ilike(pattern))
        rows = self.session.execute(
            statement.order_by(Lesson.created_at.desc(), Lesson.id.desc()).limit(limit)).all()
        return [(lesson, customer, author) for lesson, customer, author in rows]

    # suggestions ----------------------------------------------------------------------------
    def tactic_history(self, account: Account, dismissed_since: datetime,
                       offered_since: datetime, now: datetime,
                       limit: int = 50) -> TacticHistory:
        """What the next suggestion for `account` must respect, in one round trip: tactics
        not to offer again yet (dismissed or accepted within the cooldown, already offered
        since `offered_since`, or put off until a time still ahead), the `limit` most recent
        dismissals with their reasons, and how many suggestions the rep was offered since
        `offered_since` (the daily cap). The rep's quiz style rides along for
        `quiz_style()`, which the tactic's wording needs, and the customer's open safety
        reports for `open_reports()`: on PostgreSQL a round trip costs a turn more than a
        few scalar subqueries, each planned on its own index. The
        customer's rows are outer-joined to a one-row select, so the counts come back when
        there are none."""
        rows = self.session.execute(built.tactic_history(), {
            "rep_id": self.rep_id, "account_id": account.id, "offered_since": offered_since,
            "since": min(dismissed_since, offered_since), "dismissed_since": dismissed_since,
            "now": now}).all()
        self._quiz_style = str(rows[0][1] or "")[:1]
        self._open_report_counts[account.id] = int(rows[0][2] or 0)  # for open_reports()
        history = TacticHistory(blocked=set(), dismissals=[], offered=int(rows[0][0]))
        dismissed: list[tuple[datetime, str, str | None]] = []
        tips: list[tuple[datetime, int, str]] = []
        for _offered, _dominant, _reports, tactic_id, status, offered_at, answered_at, \
                reason, snoozed_until, row_id in rows:
            if tactic_id is None:
                continue  # the customer has no such suggestion: the one row of counts
            if status == built.TIP:
                tips.append((offered_at, row_id, tactic_id))
                continue
            recently_dismissed = (  # dismissed, or accepted and being worked on
                status in ("dismissed", "accepted")
                and (answered_at or offered_at) >= dismissed_since
            )
            put_off = status == "later" and snoozed_until is not None and snoozed_until > now
            if recently_dismissed or put_off or offered_at >= offered_since:
                history.blocked.add(tactic_id)
            if status == "dismissed":
                dismissed.append((answered_at or offered_at, tactic_id, reason))
        dismissed.sort(key=lambda row: row[0], reverse=True)
        history.dismissals.extend((tactic_id, reason) for _, tactic_id, reason in
                                  dismissed[:limit])
        self._tips[account.id] = sorted(tips, reverse=True)
        return history

    def add_suggestion(self, account: Account, tactic_id: str, now: datetime,
                       status: str = "offered") -> Suggestion:
        """A tactic offered for `account` (status "offered"), or shown as the tip after a
        logged visit (`built.TIP`), so the next tip is another one."""
        row = Suggestion(rep_id=self.rep_id, account_id=account.id, tactic_id=tactic_id,
                         status=status, offered_at=now)
        self.session.add(row)
        self.session.flush()
        self._tips.pop(account.id, None)  # recent_tips() reads again
        return row

    def answer_suggestion(self, suggestion_id: Any, status: str, reason: str | None,
                          now: datetime, snoozed_until: datetime | None = None) -> bool:
        if not isinstance(suggestion_id, int):
            return False
        row = self.session.execute(
            select(Suggestion).where(Suggestion.id == suggestion_id,
                                     Suggestion.rep_id == self.rep_id)
        ).scalar_one_or_none()
        if row is None:
            return False
        row.status = status
        row.reason = reason[:200] if reason else None
        row.answered_at = now
        row.snoozed_until = snoozed_until
        return True


# what the guard put in place of personal data ("[手机号/phone]"): no part of a name
_PLACEHOLDER = re.compile(r"\s*\[[^\]/]+/[^\]]+\]\s*")


def _cut(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None


def _record_message(insert: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: one statement where a look-up and an
    insert took two; no row back means the message was handled before."""
    table = cast(Table, ProcessedMessage.__table__)
    return (insert(table).values(channel=bindparam("channel"),
                                 message_key=bindparam("message_key"),
                                 rep_id=bindparam("rep_id"), created_at=bindparam("created_at"))
            .on_conflict_do_nothing().returning(table.c.channel))


# Statements every turn runs, built once: building them anew each time was a third of a
# quiz answer's CPU.
_RECORD_MESSAGE = {"postgresql": _record_message(postgresql_insert),
                   "sqlite": _record_message(sqlite_insert)}
_REP_WITH_CONVERSATION = (
    select(Rep, *CONVERSATION_COLUMNS)
    .join(Identity, Identity.rep_id == Rep.id)
    .join(Conversation, Conversation.rep_id == Rep.id)
    .where(Identity.channel == bindparam("channel"),
           Identity.external_id == bindparam("external_id"), Rep.active.is_(True))
    .with_for_update(of=Conversation)
)


def _lock_and_record() -> Select[Any]:
    """PostgreSQL: `_REP_WITH_CONVERSATION` and `_RECORD_MESSAGE` in one statement.

        WITH locked AS (SELECT ... FROM conversations JOIN identities JOIN reps
                        WHERE ... FOR UPDATE OF conversations),
             recorded AS (INSERT INTO processed_messages SELECT ... FROM locked
                          ON CONFLICT DO NOTHING RETURNING rep_id)
        SELECT reps.*, locked.*, EXISTS (SELECT FROM recorded) FROM reps JOIN locked

    The insert takes its row from `locked`, so it waits for the row lock as the two
    statements did one after the other: a second worker given the same message at once
    finds it recorded once the first commits (a duplicate); and it inserts nothing when no
    row was locked (no conversation yet, or it went while we waited), leaving the message
    to the first-turn path exactly as before."""
    locked = (
        select(Conversation.rep_id, *CONVERSATION_COLUMNS)
        .join(Identity, Identity.rep_id == Conversation.rep_id)
        .join(Rep, Rep.id == Conversation.rep_id)
        .where(Identity.channel == bindparam("channel"),
               Identity.external_id == bindparam("external_id"), Rep.active.is_(True))
        .with_for_update(of=Conversation)
        .cte("locked")
    )
    table = cast(Table, ProcessedMessage.__table__)
    recorded = (
        postgresql_insert(table)
        .from_select(["channel", "message_key", "rep_id", "created_at"],
                     select(bindparam("channel", type_=table.c.channel.type),
                            bindparam("message_key", type_=table.c.message_key.type),
                            locked.c.rep_id,
                            bindparam("created_at", type_=table.c.created_at.type)))
        .on_conflict_do_nothing()
        .returning(table.c.rep_id)
        .cte("recorded")
    )
    columns = [locked.c[column.key] for column in CONVERSATION_COLUMNS]
    return (select(Rep, *columns, exists(select(recorded.c.rep_id)))
            .join(locked, locked.c.rep_id == Rep.id))


_LOCK_AND_RECORD = _lock_and_record()
