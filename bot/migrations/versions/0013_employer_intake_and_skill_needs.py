"""employers' structured intake on the ticket, and future skill needs (issue 17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ticket', sa.Column('intake', sa.JSON(), nullable=True))
    op.create_table('skill_need',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('size_band', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_skill_need_created', 'skill_need', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_skill_need_created', table_name='skill_need')
    op.drop_table('skill_need')
    with op.batch_alter_table('ticket') as batch:
        batch.drop_column('intake')
