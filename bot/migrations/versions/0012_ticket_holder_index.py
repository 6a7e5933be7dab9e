"""index on a ticket's holder: each claim counts the tickets the adviser holds

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 17:30:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ticket_holder', 'ticket', ['assigned_to', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_holder', table_name='ticket')
