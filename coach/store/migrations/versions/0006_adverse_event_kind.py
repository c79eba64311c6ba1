"""adverse_events.kind: what the safety team triages by

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:00:00

* adverse_events.kind: "event", "death", or the special situation reportable without harm
  (pregnancy, breastfeeding, overdose, misuse, medication_error, lack_of_effect,
  off_label_use, quality_complaint, infection_transmission), from the guard's rules; reports
  stored before this revision are "event";
* adverse_events.forwarded_by: who marked it forwarded (the rep in chat, or the safety team's
  `repcoach ae forward --by NAME`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None
# no compatible_with: only its own code runs on it (the code of 0005 would file every report, a death too, as kind 'event')


def upgrade() -> None:
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=False,
                                      server_default='event'))
        batch_op.add_column(sa.Column('forwarded_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_column('forwarded_by')
        batch_op.drop_column('kind')
