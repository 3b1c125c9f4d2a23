"""per-event apply: a release past the balance opens a COURIER_OVERRUN; a bare goods-in is stored

Revision ID: c0018
Revises: c0017
Create Date: 2026-11-26

A station releases only units it holds (R5, `app/domain/escrow.py`), as far as it knows. A
station restored from an older copy does not know, before its first sync, about the releases
the copy lost: it can give the same units back again, and its balance at central
(B = N - 3C + G - R over all its streams) goes below 0. Only the checker said so (I8). Now the
release that takes the balance below 0 opens (or joins) the station's COURIER_OVERRUN conflict,
so the site lead sees it in the Conflicts screen, like a courier issue past the balance.

And a goods-in without serial, model or os (an older or odd station; `sync_malformed` lets it
through) failed the whole batch on a NOT NULL column, and so every later sync of the station.
It is stored with them empty, the columns' default, on every path (c0016 does the same in the
set-based one).
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


RECEIVED = """        VALUES (p ->> 'tag', p ->> 'serial', p ->> 'type', p ->> 'model', p ->> 'os',
"""
RECEIVED_BARE = """        VALUES (p ->> 'tag', coalesce(p ->> 'serial', ''), p ->> 'type',
                coalesce(p ->> 'model', ''), coalesce(p ->> 'os', ''),
"""


def _apply() -> str:
    from app.sync.central import earlier_function

    return earlier_function("c0002_push_functions", "CREATE FUNCTION sync_apply(", "FUNCTIONS")


def upgrade() -> None:
    from app.sync.central import replaced

    op.execute(replaced(_apply(), (RELEASED, RELEASED_CHECKED), (RECEIVED, RECEIVED_BARE)))


def downgrade() -> None:
    op.execute(_apply())
