"""the careful row-by-row path quarantines and settles as the others do; a push holds the
order lock at most two seconds past its work

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

And a push that has taken the order lock (c0014) holds it until its COMMIT. A station whose
process froze or whose network dropped right after the push function returned kept every other
station's push waiting for the session's `idle_in_transaction_session_timeout` (60 s), each
failing after its own `lock_timeout` (5 s). Once it holds the lock, `sync_push_batch` now
lowers that timeout to 2 s (never raises it) for the rest of its transaction: a healthy
station commits within milliseconds, and a stuck one is cut off (its batch rolled back; its
next handshake decides) before the stations waiting behind it give up. (Admin imports and
grants take the same lock without this: they are short commands that commit at once.)
"""
from alembic import op

from app.sync.central import replaced

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


# lowers the session's idle limit to 2 s until the COMMIT, never raises it (0: no limit)
CUT_OFF = """PERFORM set_config('idle_in_transaction_session_timeout', '2000', true)
   FROM pg_settings s WHERE s.name = 'idle_in_transaction_session_timeout'
    AND (s.setting::int = 0 OR s.setting::int > 2000);  -- until the COMMIT (c0017)"""


def _push_batch() -> str:
    """c0016's `sync_push_batch`, cutting off a session left idle while it holds the lock."""
    import re

    from app.sync.central import earlier_function

    text = earlier_function("c0016_push_speed", "CREATE OR REPLACE FUNCTION sync_push_batch(",
                            "PUSH_BATCH")
    text, n = re.subn(r"^( *)PERFORM pg_advisory_xact_lock\(1163067393\);\n",
                      r"\g<0>" + CUT_OFF.replace("\n", "\n\\1").join(("\\1", "\n")),
                      text, flags=re.M)
    assert n == 2, n
    return text


#: this revision's functions (what c0019's downgrade puts back)
ROWS_FUNCTION = replaced(_rows_function(), (NOT_SHAPED, QUARANTINED), (APPLY, APPLY_AND_SETTLE))
PUSH_BATCH = _push_batch()


def upgrade() -> None:
    op.execute(ROWS_FUNCTION)
    op.execute(PUSH_BATCH)


def downgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(earlier_function("c0016_push_speed", "CREATE OR REPLACE FUNCTION sync_push_batch(",
                                "PUSH_BATCH"))
    op.execute(_rows_function())
