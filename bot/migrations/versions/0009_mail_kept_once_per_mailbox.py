"""mail kept once per mailbox: unique (message_id, mailbox) instead of message_id

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NEW = 'uq_mail_message_message_id_mailbox'
# 0003 left the constraint unnamed: SQLite's batch mode finds it under this convention's name
SQLITE_NAMES = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _old_name() -> str:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints('mail_message'):
        if constraint['column_names'] == ['message_id'] and constraint['name']:
            return str(constraint['name'])
    return 'uq_mail_message_message_id'


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    old = 'uq_mail_message_message_id' if sqlite else _old_name()
    with op.batch_alter_table('mail_message', naming_convention=SQLITE_NAMES if sqlite else None) as batch_op:
        batch_op.drop_constraint(old, type_='unique')
        batch_op.create_unique_constraint(NEW, ['message_id', 'mailbox'])


def downgrade() -> None:
    # fails if a mail was kept for two mailboxes; remove those copies first
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.drop_constraint(NEW, type_='unique')
        batch_op.create_unique_constraint('uq_mail_message_message_id', ['message_id'])
