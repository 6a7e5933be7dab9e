"""guided conversations and their results

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:03:14.147477
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guidance', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('assessment', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('service_needs', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('service_needs')
        batch_op.drop_column('assessment')
        batch_op.drop_column('guidance')

