"""schema_compatibility: which releases may run on this schema, for a rolling release

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00

One row per code revision that can run on the schema the database is at, written by
`repcoach db upgrade` in the migration's own transaction (coach/store/compatibility.py). An
older release restarted during a rolling release reads it, since it cannot read the newer
migrations. Expand-only: a new table the code of 0013 never touches.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None
compatible_with = '0013'


def upgrade() -> None:
    op.create_table('schema_compatibility',
    sa.Column('code_revision', sa.String(length=32), nullable=False),
    sa.Column('schema_revision', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code_revision')
    )


def downgrade() -> None:
    op.drop_table('schema_compatibility')
