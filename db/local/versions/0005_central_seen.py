"""sync: each event says when its station had last synced with central (SYNC.md 2.5)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

`events.central_seen_at` is the station's `last_sync_at` when the event was recorded: the
central state the operator was working from. It travels with the event (`expected` at central)
and the Conflicts screen shows it beside each record, so a site lead sees which side acted on
old information. NULL: the station had never synced. Events recorded before this revision are
marked '' (not known): they go without it, and the screen leaves the cell empty.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('central_seen_at', sa.String(length=40), nullable=True))
    op.execute("UPDATE events SET central_seen_at = ''")


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('central_seen_at')
