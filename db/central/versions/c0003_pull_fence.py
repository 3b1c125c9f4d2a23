"""pull: a fence that ignores transactions of other databases on the same server

Revision ID: c0003
Revises: c0002
Create Date: 2026-11-25

`pg_snapshot_xmin(pg_current_snapshot())` is cluster-wide: one long transaction in ANY
database of the server holds every station's pull back. Only a transaction of THIS database
can write `ref_change`, so the fence is the oldest in-progress xid of the snapshot that is not
known to belong to another database. A transaction that ends between the snapshot and the
look at pg_stat_activity is not found there and is kept (conservative), so nothing is skipped.
Without pg_read_all_stats, other sessions' xids are hidden and the fence falls back to xmin.
"""
from alembic import op

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None

FENCE = r"""
CREATE FUNCTION sync_pull_fence() RETURNS xid8
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_catalog, pg_temp AS $$
    SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))
      FROM pg_snapshot_xip(pg_current_snapshot()) AS x
     WHERE (x::text::bigint % 4294967296) NOT IN (
           SELECT backend_xid::text::bigint FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL AND datname IS NOT NULL
              AND datname <> current_database())
$$;
REVOKE EXECUTE ON FUNCTION sync_pull_fence() FROM PUBLIC;
"""


def upgrade() -> None:
    op.execute(FENCE)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS sync_pull_fence()")
