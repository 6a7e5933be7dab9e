"""the waiting tickets in claim order, for claim-next in one statement (issue 16)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ticket_waiting', 'ticket', [sa.desc('priority'), 'created_at', 'id'], unique=False,
                    postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))


def downgrade() -> None:
    op.drop_index('ix_ticket_waiting', table_name='ticket')
