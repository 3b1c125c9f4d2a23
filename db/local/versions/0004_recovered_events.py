"""sync: events recovered from central after a restore from an older copy (SYNC.md 2.3 step 0)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

A station restored from an older copy goes on in a new epoch; the events central holds of the
old epoch beyond the point where the two agree are fetched back into `recovered_events`, so that
the daily summary and status still count them. They are never pushed (central has them), and
they are kept apart from `events` (the outbox), whose `seq` is unique across epochs.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recovered_events',
    sa.Column('epoch', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('schema_v', sa.Integer(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=True),
    sa.Column('occurred_at', sa.String(length=40), nullable=False),
    sa.Column('recovered_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('epoch', 'seq', name=op.f('pk_recovered_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_recovered_events_event_id'))
    )
    with op.batch_alter_table('recovered_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovered_events_type'), ['type'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recovered_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovered_events_type'))

    op.drop_table('recovered_events')
