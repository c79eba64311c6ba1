"""enroll_attempts: failed /start CODE attempts, to limit guessing

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:00:00

One row per failed attempt (the channel identity and when); attempts older than a day are
deleted as new ones come in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None
compatible_with = '0006'  # expand-only: a new table (coach/store/compatibility.py)


def upgrade() -> None:
    op.create_table('enroll_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enroll_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_enroll_attempts_at', ['at'], unique=False)
        batch_op.create_index('ix_enroll_attempts_identity', ['channel', 'external_id', 'at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('enroll_attempts')
