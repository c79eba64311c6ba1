"""inbox and outbox: platform messages acknowledged before their turn, replies not yet sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:00:00

Both tables hold rows for seconds: an inbox row is deleted by the turn it starts, an outbox
row once the platform took the reply. Rows left by a crash are taken up on the next start.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None
compatible_with = '0007'  # expand-only: new tables the code of 0007 never touches (coach/store/compatibility.py)


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('message_key', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('worker', sa.String(length=128), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'message_key', name='uq_inbox_message')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_channel_lease', ['channel', 'lease_until'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('worker', sa.String(length=128), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_channel_lease', ['channel', 'lease_until'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox')
    op.drop_table('inbox')
