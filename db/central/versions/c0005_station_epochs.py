"""epochs: a station restored from an older copy goes on in a new stream (SYNC.md 2.3 step 0)

Revision ID: c0005
Revises: c0004
Create Date: 2026-11-25

A stream may start after `base` (the station's events before it are in its earlier epochs):
contiguity then runs from base + 1. `sync_stream_hashes` lets a station compare its outbox
with what central holds of its own stream, so it can find where a restored copy parted from it.
"""
from alembic import op

revision = "c0005"
down_revision = "c0004"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE station_stream ADD COLUMN base bigint NOT NULL DEFAULT 0 CHECK (base >= 0);
ALTER TABLE station_stream ADD CONSTRAINT station_stream_hwm_after_base CHECK (hwm >= base);

CREATE FUNCTION sync_handshake(p_station text, p_epoch uuid, p_site text, p_base bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v_hwm bigint;
BEGIN
    PERFORM sync_authorise(p_station);
    INSERT INTO station_stream (station_id, epoch, site, hwm, base)
    VALUES (p_station, p_epoch, p_site, p_base, p_base)
        ON CONFLICT DO NOTHING;
    SELECT hwm INTO v_hwm FROM station_stream
     WHERE station_id = p_station AND epoch = p_epoch;
    RETURN v_hwm;
END $$;

CREATE FUNCTION sync_stream_hashes(p_station text, p_epoch uuid, p_after bigint,
                                   p_upto bigint)
RETURNS TABLE (seq bigint, sha256 text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM sync_authorise(p_station);
    RETURN QUERY SELECT e.seq, e.sha256 FROM event e
                  WHERE e.station_id = p_station AND e.epoch = p_epoch
                    AND e.seq > p_after AND e.seq <= p_upto
                  ORDER BY e.seq;
END $$;

REVOKE EXECUTE ON FUNCTION sync_handshake(text, uuid, text, bigint),
    sync_stream_hashes(text, uuid, bigint, bigint) FROM PUBLIC;
"""

DOWNGRADE = r"""
DROP FUNCTION sync_stream_hashes(text, uuid, bigint, bigint);
DROP FUNCTION sync_handshake(text, uuid, text, bigint);
ALTER TABLE station_stream DROP CONSTRAINT station_stream_hwm_after_base;
ALTER TABLE station_stream DROP COLUMN base;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
