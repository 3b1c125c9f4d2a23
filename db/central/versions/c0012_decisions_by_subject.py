"""decisions find their conflict by kind, subject and records, not by central's id alone

Revision ID: c0012
Revises: c0011
Create Date: 2026-11-25

A `conflict.resolved` event names the conflict by central's id, and also carries its kind,
subject and the records the site lead saw (app/sync/conflicts.py). Ids are central's own: after
central is restored from a dump and the stations send their events again, the same id may name
another conflict, and c0002 would have closed that one. Now a decision closes the open conflict
of its kind and subject that holds every record the lead saw (the one with its id, if that is
one of them); if there is none it closes nothing (as before: the first decision stands).
"""
from alembic import op

revision = "c0012"
down_revision = "c0011"
branch_labels = None
depends_on = None

UPGRADE = r"""
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
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements_text(coalesce(p -> 'records', '[]')) r
            WHERE NOT EXISTS (SELECT 1 FROM sync_conflict_member m
                               WHERE m.conflict_id = c.id AND m.event_id::text = r))
     ORDER BY c.id = (p ->> 'conflict_id')::bigint DESC, c.id
     LIMIT 1;
    IF v_id IS NULL THEN
        RETURN;  -- resolved already (by another site lead): the first decision stands
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
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(earlier_function("c0002_push_functions",
                                "CREATE FUNCTION sync_apply_resolution(ev event)", "FUNCTIONS"))
