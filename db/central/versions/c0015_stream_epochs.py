"""stream epochs: a station restored twice gets back every epoch of its own it lost

Revision ID: c0015
Revises: c0014
Create Date: 2026-11-25

c0010 let a restored station fetch back the events of the epoch its copy was in. A station
restored twice from the same copy (a disk that fails twice before the next backup) also lost
the epoch the first restore started, and with it the exchanges made since: they vanished from
its reports, and their courier laptops from its allowance, so it could courier past the cap.
`sync_stream_epochs` lists a station's epochs at central (its own only, via `sync_authorise`),
so it can fetch every one it does not hold. db/central/roles.sql grants it to stations.
"""
from alembic import op

revision = "c0015"
down_revision = "c0014"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION sync_stream_epochs(p_station text)
RETURNS TABLE (epoch uuid, base bigint, hwm bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM sync_authorise(p_station);
    RETURN QUERY SELECT s.epoch, s.base, s.hwm FROM station_stream s
                  WHERE s.station_id = p_station ORDER BY s.base, s.epoch;
END $$;
REVOKE EXECUTE ON FUNCTION sync_stream_epochs(text) FROM PUBLIC;
"""

DOWNGRADE = r"""
DROP FUNCTION sync_stream_epochs(text);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
