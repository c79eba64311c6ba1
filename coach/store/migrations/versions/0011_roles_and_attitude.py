"""accounts.roles and accounts.attitude: several roles per person, and where they stand

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:30:00

Seed 003: a person can hold more than one role in the buying decision, and each has an
attitude to the product (支持, 中立, 反对). Existing single roles are carried over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None
# no compatible_with: only its own code runs on it (the code of 0010 writes accounts.role without accounts.roles)


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('attitude', sa.String(length=12), nullable=True))
    accounts = sa.table('accounts', sa.column('id', sa.Integer), sa.column('role', sa.String),
                        sa.column('roles', sa.JSON))
    connection = op.get_bind()
    for account_id, role in connection.execute(
            sa.select(accounts.c.id, accounts.c.role).where(accounts.c.role.is_not(None))):
        connection.execute(accounts.update().where(accounts.c.id == account_id)
                           .values(roles=[role]))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('attitude')
        batch_op.drop_column('roles')
