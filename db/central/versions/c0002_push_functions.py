"""push: handshake, one batch per transaction, projections compare-and-set, conflicts as rows

Revision ID: c0002
Revises: c0001
Create Date: 2026-11-25

SYNC.md 2.3. `sync_push_batch` runs steps 1-7 (lock the stream row, skip and compare what
central already has, demand contiguity from hwm+1, insert idempotently, apply to the
projections, escrow, move hwm) inside the caller's transaction; the caller commits.
Every function is revoked from PUBLIC; roles.sql grants the two entry points to stations.
"""
from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION sync_authorise(p_station text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM station_role
                WHERE station_id = p_station AND role_name = session_user) THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM station_role WHERE role_name = session_user)
       AND has_table_privilege(session_user, 'station_stream', 'UPDATE') THEN
        RETURN;  -- the owner or a central admin
    END IF;
    RAISE EXCEPTION 'role % may not sync station %', session_user, p_station
        USING ERRCODE = '42501';
END $$;

CREATE FUNCTION sync_conflict_add(p_kind text, p_subject text, p_event uuid, p_other uuid)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v_id bigint;
BEGIN
    INSERT INTO sync_conflict (kind, subject) VALUES (p_kind, p_subject)
        ON CONFLICT (kind, subject) WHERE status = 'open' DO NOTHING;
    SELECT id INTO v_id FROM sync_conflict
     WHERE kind = p_kind AND subject = p_subject AND status = 'open';
    INSERT INTO sync_conflict_member VALUES (v_id, p_event) ON CONFLICT DO NOTHING;
    IF p_other IS NOT NULL THEN
        INSERT INTO sync_conflict_member VALUES (v_id, p_other) ON CONFLICT DO NOTHING;
    END IF;
    RETURN v_id;
END $$;

CREATE FUNCTION sync_apply_exchange(ev event, v_site text) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    p jsonb := ev.payload;
    v_person text := p ->> 'person';
    v_courier boolean := coalesce((p ->> 'courier')::boolean, false);
    v_override boolean := EXISTS (SELECT 1 FROM jsonb_array_elements(
                              coalesce(p -> 'exceptions', '[]')) x
                           WHERE x ->> 'rule' IN ('R1', 'R3'));
    v_registered text[] := ARRAY(SELECT jsonb_array_elements_text(
                              coalesce(p -> 'registered', '[]')));
    v_first_type text;
    v_conflicts int := 0;
    v_laptops int := 0;
    v_balance int;
    t text;
    d device_state;
BEGIN
    SELECT type INTO v_first_type FROM device_state
     WHERE asset_tag = p -> 'issued' ->> 0;
    -- returned devices the register did not know, recorded under an R3 override
    INSERT INTO device_state (asset_tag, type, model, state, holder, site, last_event_id)
    SELECT r, coalesce(v_first_type, 'laptop'), 'unregistered',
           CASE WHEN v_courier THEN 'issued' ELSE 'returned' END,
           CASE WHEN v_courier THEN v_person END, v_site, ev.event_id
      FROM unnest(v_registered) r
    ON CONFLICT (asset_tag) DO NOTHING;

    FOR t IN SELECT jsonb_array_elements_text(coalesce(p -> 'returned', '[]')) LOOP
        CONTINUE WHEN t = ANY (v_registered);
        SELECT * INTO d FROM device_state WHERE asset_tag = t;
        IF NOT FOUND THEN
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('HANDOVER_MISSING', 'device:' || t, ev.event_id, NULL);
        ELSIF d.state IN ('returned', 'sanitised', 'redistributed', 'disposed') THEN
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('PERSON_DOUBLE_EXCHANGE', 'person:' || v_person,
                                      ev.event_id, d.last_event_id);
            UPDATE person_state SET disputed = true WHERE staff_id = v_person;
        ELSIF d.holder IS NOT DISTINCT FROM v_person OR d.holder IS NULL OR v_override THEN
            IF NOT v_courier THEN
                UPDATE device_state SET state = 'returned', holder = NULL,
                       version = version + 1, last_event_id = ev.event_id
                 WHERE asset_tag = t;
            END IF;
        ELSE
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('HANDOVER_MISMATCH', 'device:' || t, ev.event_id,
                                      d.last_event_id);
            UPDATE device_state SET disputed = true WHERE asset_tag = t;
        END IF;
    END LOOP;

    FOR t IN SELECT jsonb_array_elements_text(coalesce(p -> 'lost', '[]')) LOOP
        UPDATE device_state SET state = 'lost', holder = NULL, version = version + 1,
               last_event_id = ev.event_id
         WHERE asset_tag = t;
    END LOOP;

    FOR t IN SELECT jsonb_array_elements_text(coalesce(p -> 'issued', '[]')) LOOP
        SELECT * INTO d FROM device_state WHERE asset_tag = t;
        IF NOT FOUND THEN
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('HANDOVER_MISSING', 'device:' || t, ev.event_id, NULL);
            CONTINUE;
        END IF;
        IF d.type = 'laptop' THEN
            v_laptops := v_laptops + 1;  -- a disputed duplicate still counts (SYNC.md 2.6)
        END IF;
        IF d.state = 'in_stock' THEN
            UPDATE device_state
               SET state = CASE WHEN v_courier THEN 'courier_pending' ELSE 'issued' END,
                   holder = v_person, version = version + 1, last_event_id = ev.event_id
             WHERE asset_tag = t;
        ELSE
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('DEVICE_DOUBLE_ISSUE', 'device:' || t, ev.event_id,
                                      d.last_event_id);
            UPDATE device_state SET disputed = true WHERE asset_tag = t;
        END IF;
    END LOOP;

    IF v_laptops > 0 THEN
        UPDATE station_stream
           SET counter_laptops = counter_laptops + CASE WHEN v_courier THEN 0 ELSE v_laptops END,
               courier_laptops = courier_laptops + CASE WHEN v_courier THEN v_laptops ELSE 0 END
         WHERE station_id = ev.station_id AND epoch = ev.epoch;
        SELECT sum(s.counter_laptops - 3 * s.courier_laptops - s.released_units)
               + coalesce((SELECT sum(delta) FROM escrow_ledger
                            WHERE account = ev.station_id AND kind = 'grant'), 0)
          INTO v_balance
          FROM station_stream s WHERE s.station_id = ev.station_id;
        IF v_balance < 0 THEN
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('COURIER_OVERRUN', 'station:' || ev.station_id,
                                      ev.event_id, NULL);
        END IF;
    END IF;
    RETURN v_conflicts;
END $$;

CREATE FUNCTION sync_apply_resolution(ev event) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    p jsonb := ev.payload;
    v_decision jsonb := coalesce(p -> 'decision', '{}');
    v_subject text;
BEGIN
    UPDATE sync_conflict
       SET status = 'resolved', resolved_by = ev.operator, resolved_at = now(),
           resolution_event_id = ev.event_id, decision = v_decision
     WHERE id = (p ->> 'conflict_id')::bigint AND status = 'open'
    RETURNING subject INTO v_subject;
    IF NOT FOUND THEN
        RETURN;  -- resolved already (by another site lead): the first decision stands
    END IF;
    IF v_subject LIKE 'device:%' THEN
        UPDATE device_state
           SET state = coalesce(v_decision ->> 'state', state),
               holder = CASE WHEN v_decision ? 'holder' THEN v_decision ->> 'holder'
                             ELSE holder END,
               disputed = EXISTS (SELECT 1 FROM sync_conflict
                                   WHERE subject = v_subject AND status = 'open'),
               version = version + 1, last_event_id = ev.event_id
         WHERE asset_tag = substr(v_subject, 8);
    ELSIF v_subject LIKE 'person:%' THEN
        UPDATE person_state
           SET disputed = EXISTS (SELECT 1 FROM sync_conflict
                                   WHERE subject = v_subject AND status = 'open'),
               version = version + 1, last_event_id = ev.event_id
         WHERE staff_id = substr(v_subject, 8);
    END IF;
END $$;

CREATE FUNCTION sync_apply(ev event) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    p jsonb := ev.payload;
    v_site text;
    v_units int;
    v_conflicts int := 0;
BEGIN
    SELECT site INTO v_site FROM station_stream
     WHERE station_id = ev.station_id AND epoch = ev.epoch;
    CASE ev.type
    WHEN 'people.imported' THEN
        INSERT INTO person_state AS ps (staff_id, name, site, shielding, assistive_tech,
                                        last_event_id)
        SELECT r ->> 0, r ->> 1, r ->> 2, (r ->> 3)::boolean, (r ->> 4)::boolean, ev.event_id
          FROM jsonb_array_elements(p -> 'rows') r
        ON CONFLICT (staff_id) DO UPDATE
           SET name = EXCLUDED.name, site = EXCLUDED.site, shielding = EXCLUDED.shielding,
               assistive_tech = EXCLUDED.assistive_tech, version = ps.version + 1,
               last_event_id = EXCLUDED.last_event_id;
    WHEN 'devices.imported' THEN
        INSERT INTO device_state (asset_tag, serial, type, model, os, state, holder, sole_use,
                                  site, last_event_id)
        SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4,
               CASE WHEN r ->> 5 IS NULL THEN 'in_service' ELSE 'issued' END,
               r ->> 5, coalesce((r ->> 6)::boolean, false), v_site, ev.event_id
          FROM jsonb_array_elements(p -> 'rows') r
        ON CONFLICT (asset_tag) DO NOTHING;
    WHEN 'stock.imported' THEN
        INSERT INTO device_state (asset_tag, serial, type, model, os, state, site,
                                  unit_cost_pence, last_event_id)
        SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4, 'in_stock', v_site,
               (r ->> 5)::int, ev.event_id
          FROM jsonb_array_elements(p -> 'rows') r
        ON CONFLICT (asset_tag) DO NOTHING;
    WHEN 'device.received' THEN
        INSERT INTO device_state (asset_tag, serial, type, model, os, state, holder, sole_use,
                                  site, last_event_id)
        VALUES (p ->> 'tag', p ->> 'serial', p ->> 'type', p ->> 'model', p ->> 'os',
                p ->> 'state', p ->> 'holder', coalesce((p ->> 'sole_use')::boolean, false),
                coalesce(p ->> 'site', v_site), ev.event_id)
        ON CONFLICT (asset_tag) DO NOTHING;
    WHEN 'exchange.recorded' THEN
        v_conflicts := sync_apply_exchange(ev, v_site);
    WHEN 'courier.collected' THEN
        UPDATE device_state SET state = 'returned', holder = NULL, version = version + 1,
               last_event_id = ev.event_id
         WHERE asset_tag = p ->> 'collected';
        UPDATE device_state SET state = 'issued', version = version + 1,
               last_event_id = ev.event_id
         WHERE asset_tag IN (SELECT jsonb_array_elements_text(coalesce(p -> 'issued', '[]')))
           AND state = 'courier_pending';
    WHEN 'desktop.reclaimed' THEN
        UPDATE device_state SET state = 'returned', holder = NULL, version = version + 1,
               last_event_id = ev.event_id
         WHERE asset_tag = p ->> 'tag';
    WHEN 'sanitisation.certified' THEN
        UPDATE device_state SET state = 'sanitised', holder = NULL, version = version + 1,
               last_event_id = ev.event_id
         WHERE asset_tag = p ->> 'tag';
    WHEN 'device.released' THEN
        UPDATE device_state
           SET state = CASE WHEN p ->> 'route' = 'reuse' THEN 'redistributed' ELSE 'disposed' END,
               holder = NULL, version = version + 1, last_event_id = ev.event_id
         WHERE asset_tag = p ->> 'released';
    WHEN 'escrow.released' THEN
        v_units := (p ->> 'units')::int;
        UPDATE station_stream SET released_units = released_units + v_units
         WHERE station_id = ev.station_id AND epoch = ev.epoch;
        INSERT INTO escrow_ledger (event_id, account, kind, delta, recorded_by)
        VALUES (ev.event_id, ev.station_id, 'release', -v_units, ev.operator);
        UPDATE escrow_pool SET balance = balance + v_units;
    WHEN 'conflict.resolved' THEN
        PERFORM sync_apply_resolution(ev);
    ELSE
        NULL;  -- recorded, with nothing to project centrally
    END CASE;
    IF v_conflicts > 0 THEN
        UPDATE event SET status = 'conflict' WHERE central_seq = ev.central_seq;
    END IF;
    RETURN v_conflicts;
END $$;

CREATE FUNCTION sync_handshake(p_station text, p_epoch uuid, p_site text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v_hwm bigint;
BEGIN
    PERFORM sync_authorise(p_station);
    INSERT INTO station_stream (station_id, epoch, site) VALUES (p_station, p_epoch, p_site)
        ON CONFLICT DO NOTHING;
    SELECT hwm INTO v_hwm FROM station_stream
     WHERE station_id = p_station AND epoch = p_epoch;
    RETURN v_hwm;
END $$;

CREATE FUNCTION sync_push_batch(p_station text, p_epoch uuid, p_events jsonb,
                                OUT status text, OUT hwm bigint, OUT inserted int,
                                OUT conflicts int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    e jsonb;
    v_seq bigint;
    v_sha text;
    v_stored event;
    v_new_hwm bigint;
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
    -- lock the subjects in sorted order (no deadlock between stations)
    PERFORM 1 FROM device_state WHERE asset_tag IN (
        SELECT x #>> '{}' FROM jsonb_array_elements(p_events) ev,
               jsonb_path_query(ev -> 'payload',
                   '$.issued[*] ? (@.type() == "string")') x
        UNION SELECT x #>> '{}' FROM jsonb_array_elements(p_events) ev,
               jsonb_path_query(ev -> 'payload',
                   '$.returned[*] ? (@.type() == "string")') x
        UNION SELECT x #>> '{}' FROM jsonb_array_elements(p_events) ev,
               jsonb_path_query(ev -> 'payload', '$.lost[*] ? (@.type() == "string")') x
        UNION SELECT ev -> 'payload' ->> 'collected' FROM jsonb_array_elements(p_events) ev
        UNION SELECT ev -> 'payload' ->> 'tag' FROM jsonb_array_elements(p_events) ev
        UNION SELECT ev -> 'payload' ->> 'released' FROM jsonb_array_elements(p_events) ev)
      ORDER BY asset_tag FOR UPDATE;

    FOR e IN SELECT value FROM jsonb_array_elements(p_events)
              ORDER BY (value ->> 'seq')::bigint LOOP
        v_seq := (e ->> 'seq')::bigint;
        IF v_seq <= hwm THEN
            -- 2. central has it already: the same bytes, or a conflict that stops the push
            SELECT x.sha256 INTO v_sha FROM event x
             WHERE x.station_id = p_station AND x.epoch = p_epoch AND x.seq = v_seq;
            IF v_sha IS DISTINCT FROM e ->> 'sha256' THEN
                PERFORM sync_conflict_add('PAYLOAD_MISMATCH',
                    'stream:' || p_station || ':' || p_epoch || ':' || v_seq,
                    (e ->> 'event_id')::uuid, NULL);
                conflicts := conflicts + 1;
                status := 'mismatch';
                EXIT;
            END IF;
            CONTINUE;
        END IF;
        -- 3. contiguity: the rest must start at hwm + 1
        IF v_seq <> hwm + 1 THEN
            status := 'gap';
            EXIT;
        END IF;
        -- 4. insert, idempotently
        INSERT INTO event (event_id, station_id, epoch, seq, type, schema_v, payload, sha256,
                           operator, occurred_at, status)
        VALUES ((e ->> 'event_id')::uuid, p_station, p_epoch, v_seq, e ->> 'type',
                (e ->> 'schema_v')::int, e -> 'payload', e ->> 'sha256', e ->> 'operator',
                e ->> 'occurred_at',
                CASE WHEN (e ->> 'schema_v')::int > 1 THEN 'quarantined' ELSE 'applied' END)
        ON CONFLICT DO NOTHING
        RETURNING * INTO v_stored;
        IF NOT FOUND THEN
            -- the event id is stored already under another position: never store it twice
            PERFORM sync_conflict_add('PAYLOAD_MISMATCH',
                'stream:' || p_station || ':' || p_epoch || ':' || v_seq,
                (e ->> 'event_id')::uuid, NULL);
            conflicts := conflicts + 1;
            status := 'mismatch';
            EXIT;
        END IF;
        -- 5, 6. projections compare-and-set style; conflicts become rows, never errors
        IF v_stored.status = 'applied' THEN
            conflicts := conflicts + sync_apply(v_stored);
        END IF;
        hwm := v_seq;
        inserted := inserted + 1;
    END LOOP;
    -- 7. move hwm (the caller commits)
    v_new_hwm := hwm;  -- (the OUT parameter shares the column's name)
    UPDATE station_stream s SET hwm = v_new_hwm, last_push_at = now()
     WHERE s.station_id = p_station AND s.epoch = p_epoch;
END $$;

CREATE FUNCTION escrow_grant(p_station text, p_units int, p_by text) RETURNS int
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE v_left int;
BEGIN
    IF p_units <= 0 THEN
        RAISE EXCEPTION 'a grant is a positive number of units' USING ERRCODE = '22023';
    END IF;
    -- the pool is debited first, under its CHECK (balance >= 0)
    UPDATE escrow_pool SET balance = balance - p_units RETURNING balance INTO v_left;
    INSERT INTO escrow_ledger (event_id, account, kind, delta, recorded_by)
    VALUES (gen_random_uuid(), p_station, 'grant', p_units, p_by);
    RETURN v_left;
END $$;

REVOKE EXECUTE ON FUNCTION sync_authorise(text), sync_conflict_add(text, text, uuid, uuid),
    sync_apply_exchange(event, text), sync_apply_resolution(event), sync_apply(event),
    sync_handshake(text, uuid, text), sync_push_batch(text, uuid, jsonb),
    escrow_grant(text, int, text), ref_change_log() FROM PUBLIC;
"""

DROP = """
DROP FUNCTION IF EXISTS escrow_grant(text, int, text), sync_push_batch(text, uuid, jsonb),
    sync_handshake(text, uuid, text), sync_apply(event), sync_apply_resolution(event),
    sync_apply_exchange(event, text), sync_conflict_add(text, text, uuid, uuid),
    sync_authorise(text);
GRANT EXECUTE ON FUNCTION ref_change_log() TO PUBLIC;  -- as c0001 left it
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(DROP)
