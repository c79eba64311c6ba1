"""digest_sends: one row per weekly digest and recipient, claimed before it goes out

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07 07:00:00

The unique (rep_id, week) key makes a digest go out once across restarts and workers; the
row is written in the transaction that puts the digest in the outbox.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None
compatible_with = '0011'  # expand-only: a new table; the code of 0011 sends no digests (coach/store/compatibility.py)


def upgrade() -> None:
    op.create_table('digest_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rep_id', 'week', name='uq_digest_send_week')
    )


def downgrade() -> None:
    op.drop_table('digest_sends')
