"""what the assistant made of each customer message, for the unanswered-questions report (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 19:00:01.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
    op.create_index('ix_message_outcome_created', 'message', ['outcome', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_message_outcome_created', table_name='message')
    with op.batch_alter_table('message') as batch:
        batch.drop_column('outcome')
