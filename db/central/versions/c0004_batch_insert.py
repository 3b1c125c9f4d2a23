"""push: one INSERT per batch, and ref_change logged per statement (transition tables)

Revision ID: c0004
Revises: c0003
Create Date: 2026-11-25

Same protocol as c0002, faster: the overlap with what central has is compared in one query,
the contiguous run after hwm is inserted with one `INSERT ... ON CONFLICT DO NOTHING`, and the
projections are applied in seq order. If that insert stores fewer rows than it was given (an
event id already stored at another position), it is undone and the row-by-row path of c0002
records the PAYLOAD_MISMATCH. The ref_change triggers become statement triggers that read
transition tables instead of building a jsonb of every row.
"""
from alembic import op

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER FUNCTION sync_push_batch(text, uuid, jsonb) RENAME TO sync_push_batch_rows;

CREATE FUNCTION sync_push_batch(p_station text, p_epoch uuid, p_events jsonb,
                                OUT status text, OUT hwm bigint, OUT inserted int,
                                OUT conflicts int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_start bigint;
    v_bad record;
    v_expected int;
    v_stored event;
    v_new_hwm bigint;
BEGIN
    PERFORM sync_authorise(p_station);
    status := 'ok'; inserted := 0; conflicts := 0;
    SELECT s.hwm INTO hwm FROM station_stream s
     WHERE s.station_id = p_station AND s.epoch = p_epoch FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no stream for station % epoch %: handshake first', p_station, p_epoch
            USING ERRCODE = '55000';
    END IF;
    -- 2. the part central has already: the same bytes, or the careful path decides
    SELECT e.seq INTO v_bad
      FROM jsonb_to_recordset(p_events) AS e(seq bigint, sha256 text)
      LEFT JOIN event x ON x.station_id = p_station AND x.epoch = p_epoch AND x.seq = e.seq
     WHERE e.seq <= hwm AND x.sha256 IS DISTINCT FROM e.sha256
     LIMIT 1;
    IF FOUND THEN
        SELECT * INTO status, hwm, inserted, conflicts
          FROM sync_push_batch_rows(p_station, p_epoch, p_events);
        RETURN;
    END IF;
    -- 3. contiguity: the new part must start at hwm + 1 (only the unbroken run is taken)
    v_start := hwm;
    SELECT count(*) INTO v_expected FROM (
        SELECT e.seq, row_number() OVER (ORDER BY e.seq) AS n
          FROM jsonb_to_recordset(p_events) AS e(seq bigint) WHERE e.seq > v_start) r
     WHERE r.seq = v_start + r.n;
    IF v_expected = 0 THEN
        IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_events) AS e(seq bigint)
                    WHERE e.seq > v_start) THEN
            status := 'gap';
        END IF;
        RETURN;
    END IF;
    -- 4. insert the run at once; fewer rows stored than given: undo, and go row by row
    BEGIN
        WITH run AS (
            SELECT e.*, row_number() OVER (ORDER BY e.seq) AS n
              FROM jsonb_to_recordset(p_events) AS e(seq bigint, event_id uuid, type text,
                   schema_v int, payload jsonb, sha256 text, operator text, occurred_at text)
             WHERE e.seq > v_start)
        INSERT INTO event (event_id, station_id, epoch, seq, type, schema_v, payload, sha256,
                           operator, occurred_at, status)
        SELECT r.event_id, p_station, p_epoch, r.seq, r.type, r.schema_v, r.payload, r.sha256,
               r.operator, r.occurred_at,
               CASE WHEN r.schema_v > 1 THEN 'quarantined' ELSE 'applied' END
          FROM run r WHERE r.seq = v_start + r.n ORDER BY r.seq
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
    -- lock the subjects in sorted order (no deadlock between stations)
    PERFORM 1 FROM device_state WHERE asset_tag IN (
        SELECT x #>> '{}' FROM event ev,
               jsonb_path_query(ev.payload, '$.issued[*] ? (@.type() == "string")') x
         WHERE ev.station_id = p_station AND ev.epoch = p_epoch AND ev.seq > v_start
           AND ev.type = 'exchange.recorded'
        UNION SELECT x #>> '{}' FROM event ev,
               jsonb_path_query(ev.payload, '$.returned[*] ? (@.type() == "string")') x
         WHERE ev.station_id = p_station AND ev.epoch = p_epoch AND ev.seq > v_start
           AND ev.type = 'exchange.recorded'
        UNION SELECT coalesce(ev.payload ->> 'collected', ev.payload ->> 'tag',
                              ev.payload ->> 'released')
          FROM event ev
         WHERE ev.station_id = p_station AND ev.epoch = p_epoch AND ev.seq > v_start
           AND ev.type IN ('courier.collected', 'desktop.reclaimed', 'device.released',
                           'sanitisation.certified'))
      ORDER BY asset_tag FOR UPDATE;
    -- 5, 6. projections in seq order; conflicts become rows, never errors
    FOR v_stored IN SELECT * FROM event ev
                     WHERE ev.station_id = p_station AND ev.epoch = p_epoch
                       AND ev.seq > v_start AND ev.status = 'applied'
                     ORDER BY ev.seq LOOP
        CASE v_stored.type
        WHEN 'station.initialised', 'operator.added', 'device.disks_recorded',
             'sanitisation.review_queued' THEN
            NULL;  -- nothing to project centrally
        ELSE
            conflicts := conflicts + sync_apply(v_stored);
        END CASE;
    END LOOP;
    -- 7. move hwm (the caller commits)
    hwm := v_start + inserted;
    v_new_hwm := hwm;  -- (the OUT parameter shares the column's name)
    UPDATE station_stream s SET hwm = v_new_hwm, last_push_at = now()
     WHERE s.station_id = p_station AND s.epoch = p_epoch;
END $$;
REVOKE EXECUTE ON FUNCTION sync_push_batch(text, uuid, jsonb),
    sync_push_batch_rows(text, uuid, jsonb) FROM PUBLIC;

DROP TRIGGER person_state_added ON person_state;
DROP TRIGGER person_state_changed ON person_state;
DROP TRIGGER device_state_added ON device_state;
DROP TRIGGER device_state_changed ON device_state;
DROP TRIGGER escrow_ledger_added ON escrow_ledger;

CREATE FUNCTION ref_change_person() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ref_change (tbl, pk, op) SELECT 'person', n.staff_id, 'I' FROM new_rows n;
    ELSE
        INSERT INTO ref_change (tbl, pk, op)
        SELECT 'person', n.staff_id, 'U' FROM new_rows n JOIN old_rows o USING (staff_id)
         WHERE o.* IS DISTINCT FROM n.*;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ref_change_device() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ref_change (tbl, pk, op) SELECT 'device', n.asset_tag, 'I' FROM new_rows n;
    ELSE
        INSERT INTO ref_change (tbl, pk, op)
        SELECT 'device', n.asset_tag, 'U' FROM new_rows n JOIN old_rows o USING (asset_tag)
         WHERE o.* IS DISTINCT FROM n.*;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ref_change_escrow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO ref_change (tbl, pk, op) SELECT 'escrow', n.account, 'I' FROM new_rows n;
    RETURN NULL;
END $$;

CREATE TRIGGER person_state_added AFTER INSERT ON person_state
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ref_change_person();
CREATE TRIGGER person_state_changed AFTER UPDATE ON person_state
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ref_change_person();
CREATE TRIGGER device_state_added AFTER INSERT ON device_state
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ref_change_device();
CREATE TRIGGER device_state_changed AFTER UPDATE ON device_state
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ref_change_device();
CREATE TRIGGER escrow_ledger_added AFTER INSERT ON escrow_ledger
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ref_change_escrow();
REVOKE EXECUTE ON FUNCTION ref_change_person(), ref_change_device(), ref_change_escrow()
    FROM PUBLIC;
"""

DOWNGRADE = r"""
DROP TRIGGER person_state_added ON person_state;
DROP TRIGGER person_state_changed ON person_state;
DROP TRIGGER device_state_added ON device_state;
DROP TRIGGER device_state_changed ON device_state;
DROP TRIGGER escrow_ledger_added ON escrow_ledger;
DROP FUNCTION ref_change_person(), ref_change_device(), ref_change_escrow();
CREATE TRIGGER person_state_added AFTER INSERT ON person_state
    FOR EACH ROW EXECUTE FUNCTION ref_change_log('person', 'staff_id');
CREATE TRIGGER person_state_changed AFTER UPDATE ON person_state
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION ref_change_log('person', 'staff_id');
CREATE TRIGGER device_state_added AFTER INSERT ON device_state
    FOR EACH ROW EXECUTE FUNCTION ref_change_log('device', 'asset_tag');
CREATE TRIGGER device_state_changed AFTER UPDATE ON device_state
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION ref_change_log('device', 'asset_tag');
CREATE TRIGGER escrow_ledger_added AFTER INSERT ON escrow_ledger
    FOR EACH ROW EXECUTE FUNCTION ref_change_log('escrow', 'account');
DROP FUNCTION sync_push_batch(text, uuid, jsonb);
ALTER FUNCTION sync_push_batch_rows(text, uuid, jsonb) RENAME TO sync_push_batch;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
