"""adverse_events.dismissed_note: the reason a rep typed for "not an adverse event"

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:00:00

The reasons offered as buttons are codes (dismissed_reason, 32 characters). A rep who types
the reason instead ("是疗效改善，Hb升高不是不良反应", trial F) has it kept whole, personal data
removed, beside the code "typed", for the manager and the safety team. Expand-only: one
nullable column the code of 0015 never reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None
compatible_with = '0015'  # expand-only: a nullable column (coach/store/compatibility.py)


def upgrade() -> None:
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dismissed_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_column('dismissed_note')
