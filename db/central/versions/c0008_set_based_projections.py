"""push: projections applied set-based, level by level; no per-row foreign-key check on event

Revision ID: c0008
Revises: c0007
Create Date: 2026-11-25

c0004 applied a batch's projections one event at a time (`sync_apply`, ~10 statements and a
statement trigger per event): that, and the foreign key from `event` to `station_stream`
(one referential-integrity lookup per stored row), made a push run at 0.04 of COPY.

`sync_apply_run` gives the same projections and conflicts with a few statements per batch:

1. Every applied event of the run names its *subjects*: the devices it touches (`d:TAG`) and,
   for an exchange, its person (`p:ID`).
2. An event's *level* is one more than the highest level of an earlier event of the run that
   shares a subject with it. Events of one level share no subject, so they commute, and
   applying the levels in order is the same as applying the events in seq order.
3. Each level is one INSERT (goods-in) and one UPDATE of `device_state`; what cannot be
   merged is collected as findings (kind, subject, event, the other event).
4. At the end: the courier balance at every exchange (a window over seq; the balance before
   the batch plus each exchange's laptops), the conflict rows and their members, the
   disputed flags and each conflicting event's status, in a handful of statements.

Anything outside that shape goes through the per-event path of c0004, kept whole as
`sync_apply_each`: imports, escrow releases and conflict decisions (they touch state beyond
their subjects), exchanges that register unknown devices, and an event that names one device
twice. `SET sync.per_event = on` forces it for a session (the differential test compares the
two paths on random batches).

The foreign key `event (station_id, epoch) -> station_stream` goes: the only writer of `event`
is `sync_push_batch`, which locks that stream row (FOR UPDATE) before it inserts, and stream
rows are never deleted. The checker's I2 confirms every event belongs to a stream.
"""
from alembic import op

revision = "c0008"
down_revision = "c0007"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE event DROP CONSTRAINT event_station_id_epoch_fkey;

-- HOT updates: a projection changes a device row in place, with no index entry to add, when
-- its page has room and no indexed column changes. Only asset_tag is indexed now (nothing
-- looked devices up by holder; an admin's ad-hoc lookup scans 100,000 rows in milliseconds).
-- Pages written before this keep no room until `VACUUM FULL device_state`.
DROP INDEX device_state_holder;
ALTER TABLE device_state SET (fillfactor = 70);

-- the per-event path of c0004, unchanged, as a function of its own
CREATE FUNCTION sync_apply_each(p_station text, p_epoch uuid, p_after bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_stored event;
    v_conflicts int := 0;
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
        END CASE;
    END LOOP;
    RETURN v_conflicts;
END $$;

CREATE FUNCTION sync_apply_run(p_station text, p_epoch uuid, p_after bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    -- the run's device references, one element each (no work table: a station's role could
    -- plant a temporary table of that name for this SECURITY DEFINER function to write to)
    t_seq bigint[];
    t_event uuid[];
    t_type text[];
    t_role text[];
    t_tag text[];
    t_person text[];
    t_courier boolean[];
    t_override boolean[];
    v_n int;
    v_from bigint[];
    v_to bigint[];
    v_level int[];
    v_max int;
    v_site text;
    v_kind text[] := '{}';
    v_subject text[] := '{}';
    v_event uuid[] := '{}';
    v_other uuid[] := '{}';
    v_fseq bigint[] := '{}';
    v_lseq bigint[] := '{}';
    v_laptops int[] := '{}';
    v_courier boolean[] := '{}';
    f_kind text[];
    f_subject text[];
    f_event uuid[];
    f_other uuid[];
    f_seq bigint[];
    l_seq bigint[];
    l_laptops int[];
    l_courier boolean[];
    v_balance bigint;
    v_counter int;
    v_couriered int;
    v_found int;
BEGIN
    IF coalesce(current_setting('sync.per_event', true), '') IN ('on', 'true', '1') THEN
        RETURN sync_apply_each(p_station, p_epoch, p_after);
    END IF;
    -- 0. outside the set-based shape: the per-event path
    IF EXISTS (
        SELECT 1 FROM event e
         WHERE e.station_id = p_station AND e.epoch = p_epoch AND e.seq > p_after
           AND e.status = 'applied'
           AND (e.type IN ('people.imported', 'devices.imported', 'stock.imported',
                           'escrow.released', 'conflict.resolved')
                OR (e.type = 'exchange.recorded'
                    AND jsonb_array_length(coalesce(e.payload -> 'registered', '[]')) > 0))) THEN
        RETURN sync_apply_each(p_station, p_epoch, p_after);
    END IF;

    -- 1. every device reference of the run: (event, role, tag)
    SELECT coalesce(array_agg(x.seq ORDER BY x.seq, x.tag), '{}'),
           array_agg(x.event_id ORDER BY x.seq, x.tag), array_agg(x.type ORDER BY x.seq, x.tag),
           array_agg(x.role ORDER BY x.seq, x.tag), array_agg(x.tag ORDER BY x.seq, x.tag),
           array_agg(x.person ORDER BY x.seq, x.tag),
           array_agg(x.courier ORDER BY x.seq, x.tag),
           array_agg(x.override ORDER BY x.seq, x.tag)
      INTO t_seq, t_event, t_type, t_role, t_tag, t_person, t_courier, t_override
      FROM (SELECT e.seq, e.event_id, e.type, r.role, r.tag, e.payload ->> 'person' AS person,
                   coalesce((e.payload ->> 'courier')::boolean, false) AS courier,
                   e.type = 'exchange.recorded' AND EXISTS (
                       SELECT 1 FROM jsonb_array_elements(
                                         coalesce(e.payload -> 'exceptions', '[]')) o
                        WHERE o ->> 'rule' IN ('R1', 'R3')) AS override
              FROM event e
              CROSS JOIN LATERAL (
                  SELECT 'returned', t FROM jsonb_array_elements_text(
                         coalesce(e.payload -> 'returned', '[]')) t
                   WHERE e.type = 'exchange.recorded'
                  UNION ALL
                  SELECT 'lost', t FROM jsonb_array_elements_text(
                         coalesce(e.payload -> 'lost', '[]')) t
                   WHERE e.type = 'exchange.recorded'
                  UNION ALL
                  SELECT 'issued', t FROM jsonb_array_elements_text(
                         coalesce(e.payload -> 'issued', '[]')) t
                   WHERE e.type = 'exchange.recorded'
                  UNION ALL
                  SELECT 'collected', e.payload ->> 'collected'
                   WHERE e.type = 'courier.collected'
                  UNION ALL
                  SELECT 'released', t FROM jsonb_array_elements_text(
                         coalesce(e.payload -> 'issued', '[]')) t
                   WHERE e.type = 'courier.collected'
                  UNION ALL
                  SELECT 'single', e.payload ->> 'tag'
                   WHERE e.type IN ('device.received', 'desktop.reclaimed',
                                    'sanitisation.certified')
                  UNION ALL
                  SELECT CASE WHEN e.payload ->> 'route' = 'reuse' THEN 'to_reuse'
                              ELSE 'to_disposal' END, e.payload ->> 'released'
                   WHERE e.type = 'device.released'
              ) AS r(role, tag)
             WHERE e.station_id = p_station AND e.epoch = p_epoch AND e.seq > p_after
               AND e.status = 'applied' AND r.tag IS NOT NULL) x;
    IF cardinality(t_seq) = 0 THEN
        RETURN 0;  -- nothing here touches a device
    END IF;
    -- an event that names one device twice: its own order matters, so per event
    IF EXISTS (SELECT 1 FROM unnest(t_seq, t_tag) AS u(seq, tag)
                GROUP BY u.seq, u.tag HAVING count(*) > 1) THEN
        RETURN sync_apply_each(p_station, p_epoch, p_after);
    END IF;

    -- 2. levels: one more than the last earlier event sharing a device or a person
    v_n := t_seq[cardinality(t_seq)] - p_after;
    SELECT coalesce(array_agg(s.prev ORDER BY s.seq, s.prev), '{}'),
           coalesce(array_agg(s.seq ORDER BY s.seq, s.prev), '{}')
      INTO v_from, v_to
      FROM (SELECT DISTINCT o.seq, o.prev FROM (
                SELECT u.seq, lag(u.seq) OVER (PARTITION BY u.subject ORDER BY u.seq) AS prev
                  FROM (SELECT DISTINCT a.seq, a.subject FROM (
                          SELECT seq, 'd:' || tag AS subject
                            FROM unnest(t_seq, t_tag) AS z(seq, tag)
                          UNION ALL
                          SELECT seq, 'p:' || person
                            FROM unnest(t_seq, t_type, t_person) AS z(seq, type, person)
                           WHERE type = 'exchange.recorded' AND person IS NOT NULL) a) u) o
             WHERE o.prev IS NOT NULL) s;
    v_level := array_fill(1, ARRAY[v_n]);
    FOR i IN 1 .. cardinality(v_to) LOOP
        v_level[v_to[i] - p_after] := greatest(v_level[v_to[i] - p_after],
                                               v_level[v_from[i] - p_after] + 1);
    END LOOP;
    v_max := (SELECT max(l) FROM unnest(v_level) l);
    RAISE DEBUG 'set-based: % events in % levels', v_n, v_max;

    -- (the caller, sync_push_batch, has locked the devices and people before numbering)
    SELECT s.site INTO v_site FROM station_stream s
     WHERE s.station_id = p_station AND s.epoch = p_epoch;

    -- 3. level by level: goods-in inserted, every other change in one UPDATE
    FOR v_lvl IN 1 .. v_max LOOP
        INSERT INTO device_state (asset_tag, serial, type, model, os, state, holder, sole_use,
                                  site, last_event_id)
        SELECT p ->> 'tag', p ->> 'serial', p ->> 'type', p ->> 'model', p ->> 'os',
               p ->> 'state', p ->> 'holder', coalesce((p ->> 'sole_use')::boolean, false),
               coalesce(p ->> 'site', v_site), e.event_id
          FROM event e, LATERAL (SELECT e.payload) AS q(p)
         WHERE e.station_id = p_station AND e.epoch = p_epoch AND e.seq > p_after
           AND e.type = 'device.received' AND e.status = 'applied'
           AND v_level[e.seq - p_after] = v_lvl
         ORDER BY e.seq
        ON CONFLICT (asset_tag) DO NOTHING;

        WITH j AS (  -- (LATERAL: one index lookup a reference, whatever the statistics say)
            SELECT t.*, d.asset_tag IS NOT NULL AS found, d.type AS dtype, d.state,
                   d.holder, d.last_event_id, d.issue_event_id, d.return_event_id
              FROM unnest(t_seq, t_event, t_type, t_role, t_tag, t_person, t_courier,
                          t_override)
                   AS t(seq, event_id, type, role, tag, person, courier, override)
              LEFT JOIN LATERAL (SELECT * FROM device_state x WHERE x.asset_tag = t.tag) d
                ON true
             WHERE v_level[t.seq - p_after] = v_lvl
               AND NOT (t.role = 'single' AND t.type = 'device.received')
        ), decided AS (
            SELECT j.*,
                CASE
                WHEN j.role = 'returned' THEN
                    CASE WHEN NOT j.found THEN 'HANDOVER_MISSING'
                         WHEN j.state IN ('returned', 'sanitised', 'redistributed', 'disposed')
                              THEN 'PERSON_DOUBLE_EXCHANGE'
                         WHEN j.holder IS NOT DISTINCT FROM j.person OR j.holder IS NULL
                              OR j.override THEN CASE WHEN j.courier THEN 'keep' ELSE 'apply' END
                         ELSE 'HANDOVER_MISMATCH' END
                WHEN j.role = 'issued' THEN
                    CASE WHEN NOT j.found THEN 'HANDOVER_MISSING'
                         WHEN j.state = 'in_stock' THEN 'apply'
                         ELSE 'DEVICE_DOUBLE_ISSUE' END
                WHEN j.role = 'released' THEN
                    CASE WHEN j.state = 'courier_pending' THEN 'apply' ELSE 'keep' END
                ELSE CASE WHEN j.found THEN 'apply' ELSE 'keep' END  -- lost, collected, one tag
                END AS outcome
              FROM j
        ), applied AS (
            UPDATE device_state d
               SET state = CASE
                       WHEN x.role IN ('returned', 'collected') THEN 'returned'
                       WHEN x.role = 'lost' THEN 'lost'
                       WHEN x.role = 'issued' THEN
                            CASE WHEN x.courier THEN 'courier_pending' ELSE 'issued' END
                       WHEN x.role = 'released' THEN 'issued'
                       WHEN x.type = 'desktop.reclaimed' THEN 'returned'
                       WHEN x.type = 'sanitisation.certified' THEN 'sanitised'
                       WHEN x.role = 'to_reuse' THEN 'redistributed'
                       ELSE 'disposed' END,  -- to_disposal
                   holder = CASE WHEN x.role = 'issued' THEN x.person
                                 WHEN x.role = 'released' THEN d.holder END,
                   version = d.version + 1,
                   last_event_id = x.event_id,
                   issue_event_id = CASE WHEN x.role = 'issued' THEN x.event_id
                                         ELSE d.issue_event_id END,
                   return_event_id = CASE WHEN x.role = 'returned' THEN x.event_id
                                          ELSE d.return_event_id END
              FROM decided x
             WHERE d.asset_tag = x.tag AND x.outcome = 'apply'
        ), findings AS (
            SELECT x.outcome AS kind,
                   CASE WHEN x.outcome = 'PERSON_DOUBLE_EXCHANGE' THEN 'person:' || x.person
                        ELSE 'device:' || x.tag END AS subject,
                   x.event_id,
                   CASE x.outcome
                   WHEN 'PERSON_DOUBLE_EXCHANGE'
                        THEN coalesce(x.return_event_id, x.last_event_id)
                   WHEN 'DEVICE_DOUBLE_ISSUE' THEN coalesce(x.issue_event_id, x.last_event_id)
                   WHEN 'HANDOVER_MISMATCH' THEN x.last_event_id
                   END AS other,
                   x.seq
              FROM decided x
             WHERE x.outcome NOT IN ('apply', 'keep')
        ), laptops AS (
            SELECT x.seq, bool_or(x.courier) AS courier,
                   count(*) FILTER (WHERE x.dtype = 'laptop')::int AS n
              FROM decided x
             WHERE x.role = 'issued' AND x.found
             GROUP BY x.seq
        )
        SELECT (SELECT coalesce(array_agg(kind ORDER BY seq), '{}') FROM findings),
               (SELECT coalesce(array_agg(subject ORDER BY seq), '{}') FROM findings),
               (SELECT coalesce(array_agg(event_id ORDER BY seq), '{}') FROM findings),
               (SELECT coalesce(array_agg(other ORDER BY seq), '{}') FROM findings),
               (SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM findings),
               (SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM laptops WHERE n > 0),
               (SELECT coalesce(array_agg(n ORDER BY seq), '{}') FROM laptops WHERE n > 0),
               (SELECT coalesce(array_agg(courier ORDER BY seq), '{}') FROM laptops WHERE n > 0)
          INTO f_kind, f_subject, f_event, f_other, f_seq, l_seq, l_laptops, l_courier;
        v_kind := v_kind || f_kind;
        v_subject := v_subject || f_subject;
        v_event := v_event || f_event;
        v_other := v_other || f_other;
        v_fseq := v_fseq || f_seq;
        v_lseq := v_lseq || l_seq;
        v_laptops := v_laptops || l_laptops;
        v_courier := v_courier || l_courier;
    END LOOP;

    -- 4. the courier balance after every exchange that issued laptops, in seq order
    IF cardinality(v_lseq) > 0 THEN
        SELECT sum(s.counter_laptops - 3 * s.courier_laptops - s.released_units)
               + coalesce((SELECT sum(g.delta) FROM escrow_ledger g
                            WHERE g.account = p_station AND g.kind = 'grant'), 0)
          INTO v_balance
          FROM station_stream s WHERE s.station_id = p_station;
        SELECT coalesce(sum(n) FILTER (WHERE NOT c), 0), coalesce(sum(n) FILTER (WHERE c), 0)
          INTO v_counter, v_couriered
          FROM unnest(v_laptops, v_courier) AS l(n, c);
        UPDATE station_stream
           SET counter_laptops = counter_laptops + v_counter,
               courier_laptops = courier_laptops + v_couriered
         WHERE station_id = p_station AND epoch = p_epoch;
        SELECT v_kind || coalesce(array_agg('COURIER_OVERRUN'::text ORDER BY r.seq), '{}'),
               v_subject || coalesce(array_agg('station:' || p_station ORDER BY r.seq), '{}'),
               v_event || coalesce(array_agg(e.event_id ORDER BY r.seq), '{}'),
               v_other || coalesce(array_agg(NULL::uuid ORDER BY r.seq), '{}'),
               v_fseq || coalesce(array_agg(r.seq ORDER BY r.seq), '{}')
          INTO v_kind, v_subject, v_event, v_other, v_fseq
          FROM (SELECT l.seq, v_balance + sum(CASE WHEN l.c THEN -3 * l.n ELSE l.n END)
                                          OVER (ORDER BY l.seq) AS balance
                  FROM unnest(v_lseq, v_laptops, v_courier) AS l(seq, n, c)) r
          JOIN event e ON e.station_id = p_station AND e.epoch = p_epoch AND e.seq = r.seq
         WHERE r.balance < 0;
    END IF;

    -- 4. conflicts as rows, both records kept; disputed flags; the events' status
    v_found := cardinality(v_kind);
    IF v_found > 0 THEN
        INSERT INTO sync_conflict (kind, subject)
        SELECT f.kind, f.subject
          FROM (SELECT DISTINCT ON (u.kind, u.subject) u.kind, u.subject, u.seq
                  FROM unnest(v_kind, v_subject, v_fseq) AS u(kind, subject, seq)
                 ORDER BY u.kind, u.subject, u.seq) f
         ORDER BY f.seq
        ON CONFLICT (kind, subject) WHERE status = 'open' DO NOTHING;
        INSERT INTO sync_conflict_member (conflict_id, event_id)
        SELECT DISTINCT c.id, m.event_id
          FROM unnest(v_kind, v_subject, v_event, v_other) AS u(kind, subject, ev, other)
          JOIN sync_conflict c ON c.kind = u.kind AND c.subject = u.subject
                              AND c.status = 'open'
          CROSS JOIN LATERAL (VALUES (u.ev), (u.other)) AS m(event_id)
         WHERE m.event_id IS NOT NULL
        ON CONFLICT DO NOTHING;
        UPDATE device_state SET disputed = true
         WHERE NOT disputed AND asset_tag IN (
               SELECT substr(u.subject, 8) FROM unnest(v_kind, v_subject) AS u(kind, subject)
                WHERE u.kind IN ('DEVICE_DOUBLE_ISSUE', 'HANDOVER_MISMATCH'));
        UPDATE person_state SET disputed = true
         WHERE NOT disputed AND staff_id IN (
               SELECT substr(u.subject, 8) FROM unnest(v_kind, v_subject) AS u(kind, subject)
                WHERE u.kind = 'PERSON_DOUBLE_EXCHANGE');
        UPDATE event SET status = 'conflict'
         WHERE station_id = p_station AND epoch = p_epoch AND seq = ANY (v_fseq);
    END IF;
    RETURN v_found;
END $$;

CREATE OR REPLACE FUNCTION sync_push_batch(p_station text, p_epoch uuid, p_events jsonb,
                                           OUT status text, OUT hwm bigint, OUT inserted int,
                                           OUT conflicts int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_start bigint;
    v_bad record;
    v_expected int;
    v_new_hwm bigint;
    v_len int;
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
    -- lock the devices and people the batch names, in sorted order (no deadlock between
    -- stations), BEFORE its events are numbered: two batches that touch one device are then
    -- numbered (central_seq) in the order they are applied, and a replay in central_seq order
    -- gives the same projections (I5)
    PERFORM 1 FROM device_state WHERE asset_tag IN (
        SELECT t FROM jsonb_array_elements(p_events) ev,
               LATERAL (SELECT ev -> 'payload' AS p) q,
               LATERAL (SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(a) = 'array'
                                                             THEN a ELSE '[]' END)
                          FROM (VALUES (q.p -> 'issued'), (q.p -> 'returned'), (q.p -> 'lost'),
                                       (q.p -> 'registered')) v(a)
                        UNION ALL
                        SELECT q.p ->> k FROM unnest(ARRAY['collected', 'tag', 'released']) k
                       ) x(t)
         WHERE t IS NOT NULL
        UNION
        SELECT substr(ev -> 'payload' ->> 'subject', 8) FROM jsonb_array_elements(p_events) ev
         WHERE ev ->> 'type' = 'conflict.resolved'
           AND ev -> 'payload' ->> 'subject' LIKE 'device:%'
        UNION
        SELECT substr(c.subject, 8) FROM sync_conflict c
         WHERE c.subject LIKE 'device:%' AND c.id IN (
               SELECT (ev -> 'payload' ->> 'conflict_id')::bigint
                 FROM jsonb_array_elements(p_events) ev
                WHERE ev ->> 'type' = 'conflict.resolved'))
      ORDER BY asset_tag FOR UPDATE;
    PERFORM 1 FROM person_state WHERE staff_id IN (
        SELECT ev -> 'payload' ->> 'person' FROM jsonb_array_elements(p_events) ev
         WHERE ev ->> 'type' = 'exchange.recorded'
        UNION
        SELECT substr(ev -> 'payload' ->> 'subject', 8) FROM jsonb_array_elements(p_events) ev
         WHERE ev ->> 'type' = 'conflict.resolved'
           AND ev -> 'payload' ->> 'subject' LIKE 'person:%'
        UNION
        SELECT substr(c.subject, 8) FROM sync_conflict c
         WHERE c.subject LIKE 'person:%' AND c.id IN (
               SELECT (ev -> 'payload' ->> 'conflict_id')::bigint
                 FROM jsonb_array_elements(p_events) ev
                WHERE ev ->> 'type' = 'conflict.resolved'))
      ORDER BY staff_id FOR UPDATE;
    -- the usual batch is exactly the next run, hwm + 1 .. hwm + n: straight to the insert
    -- (if two of its seqs are equal, or an event id is stored already, the insert stores
    -- fewer rows than it was given and the careful path below takes over)
    v_len := jsonb_array_length(p_events);
    IF v_len > 0 AND (p_events -> 0 ->> 'seq')::bigint = hwm + 1
       AND (p_events -> (v_len - 1) ->> 'seq')::bigint = hwm + v_len THEN
        v_start := hwm;
        BEGIN
            INSERT INTO event (event_id, station_id, epoch, seq, type, schema_v, payload,
                               sha256, operator, occurred_at, status)
            SELECT r.event_id, p_station, p_epoch, r.seq, r.type, r.schema_v, r.payload,
                   r.sha256, r.operator, r.occurred_at,
                   CASE WHEN r.schema_v > 1 THEN 'quarantined' ELSE 'applied' END
              FROM jsonb_to_recordset(p_events) AS r(seq bigint, event_id uuid, type text,
                   schema_v int, payload jsonb, sha256 text, operator text, occurred_at text)
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS inserted = ROW_COUNT;
            IF inserted < v_len THEN
                RAISE EXCEPTION 'not the next run' USING ERRCODE = 'P0001';
            END IF;
        EXCEPTION WHEN raise_exception THEN
            inserted := 0;  -- undone: the checks below decide
        END;
        IF inserted = v_len THEN
            conflicts := sync_apply_run(p_station, p_epoch, v_start);
            hwm := v_start + inserted;
            v_new_hwm := hwm;
            UPDATE station_stream s SET hwm = v_new_hwm, last_push_at = now()
             WHERE s.station_id = p_station AND s.epoch = p_epoch;
            RETURN;
        END IF;
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
    -- 5, 6. projections (set-based, level by level); conflicts become rows, never errors
    conflicts := sync_apply_run(p_station, p_epoch, v_start);
    -- 7. move hwm (the caller commits)
    hwm := v_start + inserted;
    v_new_hwm := hwm;  -- (the OUT parameter shares the column's name)
    UPDATE station_stream s SET hwm = v_new_hwm, last_push_at = now()
     WHERE s.station_id = p_station AND s.epoch = p_epoch;
END $$;

-- the transition tables are estimated at one row each: without this, their join is a nested
-- loop, quadratic in the rows one statement changes
ALTER FUNCTION ref_change_device() SET enable_nestloop = off;
ALTER FUNCTION ref_change_person() SET enable_nestloop = off;

REVOKE EXECUTE ON FUNCTION sync_apply_each(text, uuid, bigint),
    sync_apply_run(text, uuid, bigint) FROM PUBLIC;
"""

DOWNGRADE = r"""
ALTER TABLE device_state RESET (fillfactor);
CREATE INDEX device_state_holder ON device_state (holder);
ALTER FUNCTION ref_change_device() RESET enable_nestloop;
ALTER FUNCTION ref_change_person() RESET enable_nestloop;
DROP FUNCTION sync_apply_run(text, uuid, bigint);
DROP FUNCTION sync_apply_each(text, uuid, bigint);
ALTER TABLE event ADD CONSTRAINT event_station_id_epoch_fkey
    FOREIGN KEY (station_id, epoch) REFERENCES station_stream;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(DOWNGRADE)
    op.execute(earlier_function("c0004_batch_insert", "CREATE FUNCTION sync_push_batch("))
