"""advisory desk: queues, shifts, advisers, tickets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:52:31.652389
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adviser',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=16), nullable=False),
    sa.Column('languages', sa.String(length=120), nullable=False),
    sa.Column('max_open_tickets', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('queue',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=True),
    sa.Column('response_target_minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('auth_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('adviser_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['adviser_id'], ['adviser.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_table('shift',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('city', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['queue'], ['queue.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.create_index('ix_shift_queue_time', ['queue', 'starts_at', 'ends_at'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.String(length=12), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('city_on_shift', sa.String(length=16), nullable=True),
    sa.Column('needs_interpreter', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('contact', sa.JSON(), nullable=True),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('assessment', sa.JSON(), nullable=True),
    sa.Column('assigned_to', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to'], ['adviser.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], ),
    sa.ForeignKeyConstraint(['queue'], ['queue.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_conversation', ['conversation_id'], unique=False)
        batch_op.create_index('ix_ticket_queue_status', ['queue', 'status', 'priority', 'created_at'], unique=False)

    op.create_table('ticket_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.String(length=12), nullable=False),
    sa.Column('adviser_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['adviser_id'], ['adviser.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_event_ticket', ['ticket_id', 'id'], unique=False)



    queue = sa.table(
        "queue",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("area", sa.String),
        sa.column("response_target_minutes", sa.Integer),
    )
    op.bulk_insert(
        queue,
        [
            {"code": "employer_advisory", "name": "PKS employer advisory (shared)", "area": None,
             "response_target_minutes": 60},
            {"code": "jobseeker_helsinki", "name": "Jobseeker advice, Helsinki", "area": "helsinki",
             "response_target_minutes": 120},
            {"code": "jobseeker_espoo", "name": "Jobseeker advice, Espoo–Kauniainen", "area": "espoo",
             "response_target_minutes": 120},
            {"code": "jobseeker_vantaa", "name": "Jobseeker advice, Vantaa", "area": "vantaa",
             "response_target_minutes": 120},
            {"code": "callbacks", "name": "Callbacks (shared)", "area": None, "response_target_minutes": 240},
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_event_ticket')

    op.drop_table('ticket_event')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_queue_status')
        batch_op.drop_index('ix_ticket_conversation')

    op.drop_table('ticket')
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_queue_time')

    op.drop_table('shift')
    op.drop_table('auth_token')
    op.drop_table('queue')
    op.drop_table('adviser')
