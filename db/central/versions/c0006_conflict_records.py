"""conflicts pair the right records: the event that issued a device, the one that took it back

Revision ID: c0006
Revises: c0005
Create Date: 2026-11-25

A DEVICE_DOUBLE_ISSUE holds the two issuing exchanges and a PERSON_DOUBLE_EXCHANGE the two
hand-backs, even when something else (a return, a certificate) touched the device in between;
c0002 paired the newest event that touched the device.
"""
from alembic import op

revision = "c0006"
down_revision = "c0005"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE device_state ADD COLUMN issue_event_id uuid, ADD COLUMN return_event_id uuid;

CREATE OR REPLACE FUNCTION sync_apply_exchange(ev event, v_site text) RETURNS int
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
                                      ev.event_id, coalesce(d.return_event_id, d.last_event_id));
            UPDATE person_state SET disputed = true WHERE staff_id = v_person;
        ELSIF d.holder IS NOT DISTINCT FROM v_person OR d.holder IS NULL OR v_override THEN
            IF NOT v_courier THEN
                UPDATE device_state SET state = 'returned', holder = NULL,
                       version = version + 1, last_event_id = ev.event_id,
                       return_event_id = ev.event_id
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
                   holder = v_person, version = version + 1, last_event_id = ev.event_id,
               issue_event_id = ev.event_id
             WHERE asset_tag = t;
        ELSE
            v_conflicts := v_conflicts + 1;
            PERFORM sync_conflict_add('DEVICE_DOUBLE_ISSUE', 'device:' || t, ev.event_id,
                                      coalesce(d.issue_event_id, d.last_event_id));
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
"""

DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION sync_apply_exchange(ev event, v_site text) RETURNS int
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

ALTER TABLE device_state DROP COLUMN issue_event_id, DROP COLUMN return_event_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
