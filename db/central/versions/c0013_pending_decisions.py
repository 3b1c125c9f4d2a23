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


# c0012's decision, which now keeps one that finds no conflict yet waiting for it
DECIDED_ALREADY = """    IF v_id IS NULL THEN
        RETURN;  -- resolved already (by another site lead): the first decision stands
    END IF;"""
WAIT_FOR_IT = """    IF v_id IS NULL THEN
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
    END IF;"""

# c0008's per-event loop, which now settles waiting decisions after each event
EACH_EVENT = """            v_conflicts := v_conflicts + sync_apply(v_stored);"""
SETTLE = """            v_conflicts := v_conflicts + sync_apply(v_stored);
            IF v_stored.type = 'conflict.resolved' THEN
                v_waiting := EXISTS (SELECT 1 FROM sync_pending_decision);
            ELSIF v_waiting THEN
                PERFORM sync_settle_pending(v_stored.event_id);
            END IF;"""


def _changed(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def upgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(UPGRADE)
    op.execute(_changed(earlier_function("c0012_decisions_by_subject",
                                         "CREATE OR REPLACE FUNCTION sync_apply_resolution("),
                        DECIDED_ALREADY, WAIT_FOR_IT))
    each = earlier_function("c0008_set_based_projections", "CREATE FUNCTION sync_apply_each(")
    each = _changed(each, "    v_conflicts int := 0;\n",
                    "    v_conflicts int := 0;\n"
                    "    v_waiting boolean := EXISTS (SELECT 1 FROM sync_pending_decision);\n")
    op.execute(_changed(each, EACH_EVENT, SETTLE))


def downgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(DOWNGRADE)
    op.execute(earlier_function("c0012_decisions_by_subject",
                                "CREATE OR REPLACE FUNCTION sync_apply_resolution("))
    op.execute(earlier_function("c0008_set_based_projections",
                                "CREATE FUNCTION sync_apply_each("))
    op.execute("DROP FUNCTION sync_records_within(jsonb, bigint); "
               "DROP TABLE sync_pending_decision;")
