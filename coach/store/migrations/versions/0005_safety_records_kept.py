"""safety records kept: compliance flag history, reporter snapshots, /forget keeps reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:00:00

* compliance_records: every kickback, gift, off-label or 统方 flag on what a rep typed, kept
  as typed (personal data removed) through edits, deletions and /forget; notes flagged before
  this revision are copied in;
* adverse_events.customer (the reporter as named when filed) and .escalated_at (the manager
  was told the deadline passed); the customer of existing reports is filled in;
* reps.forgotten_at: /forget keeps the rep row (anonymised) so that the reports and flags the
  law requires keep their team.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None
# no compatible_with: only its own code runs on it (the code of 0004 would write no compliance records and /forget would erase reports)


def upgrade() -> None:
    with op.batch_alter_table('reps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forgotten_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE adverse_events SET customer = (SELECT a.name || COALESCE(' · ' || a.hospital, '')"
        " FROM accounts a WHERE a.id = adverse_events.account_id)"
        " WHERE account_id IS NOT NULL")
    op.create_table('compliance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('customer', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('compliance_records', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_records_rep', ['rep_id', 'created_at'],
                              unique=False)
    _copy_flagged_notes()


def _copy_flagged_notes() -> None:
    """Notes flagged before this revision become records, so /team keeps showing them."""
    bind = op.get_bind()
    notes = sa.table('notes', sa.column('id'), sa.column('rep_id'), sa.column('account_id'),
                     sa.column('text'), sa.column('flags', sa.JSON()),
                     sa.column('created_at'))
    accounts = sa.table('accounts', sa.column('id'), sa.column('name'),
                        sa.column('hospital'))
    records = sa.table('compliance_records', sa.column('rep_id'), sa.column('note_id'),
                       sa.column('kind'), sa.column('categories', sa.JSON()),
                       sa.column('text'), sa.column('source'), sa.column('customer'),
                       sa.column('created_at'))
    rows = bind.execute(
        sa.select(notes.c.id, notes.c.rep_id, notes.c.text, notes.c.flags,
                  notes.c.created_at, accounts.c.name, accounts.c.hospital)
        .select_from(notes.outerjoin(accounts, accounts.c.id == notes.c.account_id))
    ).all()
    copied = [{"rep_id": r.rep_id, "note_id": r.id, "kind": "typed",
               "categories": list(r.flags), "text": r.text, "source": "note",
               "customer": " · ".join(p for p in (r.name, r.hospital) if p) or None,
               "created_at": r.created_at}
              for r in rows if r.flags]
    if copied:
        op.bulk_insert(records, copied)


def downgrade() -> None:
    op.drop_table('compliance_records')
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('customer')
    with op.batch_alter_table('reps', schema=None) as batch_op:
        batch_op.drop_column('forgotten_at')
