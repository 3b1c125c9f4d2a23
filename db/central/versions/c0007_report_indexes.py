"""indexes for the daily summary on central: a day's events by type, operators by staff number

Revision ID: c0007
Revises: c0006
Create Date: 2026-11-25
"""
from alembic import op

revision = "c0007"
down_revision = "c0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX event_day_type ON event (left(occurred_at, 10), type)")
    op.execute("CREATE INDEX event_operator_added ON event ((payload->>'staff_id')) "
               "WHERE type = 'operator.added'")


def downgrade() -> None:
    op.execute("DROP INDEX event_operator_added")
    op.execute("DROP INDEX event_day_type")
