"""adverse_events.dismissed_*: who said a flagged report is not an adverse event, when, why

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:00:00

A rep can say a report the guard filed is not an adverse event (a comparison of side
effects, a competitor's patient, a case already forwarded). The report is not erased: its
status becomes "not_ae" (no more reminders or escalation) and these columns say who said so,
when and why, for the manager and the safety team (domain.md: reports and their audit trail
are kept). Expand-only: three nullable columns the code of 0014 never reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None
compatible_with = '0014'  # expand-only: nullable columns (coach/store/compatibility.py)


def upgrade() -> None:
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dismissed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dismissed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('dismissed_reason', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_column('dismissed_reason')
        batch_op.drop_column('dismissed_by')
        batch_op.drop_column('dismissed_at')
