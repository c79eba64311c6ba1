"""suggestions.snoozed_until: "later" means the time the rep chose

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:30:00

A suggestion put off with "⏳ 稍后" is not offered again, on any path, before this moment.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None
compatible_with = '0009'  # expand-only: a nullable column (coach/store/compatibility.py)


def upgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_column('snoozed_until')
