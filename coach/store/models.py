"""SQLAlchemy 2.0 tables: the account store and the conversation state.

Every row that belongs to a rep carries `rep_id`, and every index used by a turn starts with
it, so a turn touches one rep's rows only and its cost does not grow with the company.
Per-doctor prescription counts are deliberately absent (统方 is forbidden by the filing rules):
potential is kept in bands and volume only at institution level.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base; `type_annotation_map` keeps JSON columns portable across backends."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Rep(Base):
    """A medical representative (or manager) using the bot."""

    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    role: Mapped[str] = mapped_column(String(16), default="rep")
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    nudge_after: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # set by /forget: the coaching data is gone, the row stays so that the safety records
    # the law requires (adverse events, compliance flags) keep their reporter and team
    forgotten_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Identity(Base):
    """A rep's identity on one channel (Telegram user id, WeCom UserID, console)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identity_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class EnrollmentCode(Base):
    """A one-time code that binds a channel identity to a rep. Only its hash is stored."""

    __tablename__ = "enrollment_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class EnrollAttempt(Base):
    """A failed `/start CODE`: enough of them from one identity, or from everyone, and
    guessing stops for a while."""

    __tablename__ = "enroll_attempts"
    __table_args__ = (Index("ix_enroll_attempts_identity", "channel", "external_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Account(Base):
    """A customer: a doctor, a department or a hospital, owned by one rep."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_rep_active_recent", "rep_id", "archived", "updated_at"),
        Index("ix_accounts_rep_namekey", "rep_id", "name_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="doctor")
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    hospital: Mapped[str | None] = mapped_column(String(100), nullable=True)
    department: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # how the customer is addressed or what they do (主任, 住院医, 药师): tells two people of
    # one surname apart, and hints at their role in the buying decision
    title: Mapped[str | None] = mapped_column(String(30), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    stage_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    style: Mapped[str | None] = mapped_column(String(4), nullable=True)
    style_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # key-account management: bands 1 (low) .. 3 (high), never prescription counts
    potential: Mapped[int | None] = mapped_column(Integer, nullable=True)
    support: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tier: Mapped[str | None] = mapped_column(String(2), nullable=True)
    klass: Mapped[str | None] = mapped_column(String(20), nullable=True)
    needs: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # seed 003: one person can hold several roles (a head of department decides and
    # prescribes); `role` is the first, kept for older readers
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    attitude: Mapped[str | None] = mapped_column(String(12), nullable=True)  # support/…

    def held_roles(self) -> list[str]:
        """Every role the person holds, the first recorded first (rows from before roles
        were a list have only `role`)."""
        return [str(r) for r in self.roles] if self.roles else ([self.role] if self.role else [])
    adopter: Mapped[str | None] = mapped_column(String(20), nullable=True)
    influence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # evidence of moving back the rep was already alerted to (coach/actions/regression.py)
    risk_alerted: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Note(Base):
    """A visit note, stored as the rep wrote it (after personal-data redaction)."""

    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_account_recent", "account_id", "created_at"),
        Index("ix_notes_rep_recent", "rep_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    redactions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class StageChange(Base):
    """One diagnosis of a customer's adoption stage; the history can move back as well."""

    __tablename__ = "stage_history"
    __table_args__ = (Index("ix_stage_history_account", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    previous_stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    playbook_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QuizResult(Base):
    """A rep's thinking-preference self-reflection; retaking adds a row, history is kept."""

    __tablename__ = "quiz_results"
    __table_args__ = (Index("ix_quiz_results_rep", "rep_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    playbook_id: Mapped[str] = mapped_column(String(50))
    playbook_version: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    dominant: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class StyleAssessment(Base):
    """A rep's hypothesis about a customer's thinking style, with its evidence."""

    __tablename__ = "style_assessments"
    __table_args__ = (Index("ix_style_assessments_account", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    letters: Mapped[str] = mapped_column(String(4))
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    playbook_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Suggestion(Base):
    """A tactic offered to a rep for a customer, and what the rep said about it."""

    __tablename__ = "suggestions"
    __table_args__ = (
        Index("ix_suggestions_rep_offered", "rep_id", "offered_at"),
        Index("ix_suggestions_account_tactic", "account_id", "tactic_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    tactic_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="offered")
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    offered_at: Mapped[datetime] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # "later": not offered again before this moment (the time the rep chose)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# A follow-up is open until the rep visits (done), drops it from a reminder (dropped), or
# a later visit sets another next step for the customer (replaced); sent = reminded, open.
OPEN_FOLLOWUPS = ("open", "sent")
CLOSED_FOLLOWUPS = ("done", "dropped", "replaced")
#: An adverse event needs nothing more once forwarded to pharmacovigilance, or once the rep
#: said it was not one (for a report the guard was unsure of); the row stays either way.
CLOSED_REPORTS = ("forwarded", "not_ae")


class FollowUp(Base):
    """A next action the rep set, due on a date; reminders are sent from these rows."""

    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_due", "status", "remind_at"),
        Index("ix_followups_rep", "rep_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("notes.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_date: Mapped[str] = mapped_column(String(10))
    remind_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Conversation(Base):
    """Where a rep is in a playbook. Updated in the same transaction as what it records, so
    a restart between any two messages loses nothing."""

    __tablename__ = "conversations"

    rep_id: Mapped[int] = mapped_column(
        ForeignKey("reps.id", ondelete="CASCADE"), primary_key=True
    )
    playbook: Mapped[str | None] = mapped_column(String(50), nullable=True)
    step: Mapped[str | None] = mapped_column(String(50), nullable=True)
    vars: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the engine's own state (coach.store.conversation.EngineState), apart from `vars`
    engine: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ProcessedMessage(Base):
    """Platform message ids already handled: a redelivered update is processed once."""

    __tablename__ = "processed_messages"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AdverseEvent(Base):
    """An adverse event a rep heard of: day 0 is when they typed it; the company's
    pharmacovigilance deadline runs from there. Listed for the rep's manager.

    It is stored the moment the text arrives, whatever the rep was doing: with the customer
    when the conversation knows one, otherwise pending attribution (`account_id` NULL) until
    the note is filed. `report` keeps what the rep wrote (personal data removed), so the
    report stands on its own even if the note is later moved, edited or deleted."""

    __tablename__ = "adverse_events"
    __table_args__ = (
        Index("ix_adverse_events_due", "status", "remind_at"),
        Index("ix_adverse_events_rep", "rep_id", "day0"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("notes.id", ondelete="SET NULL"), nullable=True
    )
    phrase: Mapped[str] = mapped_column(String(200))
    report: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    day0: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime] = mapped_column(DateTime)
    remind_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    forwarded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # who the report came from, as the customer was named when it was filed: kept when the
    # customer is renamed, merged or deleted (the reporter is part of a safety report)
    customer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the manager was told the deadline passed without the report being forwarded
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # "event", "death" or a special situation (pregnancy, overdose …): for triage
    kind: Mapped[str] = mapped_column(String(32), default="event", server_default="event")
    forwarded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # the rep said it is not an adverse event (status "not_ae"): who, when and why
    # (coach/dismissal.py REASONS); the row stays for the manager and the safety team
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    dismissed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    dismissed_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the reason as the rep typed it (reason "typed"), personal data removed
    dismissed_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ComplianceRecord(Base):
    """A compliance flag (kickback, gift, off-label, 统方) on something a rep typed, kept as
    typed (personal data removed) whatever happens to the note later: an edit, a move, a
    deletion or `/forget` leaves it for the manager and the compliance team to see.

    `kind` is "typed" (found when the text arrived) or "edited" (a flagged note was edited:
    `text` is what it said before)."""

    __tablename__ = "compliance_records"
    __table_args__ = (Index("ix_compliance_records_rep", "rep_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("notes.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    customer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Screening(Base):
    """A key-account screening on the course's four criteria, rated in bands."""

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_account", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(2))
    klass: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Goal(Base):
    """What the rep wants to reach with a customer: a target stage by a date."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_account", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_stage: Mapped[str] = mapped_column(String(16))
    target_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Plan(Base):
    """A generated customer development plan, kept so the next one can show what changed."""

    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_account", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Lesson(Base):
    """A one-line lesson for the case library (案例复盘), after a stage change or a loss."""

    __tablename__ = "lessons"
    __table_args__ = (Index("ix_lessons_rep", "rep_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Objection(Base):
    """A concern the customer raised at a visit (price, generics, a competitor …): shown on
    the customer's card and in the plan, and answered first by the next suggestions."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_account", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("notes.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    phrase: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class InboxMessage(Base):
    """A platform message acknowledged to the platform but not yet through its turn.

    Stored (one insert) before the platform is told "received", deleted in the same
    transaction as the turn it starts: a row still here after a crash is a message the
    platform will not send again, and the next start runs its turn. `payload` is the
    channel's own form of it (WeCom's decrypted XML, Telegram's update JSON), so the channel
    handles it exactly as it would have the first time. `worker` and `lease_until` say which
    process owns it, so that with several workers only the owner, or anyone once the lease
    has run out, takes it up."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "message_key", name="uq_inbox_message"),
                      Index("ix_inbox_channel_lease", "channel", "lease_until"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_key: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    worker: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxReply(Base):
    """A reply decided by a committed turn and not yet sent to the platform.

    Written in the turn's own transaction and deleted once the platform took it, so a crash
    between the two leaves the reply here to send on the next start: what the rep was
    answered is never lost with the process. `body` holds the reply's words and buttons,
    `data` an attached picture or document."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_channel_lease", "channel", "lease_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    worker: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DigestSend(Base):
    """One weekly digest to one person: claimed (inserted) in the same transaction that puts
    its replies in the outbox, so a digest is either claimed and on its way, or neither.

    The unique key (rep, week) is what makes it go out once: a second worker, or the same
    one after a restart, finds the row and sends nothing. `sent_at` is set once the platform
    took it (empty after a crash: the outbox still holds it and the next start sends it)."""

    __tablename__ = "digest_sends"
    __table_args__ = (UniqueConstraint("rep_id", "week", name="uq_digest_send_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(10))  # ISO week in company time, "2026-W49"
    kind: Mapped[str] = mapped_column(String(8))  # "manager" or "rep"
    channel: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SchemaCompatibility(Base):
    """Which releases may run on the schema the database is at (coach/store/compatibility.py):
    one row per code revision, rewritten by every `repcoach db upgrade`."""

    __tablename__ = "schema_compatibility"

    code_revision: Mapped[str] = mapped_column(String(32), primary_key=True)
    schema_revision: Mapped[str] = mapped_column(String(32))  # what the rows were written for
