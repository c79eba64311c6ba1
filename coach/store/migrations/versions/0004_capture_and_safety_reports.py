"""capture: typed engine state, customer titles, objections, safety reports kept at the door

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:00:00

* conversations.engine holds the engine's own state, typed (it lived among the playbook's
  `vars` under `_prompt`, `_redacted`, `_scores`, `_answers`, and in `pending`); conversations
  under way at upgrade time keep their place and their answers so far;
* accounts.title (主任, 住院医, 药师 …);
* objections, one row per concern raised at a visit;
* adverse_events: stored the moment the text arrives, so the customer may be unknown yet
  (account_id nullable), the report keeps the rep's text, and deleting or merging a customer
  no longer deletes the report (ON DELETE SET NULL instead of CASCADE). The table is copied
  into its new shape, which both backends do the same way.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None
# no compatible_with: only its own code runs on it (drops conversations.pending and rebuilds adverse_events)

_ENGINE_KEYS = {"_prompt": "prompt", "_redacted": "redacted", "_scores": "scores",
                "_answers": "answers"}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return value


def _move_engine_state() -> None:
    """Copy the engine's keys out of `vars` (and `pending`) into `engine`, row by row."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT rep_id, vars, pending FROM conversations")).all()
    for rep_id, raw_vars, raw_pending in rows:
        variables = _json(raw_vars) or {}
        pending = _json(raw_pending) or {}
        engine: dict[str, Any] = {}
        if isinstance(variables, dict):
            for old, new in _ENGINE_KEYS.items():
                if old in variables:
                    engine[new] = variables.pop(old)
        prompt = engine.get("prompt")
        if isinstance(prompt, dict):
            engine["prompt"] = {"text": str(prompt.get("text", "")), "choices": [
                {"key": str(key), "label": str(label)} for key, label in prompt.get("choices", [])]}
            engine["shown"] = engine["prompt"]["choices"]
        if isinstance(pending, dict) and pending.get("options") is not None:
            engine["picker"] = {"options": pending.get("options") or [],
                                "tokens": pending.get("tokens") or [],
                                "query": pending.get("query")}
        bind.execute(sa.text("UPDATE conversations SET vars = :vars, engine = :engine "
                             "WHERE rep_id = :rep_id"),
                     {"vars": json.dumps(variables, ensure_ascii=False),
                      "engine": json.dumps(engine, ensure_ascii=False), "rep_id": rep_id})


def _rebuild_adverse_events() -> None:
    op.create_table('adverse_events_new',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('phrase', sa.String(length=200), nullable=False),
    sa.Column('day0', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('remind_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('forwarded_at', sa.DateTime(), nullable=True),
    sa.Column('report', sa.Text(), nullable=False, server_default=''),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='SET NULL',
                            name='fk_adverse_events_account'),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], ondelete='SET NULL',
                            name='fk_adverse_events_note'),
    sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE',
                            name='fk_adverse_events_rep'),
    sa.PrimaryKeyConstraint('id', name='pk_adverse_events')
    )
    op.execute(
        "INSERT INTO adverse_events_new (id, rep_id, account_id, note_id, phrase, day0, "
        "deadline, remind_at, status, forwarded_at, report) "
        "SELECT e.id, e.rep_id, e.account_id, e.note_id, e.phrase, e.day0, e.deadline, "
        "e.remind_at, e.status, e.forwarded_at, COALESCE(n.text, e.phrase) "
        "FROM adverse_events e LEFT JOIN notes n ON n.id = e.note_id")
    op.drop_table('adverse_events')
    op.rename_table('adverse_events_new', 'adverse_events')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('adverse_events', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM adverse_events), 0) + 1, false)")
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.create_index('ix_adverse_events_due', ['status', 'remind_at'], unique=False)
        batch_op.create_index('ix_adverse_events_rep', ['rep_id', 'day0'], unique=False)


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engine', sa.JSON(), nullable=False, server_default='{}'))
    _move_engine_state()
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('pending')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=30), nullable=True))

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('phrase', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index('ix_objections_account', ['account_id', 'created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_objections_rep_id'), ['rep_id'], unique=False)

    _rebuild_adverse_events()


def downgrade() -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_rep_id'))
        batch_op.drop_index('ix_objections_account')
    op.drop_table('objections')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('title')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.drop_column('engine')
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('report')
