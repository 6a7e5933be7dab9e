"""adviser working language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:48:01.168237
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('adviser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('working_language', sa.String(length=8), server_default='fi', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('adviser', schema=None) as batch_op:
        batch_op.drop_column('working_language')

