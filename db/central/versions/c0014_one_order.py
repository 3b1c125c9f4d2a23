"""one order: what numbers central's history takes one lock, and applies in that order

Revision ID: c0014
Revises: c0013
Create Date: 2026-11-25

The replay check (I5) replays events, imports and grants in the order of their numbers
(`central_seq`, `central_import.position`, `escrow_ledger.position`, all from one sequence).
That holds only if whatever takes a number also applies its effects before anything numbered
later. Row locks cannot give that for rows that do not exist yet (a goods-in not committed, an
import) nor for grants, so every writer that numbers takes one transaction-scoped advisory lock
first, `pg_advisory_xact_lock(1163067393)` ("ES" 0001, per database), and holds it to its
commit: a push (only once it is about to insert: the read-only checks come first, so a refused
batch holds nothing), an admin import, a grant. Pushes of different stations therefore apply
one at a time; a batch of 1,000 events takes tens of milliseconds, and a station's catch-up
lets others in between its batches. A push waits at most `lock_timeout` (5 s), then fails and
is retried by the next sync; nothing is lost.

Also:
- contiguity is exact: a batch is taken from hwm + 1 for as long as its seqs run without a
  break, and a batch that gives one seq twice is not taken at all (c0004's count could skip a
  repeated seq and store a gap; c0008's quick check looked at the first and last seq only);
- an event whose payload is not shaped as its type says (a device tag that is not text, an
  exchange without a person) is stored and quarantined, like an unknown schema_v, instead of
  being applied by one path and refused by the other.
"""
from alembic import op

revision = "c0014"
down_revision = "c0013"
branch_labels = None
depends_on = None

ORDER_LOCK = 1163067393

UPGRADE = r"""
CREATE FUNCTION sync_malformed(p_type text, p jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
    SELECT CASE
        WHEN jsonb_typeof(p) IS DISTINCT FROM 'object' THEN true
        WHEN p_type = 'exchange.recorded' THEN
            jsonb_typeof(p -> 'person') IS DISTINCT FROM 'string'
            OR coalesce(p @? 'strict $.issued ? (@.type() != "array")', false)
            OR coalesce(p @? 'strict $.returned ? (@.type() != "array")', false)
            OR coalesce(p @? 'strict $.lost ? (@.type() != "array")', false)
            OR coalesce(p @? 'strict $.registered ? (@.type() != "array")', false)
            OR coalesce(p @? 'strict $.issued[*] ? (@.type() != "string")', false)
            OR coalesce(p @? 'strict $.returned[*] ? (@.type() != "string")', false)
            OR coalesce(p @? 'strict $.lost[*] ? (@.type() != "string")', false)
            OR coalesce(p @? 'strict $.registered[*] ? (@.type() != "string")', false)
        WHEN p_type = 'courier.collected' THEN
            jsonb_typeof(p -> 'collected') IS DISTINCT FROM 'string'
            OR coalesce(p @? 'strict $.issued ? (@.type() != "array")', false)
            OR coalesce(p @? 'strict $.issued[*] ? (@.type() != "string")', false)
        WHEN p_type = 'device.received' THEN
            jsonb_typeof(p -> 'tag') IS DISTINCT FROM 'string'
            OR jsonb_typeof(p -> 'state') IS DISTINCT FROM 'string'
            OR coalesce(p ->> 'type', '') NOT IN ('laptop', 'tablet', 'desktop')
        WHEN p_type IN ('desktop.reclaimed', 'sanitisation.certified') THEN
            jsonb_typeof(p -> 'tag') IS DISTINCT FROM 'string'
        WHEN p_type = 'device.released' THEN
            jsonb_typeof(p -> 'released') IS DISTINCT FROM 'string'
        ELSE false
    END
$$;

CREATE OR REPLACE FUNCTION sync_push_batch(p_station text, p_epoch uuid, p_events jsonb,
                                           OUT status text, OUT hwm bigint, OUT inserted int,
                                           OUT conflicts int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_start bigint;
    v_bad record;
    v_expected int;
    v_new_hwm bigint;
    v_next boolean;
BEGIN
    PERFORM sync_authorise(p_station);
    status := 'ok'; inserted := 0; conflicts := 0;
    -- 1. lock the stream row: a zombie worker and a restarted one never both write
    SELECT s.hwm INTO hwm FROM station_stream s
     WHERE s.station_id = p_station AND s.epoch = p_epoch FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no stream for station % epoch %: handshake first', p_station, p_epoch
            USING ERRCODE = '55000';
    END IF;
    v_start := hwm;
    -- the usual batch is exactly the next run: hwm + 1, hwm + 2, ... in its own order
    SELECT bool_and((x.v ->> 'seq')::bigint = v_start + x.n) INTO v_next
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(v, n);
    IF v_next THEN
        v_expected := jsonb_array_length(p_events);
    ELSE
        -- 2. the part central has already: the same bytes, or the careful path decides
        SELECT e.seq INTO v_bad
          FROM jsonb_to_recordset(p_events) AS e(seq bigint, sha256 text)
          LEFT JOIN event x ON x.station_id = p_station AND x.epoch = p_epoch
                           AND x.seq = e.seq
         WHERE e.seq <= v_start AND x.sha256 IS DISTINCT FROM e.sha256
         LIMIT 1;
        IF FOUND THEN
            PERFORM pg_advisory_xact_lock(1163067393);
            SELECT * INTO status, hwm, inserted, conflicts
              FROM sync_push_batch_rows(p_station, p_epoch, p_events);
            RETURN;
        END IF;
        -- a seq given twice: nothing is taken (a station never sends that)
        IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_events) AS e(seq bigint)
                    WHERE e.seq > v_start GROUP BY e.seq HAVING count(*) > 1) THEN
            status := 'gap';
            RETURN;
        END IF;
        -- 3. contiguity: from hwm + 1, for as long as the seqs run without a break
        SELECT count(*) INTO v_expected FROM (
            SELECT bool_and(r.seq = v_start + r.n) OVER (ORDER BY r.n) AS unbroken
              FROM (SELECT e.seq, row_number() OVER (ORDER BY e.seq) AS n
                      FROM jsonb_to_recordset(p_events) AS e(seq bigint)
                     WHERE e.seq > v_start) r) q
         WHERE q.unbroken;
        IF v_expected = 0 THEN
            IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_events) AS e(seq bigint)
                        WHERE e.seq > v_start) THEN
                status := 'gap';
            END IF;
            RETURN;
        END IF;
    END IF;
    -- one order for everything central numbers (see the migration): taken only now
    PERFORM pg_advisory_xact_lock(1163067393);
    -- 4. insert the run at once; fewer rows stored than given: undo, and go row by row
    BEGIN
        INSERT INTO event (event_id, station_id, epoch, seq, type, schema_v, payload, sha256,
                           operator, occurred_at, status)
        SELECT r.event_id, p_station, p_epoch, r.seq, r.type, r.schema_v, r.payload, r.sha256,
               r.operator, r.occurred_at,
               CASE WHEN r.schema_v > 1 OR sync_malformed(r.type, r.payload)
                    THEN 'quarantined' ELSE 'applied' END
          FROM (SELECT e.*, row_number() OVER (ORDER BY e.seq) AS n
                  FROM jsonb_to_recordset(p_events) AS e(seq bigint, event_id uuid, type text,
                       schema_v int, payload jsonb, sha256 text, operator text,
                       occurred_at text)
                 WHERE e.seq > v_start) r
         WHERE r.n <= v_expected AND r.seq = v_start + r.n
         ORDER BY r.seq
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS inserted = ROW_COUNT;
        IF inserted < v_expected THEN
            RAISE EXCEPTION 'stored elsewhere' USING ERRCODE = 'P0001';
        END IF;
    EXCEPTION WHEN raise_exception THEN
        SELECT * INTO status, hwm, inserted, conflicts
          FROM sync_push_batch_rows(p_station, p_epoch, p_events);
        RETURN;
    END;
    -- 5, 6. projections (set-based, level by level); conflicts become rows, never errors
    conflicts := sync_apply_run(p_station, p_epoch, v_start);
    -- 7. move hwm (the caller commits)
    hwm := v_start + inserted;
    v_new_hwm := hwm;  -- (the OUT parameter shares the column's name)
    UPDATE station_stream s SET hwm = v_new_hwm, last_push_at = now()
     WHERE s.station_id = p_station AND s.epoch = p_epoch;
END $$;

CREATE OR REPLACE FUNCTION escrow_grant(p_station text, p_units int, p_by text) RETURNS int
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE v_left int;
BEGIN
    IF p_units <= 0 THEN
        RAISE EXCEPTION 'a grant is a positive number of units' USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(1163067393);  -- numbered and applied in one order
    -- the pool is debited first, under its CHECK (balance >= 0)
    UPDATE escrow_pool SET balance = balance - p_units RETURNING balance INTO v_left;
    INSERT INTO escrow_ledger (event_id, account, kind, delta, recorded_by)
    VALUES (gen_random_uuid(), p_station, 'grant', p_units, p_by);
    RETURN v_left;
END $$;

REVOKE EXECUTE ON FUNCTION sync_malformed(text, jsonb) FROM PUBLIC;
"""


def _with_order_lock(text: str) -> str:
    """An import function of c0011 that takes the order lock before it numbers."""
    return text.replace("BEGIN\n", "BEGIN\n    PERFORM pg_advisory_xact_lock(1163067393);\n", 1)


def upgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(UPGRADE)
    for name in ("central_import_people", "central_import_devices"):
        op.execute(_with_order_lock(earlier_function("c0011_replayable_admin_writes",
                                                     f"CREATE FUNCTION {name}(")))


def downgrade() -> None:
    from app.sync.central import earlier_function

    for name in ("central_import_people", "central_import_devices"):
        op.execute(earlier_function("c0011_replayable_admin_writes",
                                    f"CREATE FUNCTION {name}("))
    op.execute(earlier_function("c0002_push_functions", "CREATE FUNCTION escrow_grant(",
                                "FUNCTIONS"))
    op.execute(earlier_function("c0008_set_based_projections",
                                "CREATE OR REPLACE FUNCTION sync_push_batch("))
    op.execute("DROP FUNCTION sync_malformed(text, jsonb)")
