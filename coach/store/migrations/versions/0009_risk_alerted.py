"""accounts.risk_alerted: evidence of a customer moving back the rep was alerted to

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:00:00

A regression alert is raised once per piece of evidence (a stage that went down, a generic
objection, a note saying 用得少了); the keys of those already shown are kept here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None
compatible_with = '0008'  # expand-only: a defaulted column (coach/store/compatibility.py)


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_alerted', sa.JSON(), server_default='[]',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('risk_alerted')
