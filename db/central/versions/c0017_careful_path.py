"""the careful row-by-row path quarantines and settles as the others do

Revision ID: c0017
Revises: c0016
Create Date: 2026-11-26

`sync_push_batch_rows` (c0002's push, renamed by c0004) takes a batch event by event when it
overlaps what central holds with other bytes, or names an event id stored elsewhere. It had
fallen behind the paths that take every other batch:

- an event whose payload is not shaped as its type says (c0014's `sync_malformed`) was applied
  there, not quarantined: a shape the projections cannot read failed the whole batch, and the
  station's every later sync with it;
- a decision waiting for its conflict (c0013) was not settled by the event that re-creates the
  conflict, when that event came this way: the conflict stayed open until the next event on it.
"""
from alembic import op

revision = "c0017"
down_revision = "c0016"
branch_labels = None
depends_on = None

NOT_SHAPED = """                CASE WHEN (e ->> 'schema_v')::int > 1 THEN 'quarantined' ELSE 'applied' END)"""
QUARANTINED = """                CASE WHEN (e ->> 'schema_v')::int > 1
                          OR sync_malformed(e ->> 'type', e -> 'payload')
                     THEN 'quarantined' ELSE 'applied' END)"""
APPLY = """        IF v_stored.status = 'applied' THEN
            conflicts := conflicts + sync_apply(v_stored);
        END IF;"""
APPLY_AND_SETTLE = """        IF v_stored.status = 'applied' THEN
            conflicts := conflicts + sync_apply(v_stored);
            -- a decision that waits for a conflict this event may have re-created (c0013)
            IF v_stored.type <> 'conflict.resolved'
               AND EXISTS (SELECT 1 FROM sync_pending_decision) THEN
                PERFORM sync_settle_pending(v_stored.event_id);
            END IF;
        END IF;"""


def _rows_function() -> str:
    """c0002's push as c0004 renamed it: `sync_push_batch_rows`."""
    from app.sync.central import earlier_function

    text = earlier_function("c0002_push_functions", "CREATE FUNCTION sync_push_batch(",
                            "FUNCTIONS")
    return text.replace("FUNCTION sync_push_batch(", "FUNCTION sync_push_batch_rows(", 1)


def _changed(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def upgrade() -> None:
    text = _changed(_rows_function(), NOT_SHAPED, QUARANTINED)
    op.execute(_changed(text, APPLY, APPLY_AND_SETTLE))


def downgrade() -> None:
    op.execute(_rows_function())
