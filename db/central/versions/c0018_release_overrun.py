"""a release of units the station no longer holds opens a COURIER_OVERRUN, as a courier issue does

Revision ID: c0018
Revises: c0017
Create Date: 2026-11-26

A station releases only units it holds (R5, `app/domain/escrow.py`), as far as it knows. A
station restored from an older copy does not know, before its first sync, about the releases
the copy lost: it can give the same units back again, and its balance at central
(B = N - 3C + G - R over all its streams) goes below 0. Only the checker said so (I8). Now the
release that takes the balance below 0 opens (or joins) the station's COURIER_OVERRUN conflict,
so the site lead sees it in the Conflicts screen, like a courier issue past the balance.
"""
from alembic import op

revision = "c0018"
down_revision = "c0017"
branch_labels = None
depends_on = None

RELEASED = """        UPDATE escrow_pool SET balance = balance + v_units;
"""
RELEASED_CHECKED = """        UPDATE escrow_pool SET balance = balance + v_units;
        -- units it did not hold (a restored copy giving back what its lost events gave)
        IF (SELECT sum(s.counter_laptops - 3 * s.courier_laptops - s.released_units)
                   + coalesce((SELECT sum(g.delta) FROM escrow_ledger g
                                WHERE g.account = ev.station_id AND g.kind = 'grant'), 0)
              FROM station_stream s WHERE s.station_id = ev.station_id) < 0 THEN
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('COURIER_OVERRUN', 'station:' || ev.station_id,
                                      ev.event_id, NULL);
        END IF;
"""


def _apply() -> str:
    from app.sync.central import earlier_function

    return earlier_function("c0002_push_functions", "CREATE FUNCTION sync_apply(", "FUNCTIONS")


def upgrade() -> None:
    text = _apply()
    assert text.count(RELEASED) == 1
    op.execute(text.replace(RELEASED, RELEASED_CHECKED))


def downgrade() -> None:
    op.execute(_apply())
