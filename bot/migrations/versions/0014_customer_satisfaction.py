"""customer satisfaction after a ticket closes (issue 18)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('csat_asked_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('csat_score', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('csat_comment', sa.Text(), nullable=True))
        batch.add_column(sa.Column('csat_answered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        for name in ('csat_answered_at', 'csat_comment', 'csat_score', 'csat_asked_at'):
            batch.drop_column(name)
