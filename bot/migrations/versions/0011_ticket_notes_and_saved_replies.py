"""internal ticket notes and saved replies (adviser console, issue 15)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_note',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.String(length=12), nullable=False),
    sa.Column('adviser_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['adviser_id'], ['adviser.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ticket_note_ticket', 'ticket_note', ['ticket_id', 'id'], unique=False)
    op.create_table('saved_reply',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['adviser.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_saved_reply_owner', 'saved_reply', ['owner_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_saved_reply_owner', table_name='saved_reply')
    op.drop_table('saved_reply')
    op.drop_index('ix_ticket_note_ticket', table_name='ticket_note')
    op.drop_table('ticket_note')
