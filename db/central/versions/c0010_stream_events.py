"""stream events: a restored station fetches its own events back (SYNC.md 2.3 step 0)

Revision ID: c0010
Revises: c0008
Create Date: 2026-11-26

When push finds that central holds more of a station's stream than the station itself (its
SQLite was restored from an older copy), the station goes on in a new epoch (c0005) and fetches
the events central holds of the old epoch after the point where the two agree, so that its
daily summary and status still count them. `sync_stream_events` returns them a page at a time,
to that station's role only (checked by `sync_authorise`, like `sync_stream_hashes`).
"""
from alembic import op

revision = "c0010"
down_revision = "c0008"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION sync_stream_events(p_station text, p_epoch uuid, p_after bigint, p_limit int)
RETURNS TABLE (seq bigint, event_id uuid, type text, schema_v int, payload jsonb, sha256 text,
               operator text, occurred_at text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM sync_authorise(p_station);
    RETURN QUERY SELECT e.seq, e.event_id, e.type, e.schema_v, e.payload, e.sha256, e.operator,
                        e.occurred_at
                   FROM event e
                  WHERE e.station_id = p_station AND e.epoch = p_epoch AND e.seq > p_after
                  ORDER BY e.seq
                  LIMIT greatest(coalesce(p_limit, 1000), 0);
END $$;

REVOKE EXECUTE ON FUNCTION sync_stream_events(text, uuid, bigint, int) FROM PUBLIC;
"""

DOWNGRADE = r"""
DROP FUNCTION sync_stream_events(text, uuid, bigint, int);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
