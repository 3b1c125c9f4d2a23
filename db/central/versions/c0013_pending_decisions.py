"""a decision that arrives before its conflict waits for it (central restored from a dump)

Revision ID: c0013
Revises: c0012
Create Date: 2026-11-25

After central is restored from a dump, the stations send their events again in whatever order
they sync: a site lead's decision can arrive before the events that re-create its conflict.
c0012 found nothing to close and the conflict stayed open for ever. Now such a decision is kept
in `sync_pending_decision` (its kind, subject and the records the lead saw), and as soon as an
event leaves an open conflict of that kind and subject holding every one of those records, the
decision is applied there, right after that event (the first decision stands: later ones for
the same records are dropped). A decision on a conflict that central holds as resolved already
is not kept (as before).

While a decision waits, the set-based projections of c0008 hand the batches that name its device
or person to the per-event path (`sync_apply_run` becomes a wrapper that decides), so both give
the same order of effects. Not covered: the careful path of a batch that overlaps what central
holds (c0002's row-by-row `sync_push_batch_rows`) does not settle waiting decisions; the next
event on that conflict does.
"""
from alembic import op

revision = "c0013"
down_revision = "c0012"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE sync_pending_decision (
    event_id     uuid PRIMARY KEY,
    kind         text NOT NULL,
    subject      text NOT NULL,
    records      jsonb NOT NULL DEFAULT '[]',
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_pending_decision_subject ON sync_pending_decision (kind, subject);

-- the records of a decision (jsonb array of event ids) all members of conflict p_conflict
CREATE FUNCTION sync_records_within(p_records jsonb, p_conflict bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(coalesce(p_records, '[]')) r
         WHERE NOT EXISTS (SELECT 1 FROM sync_conflict_member m
                            WHERE m.conflict_id = p_conflict AND m.event_id::text = r))
$$;

-- after event p_event: the waiting decisions its open conflicts now satisfy
CREATE FUNCTION sync_settle_pending(p_event uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    c sync_conflict;
    v_decision event;
BEGIN
    FOR c IN SELECT x.* FROM sync_conflict x
              WHERE x.status = 'open'
                AND x.id IN (SELECT m.conflict_id FROM sync_conflict_member m
                              WHERE m.event_id = p_event)
              ORDER BY x.id LOOP
        SELECT e.* INTO v_decision
          FROM sync_pending_decision d JOIN event e ON e.event_id = d.event_id
         WHERE d.kind = c.kind AND d.subject = c.subject
           AND sync_records_within(d.records, c.id)
         ORDER BY e.central_seq LIMIT 1;
        CONTINUE WHEN NOT FOUND;
        DELETE FROM sync_pending_decision d
         WHERE d.kind = c.kind AND d.subject = c.subject
           AND sync_records_within(d.records, c.id);
        PERFORM sync_apply_resolution(v_decision);
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION sync_apply_resolution(ev event) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    p jsonb := ev.payload;
    v_decision jsonb := coalesce(p -> 'decision', '{}');
    v_id bigint;
    v_subject text;
BEGIN
    -- the conflict the site lead decided: an open one of the kind and subject the lead saw,
    -- holding every record the lead saw; the one with the lead's id first (ids are central's
    -- own: after a restore from a dump an id may name another conflict)
    SELECT c.id INTO v_id FROM sync_conflict c
     WHERE c.status = 'open'
       AND (c.id = (p ->> 'conflict_id')::bigint
            OR (c.kind = p ->> 'kind' AND c.subject = p ->> 'subject'))
       AND (NOT p ? 'kind' OR c.kind = p ->> 'kind')
       AND (NOT p ? 'subject' OR c.subject = p ->> 'subject')
       AND sync_records_within(p -> 'records', c.id)
     ORDER BY c.id = (p ->> 'conflict_id')::bigint DESC, c.id
     LIMIT 1;
    IF v_id IS NULL THEN
        -- decided already (by another site lead: the first decision stands), or its conflict
        -- is not here yet (central restored from a dump): then it waits for it
        IF p ? 'kind' AND p ? 'subject' AND NOT EXISTS (
               SELECT 1 FROM sync_conflict c
                WHERE c.kind = p ->> 'kind' AND c.subject = p ->> 'subject'
                  AND c.status = 'resolved' AND sync_records_within(p -> 'records', c.id)) THEN
            INSERT INTO sync_pending_decision (event_id, kind, subject, records)
            VALUES (ev.event_id, p ->> 'kind', p ->> 'subject', coalesce(p -> 'records', '[]'))
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN;
    END IF;
    UPDATE sync_conflict
       SET status = 'resolved', resolved_by = ev.operator, resolved_at = now(),
           resolution_event_id = ev.event_id, decision = v_decision
     WHERE id = v_id
    RETURNING subject INTO v_subject;
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

CREATE OR REPLACE FUNCTION sync_apply_each(p_station text, p_epoch uuid, p_after bigint)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_stored event;
    v_conflicts int := 0;
    v_waiting boolean := EXISTS (SELECT 1 FROM sync_pending_decision);
BEGIN
    FOR v_stored IN SELECT * FROM event ev
                     WHERE ev.station_id = p_station AND ev.epoch = p_epoch
                       AND ev.seq > p_after AND ev.status = 'applied'
                     ORDER BY ev.seq LOOP
        CASE v_stored.type
        WHEN 'station.initialised', 'operator.added', 'device.disks_recorded',
             'sanitisation.review_queued' THEN
            NULL;  -- nothing to project centrally
        ELSE
            v_conflicts := v_conflicts + sync_apply(v_stored);
            IF v_stored.type = 'conflict.resolved' THEN
                v_waiting := EXISTS (SELECT 1 FROM sync_pending_decision);
            ELSIF v_waiting THEN
                PERFORM sync_settle_pending(v_stored.event_id);
            END IF;
        END CASE;
    END LOOP;
    RETURN v_conflicts;
END $$;

ALTER FUNCTION sync_apply_run(text, uuid, bigint) RENAME TO sync_apply_sets;
CREATE FUNCTION sync_apply_run(p_station text, p_epoch uuid, p_after bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- a decision waits for a conflict on something this run names: per event (a decision
    -- that never finds its conflict slows only the batches that name its device or person)
    IF EXISTS (SELECT 1 FROM sync_pending_decision d
                WHERE EXISTS (SELECT 1 FROM event e
                               WHERE e.station_id = p_station AND e.epoch = p_epoch
                                 AND e.seq > p_after
                                 AND (d.subject = 'station:' || p_station
                                      OR strpos(e.payload::text, '"' || substr(d.subject,
                                                strpos(d.subject, ':') + 1) || '"') > 0))) THEN
        RETURN sync_apply_each(p_station, p_epoch, p_after);
    END IF;
    RETURN sync_apply_sets(p_station, p_epoch, p_after);
END $$;

REVOKE EXECUTE ON FUNCTION sync_records_within(jsonb, bigint), sync_settle_pending(uuid),
    sync_apply_run(text, uuid, bigint), sync_apply_sets(text, uuid, bigint) FROM PUBLIC;
"""

DOWNGRADE = r"""
DROP FUNCTION sync_apply_run(text, uuid, bigint);
ALTER FUNCTION sync_apply_sets(text, uuid, bigint) RENAME TO sync_apply_run;
DROP FUNCTION sync_settle_pending(uuid);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(DOWNGRADE)
    op.execute(earlier_function("c0012_decisions_by_subject",
                                "CREATE OR REPLACE FUNCTION sync_apply_resolution("))
    op.execute(earlier_function("c0008_set_based_projections",
                                "CREATE FUNCTION sync_apply_each("))
    op.execute("DROP FUNCTION sync_records_within(jsonb, bigint); "
               "DROP TABLE sync_pending_decision;")
