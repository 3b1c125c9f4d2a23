"""push speed: malformed check inlined, no speculative insert, each device written once a batch

Revision ID: c0016
Revises: c0015
Create Date: 2026-11-26

Measured on the 100,000-event counter's day of bench/bench_sync.py (pg_stat_user_functions and
auto_explain of one batch), two things cost most of a push:

- c0014's `sync_malformed` carried `SET search_path`, and PostgreSQL never inlines a SQL
  function with a SET clause: each of a batch's 1,000 rows paid a full function call (about
  20 us), a third of the push. Its body names only built-in functions and operators
  (pg_catalog is searched first whatever the path), so the clause goes and the planner folds
  the check into the INSERT.
- The run's INSERT into `event` said ON CONFLICT DO NOTHING, so each row was a speculative
  insertion checked against all three unique indexes first. A run that is exactly hwm+1..hwm+n
  almost never collides; a plain INSERT whose unique_violation hands the batch to the careful
  row-by-row path (as a short count did before) stores the same and does less per row.
- c0008's projections wrote a device row once per reference, level by level: a new laptop was
  inserted at goods-in and updated at its issue; an old one updated when handed back, certified
  and released, each write a new row version, a ref_change row and an index entry. Now each
  device's references are folded in seq order by one recursive query (step k decides every
  device's k-th reference against the state after step k - 1), and each device is written once,
  with its final state: inserted if goods-in made it, else updated. The decisions, findings,
  courier counts and versions are c0008's (tests/sync/test_set_based_projections.py compares
  them with the per-event path on random batches). Levels are no longer needed: references to
  different devices never depended on one another, and the person of an exchange was never
  read by the set-based path (PERSON_DOUBLE_EXCHANGE is found on the device handed back).
  A run of goods-in only (new stock arriving) skips the fold: one INSERT, the first goods-in
  of a tag winning, as the fold and the per-event path give. A goods-in without serial, model
  or os stores them empty (the columns' default), as c0018 makes the per-event path do: it
  failed the whole batch (NOT NULL), and so every later sync of that station.

Measured with bench/bench_sync.py (100,000 events, medians of 3, this 2-core machine): a
counter's day from 0.090 of COPY (c0015) to 0.15-0.16, goods-in only from 0.10 to 0.15-0.16.
Still short of SYNC.md's 0.25: storing the events alone, projections switched off, is 0.21
(goods-in) to 0.26 (day) of COPY; see db/central/README.md.
"""
from alembic import op

revision = "c0016"
down_revision = "c0015"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER FUNCTION sync_malformed(text, jsonb) RESET search_path;
"""

# sync_apply_sets is c0008's sync_apply_run (renamed by c0013) with these parts replaced; its
# step 0 (what goes to the per-event path) and its courier balance and conflict rows stay.
SETS_DECLARE = """DECLARE
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
    t_received jsonb[];
    v_site text;
    v_kind text[];
    v_subject text[];
    v_event uuid[];
    v_other uuid[];
    v_fseq bigint[];
    v_lseq bigint[];
    v_laptops int[];
    v_courier boolean[];
    v_balance bigint;
    v_counter int;
    v_couriered int;
    v_found int;
"""

# step 1 keeps c0008's LATERAL list of references; its head changes: no ORDER BY in each
# aggregate (everything after orders by seq itself), and goods-in's payload carried along
REFERENCES_HEAD = """    -- 1. every device reference of the run: (event, role, tag); in no particular order
    -- (everything below orders by seq itself), and with goods-in's payload for its insert
    SELECT coalesce(array_agg(x.seq), '{}'), array_agg(x.event_id), array_agg(x.type),
           array_agg(x.role), array_agg(x.tag), array_agg(x.person), array_agg(x.courier),
           array_agg(x.override), array_agg(x.received)
      INTO t_seq, t_event, t_type, t_role, t_tag, t_person, t_courier, t_override, t_received
      FROM (SELECT e.seq, e.event_id, e.type, r.role, r.tag, e.payload ->> 'person' AS person,
                   coalesce((e.payload ->> 'courier')::boolean, false) AS courier,
                   e.type = 'exchange.recorded' AND EXISTS (
                       SELECT 1 FROM jsonb_array_elements(
                                         coalesce(e.payload -> 'exceptions', '[]')) o
                        WHERE o ->> 'rule' IN ('R1', 'R3')) AS override,
                   CASE WHEN e.type = 'device.received' THEN e.payload END AS received
"""

# c0008's steps 2 (levels) and 3 (level by level) give way to the fold
FOLD = """    RAISE DEBUG 'set-based: % events, % device references',
        (SELECT max(q) FROM unnest(t_seq) q) - p_after, cardinality(t_seq);

    -- (the caller, sync_push_batch, holds the order lock: nothing else writes devices now)
    SELECT s.site INTO v_site FROM station_stream s
     WHERE s.station_id = p_station AND s.epoch = p_epoch;

    -- a run of goods-in only (new stock arriving): each new device inserted, the first
    -- goods-in of a tag wins (as step 2 gives), nothing to decide
    IF (SELECT bool_and(u = 'device.received') FROM unnest(t_type) u) THEN
        INSERT INTO device_state (asset_tag, serial, type, model, os, state, holder, sole_use,
                                  site, last_event_id)
        SELECT u.tag, coalesce(u.p ->> 'serial', ''), u.p ->> 'type',
               coalesce(u.p ->> 'model', ''), coalesce(u.p ->> 'os', ''),
               u.p ->> 'state', u.p ->> 'holder', coalesce((u.p ->> 'sole_use')::boolean, false),
               coalesce(u.p ->> 'site', v_site), u.event_id
          FROM unnest(t_seq, t_tag, t_event, t_received) AS u(seq, tag, event_id, p)
         ORDER BY u.seq
        ON CONFLICT (asset_tag) DO NOTHING;
        RETURN 0;
    END IF;

    -- 2. each device's references folded in seq order, every device at once: step k of the
    -- recursion takes each device's k-th reference, decides it against the state the device
    -- had after step k - 1, and gives the state after it. The decisions are c0008's; the
    -- device row is then written once, with its final state, instead of once a reference.
    WITH RECURSIVE ref AS MATERIALIZED (
        SELECT t.*, row_number() OVER (PARTITION BY t.tag ORDER BY t.seq) AS k,
               count(*) OVER (PARTITION BY t.tag) AS n
          FROM unnest(t_seq, t_event, t_type, t_role, t_tag, t_person, t_courier, t_override,
                      t_received)
               AS t(seq, event_id, type, role, tag, person, courier, override, p)
    ), fold AS (
        SELECT s.tag, 0::bigint AS k, s.n, d.asset_tag IS NOT NULL AS found0,
               d.asset_tag IS NOT NULL AS found, d.type AS dtype, d.state, d.holder,
               d.last_event_id, d.issue_event_id, d.return_event_id, 0 AS applied,
               NULL::jsonb AS ins,
               NULL::bigint AS seq, NULL::uuid AS event_id, NULL::text AS role,
               NULL::text AS person, NULL::boolean AS courier, NULL::text AS outcome,
               NULL::boolean AS b_found, NULL::text AS b_dtype, NULL::uuid AS b_last,
               NULL::uuid AS b_issue, NULL::uuid AS b_return
          FROM (SELECT r.tag, r.n FROM ref r WHERE r.k = 1) s
          LEFT JOIN device_state d ON d.asset_tag = s.tag
        UNION ALL
        SELECT f.tag, r.k, f.n, f.found0,
               f.found OR o.outcome = 'insert',
               CASE WHEN o.outcome = 'insert' THEN r.p ->> 'type' ELSE f.dtype END,
               CASE o.outcome
               WHEN 'insert' THEN r.p ->> 'state'
               WHEN 'apply' THEN CASE
                   WHEN r.role IN ('returned', 'collected') THEN 'returned'
                   WHEN r.role = 'lost' THEN 'lost'
                   WHEN r.role = 'issued' THEN
                        CASE WHEN r.courier THEN 'courier_pending' ELSE 'issued' END
                   WHEN r.role = 'released' THEN 'issued'
                   WHEN r.type = 'desktop.reclaimed' THEN 'returned'
                   WHEN r.type = 'sanitisation.certified' THEN 'sanitised'
                   WHEN r.role = 'to_reuse' THEN 'redistributed'
                   ELSE 'disposed' END  -- to_disposal
               ELSE f.state END,
               CASE o.outcome
               WHEN 'insert' THEN r.p ->> 'holder'
               WHEN 'apply' THEN CASE WHEN r.role = 'issued' THEN r.person
                                      WHEN r.role = 'released' THEN f.holder END
               ELSE f.holder END,
               CASE WHEN o.outcome IN ('insert', 'apply') THEN r.event_id
                    ELSE f.last_event_id END,
               CASE WHEN o.outcome = 'apply' AND r.role = 'issued' THEN r.event_id
                    ELSE f.issue_event_id END,
               CASE WHEN o.outcome = 'apply' AND r.role = 'returned' THEN r.event_id
                    ELSE f.return_event_id END,
               f.applied + (o.outcome = 'apply')::int,
               CASE WHEN o.outcome = 'insert' THEN r.p ELSE f.ins END,
               r.seq, r.event_id, r.role, r.person, r.courier, o.outcome,
               f.found, f.dtype, f.last_event_id, f.issue_event_id, f.return_event_id
          FROM fold f
          JOIN ref r ON r.tag = f.tag AND r.k = f.k + 1
          CROSS JOIN LATERAL (SELECT CASE
                WHEN r.role = 'single' AND r.type = 'device.received' THEN
                    CASE WHEN f.found THEN 'keep' ELSE 'insert' END
                WHEN r.role = 'returned' THEN
                    CASE WHEN NOT f.found THEN 'HANDOVER_MISSING'
                         WHEN f.state IN ('returned', 'sanitised', 'redistributed', 'disposed')
                              THEN 'PERSON_DOUBLE_EXCHANGE'
                         WHEN f.holder IS NOT DISTINCT FROM r.person OR f.holder IS NULL
                              OR r.override THEN CASE WHEN r.courier THEN 'keep' ELSE 'apply' END
                         ELSE 'HANDOVER_MISMATCH' END
                WHEN r.role = 'issued' THEN
                    CASE WHEN NOT f.found THEN 'HANDOVER_MISSING'
                         WHEN f.state = 'in_stock' THEN 'apply'
                         ELSE 'DEVICE_DOUBLE_ISSUE' END
                WHEN r.role = 'released' THEN
                    CASE WHEN f.state = 'courier_pending' THEN 'apply' ELSE 'keep' END
                ELSE CASE WHEN f.found THEN 'apply' ELSE 'keep' END  -- lost, collected, one tag
                END) AS o(outcome)
    ), settled AS (  -- each device after its last reference
        SELECT f.* FROM fold f WHERE f.k = f.n
    ), added AS (
        INSERT INTO device_state (asset_tag, serial, type, model, os, state, holder, sole_use,
                                  site, version, last_event_id, issue_event_id,
                                  return_event_id)
        SELECT l.tag, coalesce(l.ins ->> 'serial', ''), l.ins ->> 'type',
               coalesce(l.ins ->> 'model', ''), coalesce(l.ins ->> 'os', ''), l.state,
               l.holder, coalesce((l.ins ->> 'sole_use')::boolean, false),
               coalesce(l.ins ->> 'site', v_site), 1 + l.applied, l.last_event_id,
               l.issue_event_id, l.return_event_id
          FROM settled l
         WHERE l.ins IS NOT NULL
    ), changed AS (
        UPDATE device_state d
           SET state = l.state, holder = l.holder, version = d.version + l.applied,
               last_event_id = l.last_event_id, issue_event_id = l.issue_event_id,
               return_event_id = l.return_event_id
          FROM settled l
         WHERE d.asset_tag = l.tag AND l.found0 AND l.applied > 0
    ), findings AS (
        SELECT f.outcome AS kind,
               CASE WHEN f.outcome = 'PERSON_DOUBLE_EXCHANGE' THEN 'person:' || f.person
                    ELSE 'device:' || f.tag END AS subject,
               f.event_id,
               CASE f.outcome
               WHEN 'PERSON_DOUBLE_EXCHANGE' THEN coalesce(f.b_return, f.b_last)
               WHEN 'DEVICE_DOUBLE_ISSUE' THEN coalesce(f.b_issue, f.b_last)
               WHEN 'HANDOVER_MISMATCH' THEN f.b_last
               END AS other,
               f.seq
          FROM fold f
         WHERE f.k > 0 AND f.outcome NOT IN ('apply', 'keep', 'insert')
    ), laptops AS (
        SELECT f.seq, bool_or(f.courier) AS courier,
               count(*) FILTER (WHERE f.b_dtype = 'laptop')::int AS n
          FROM fold f
         WHERE f.k > 0 AND f.role = 'issued' AND f.b_found
         GROUP BY f.seq
    )
    SELECT (SELECT coalesce(array_agg(kind ORDER BY seq), '{}') FROM findings),
           (SELECT coalesce(array_agg(subject ORDER BY seq), '{}') FROM findings),
           (SELECT coalesce(array_agg(event_id ORDER BY seq), '{}') FROM findings),
           (SELECT coalesce(array_agg(other ORDER BY seq), '{}') FROM findings),
           (SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM findings),
           (SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM laptops WHERE n > 0),
           (SELECT coalesce(array_agg(n ORDER BY seq), '{}') FROM laptops WHERE n > 0),
           (SELECT coalesce(array_agg(courier ORDER BY seq), '{}') FROM laptops WHERE n > 0)
      INTO v_kind, v_subject, v_event, v_other, v_fseq, v_lseq, v_laptops, v_courier;

"""


def _between(text: str, start: str, end: str, new: str) -> str:
    """`text` with what runs from `start` up to (not including) `end` replaced by `new`."""
    assert text.count(start) == 1 and text.count(end) == 1, (start, end)
    i = text.index(start)
    return text[:i] + new + text[text.index(end, i):]


def _apply_sets() -> str:
    from app.sync.central import earlier_function

    text = earlier_function("c0008_set_based_projections", "CREATE FUNCTION sync_apply_run(")
    text = text.replace("FUNCTION sync_apply_run(", "FUNCTION sync_apply_sets(", 1)
    text = _between(text, "DECLARE\n", "BEGIN\n", SETS_DECLARE)
    text = _between(text, "    -- 1. every device reference of the run",
                    "              FROM event e\n", REFERENCES_HEAD)
    text = _between(text, "    -- 2. levels:", "    -- 4. the courier balance", FOLD)
    return text.replace("    -- 4. the courier balance", "    -- 3. the courier balance", 1)


# c0014's insert of the run, ON CONFLICT DO NOTHING and a count, and what replaces it
SPECULATIVE = """         ORDER BY r.seq
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS inserted = ROW_COUNT;
        IF inserted < v_expected THEN
            RAISE EXCEPTION 'stored elsewhere' USING ERRCODE = 'P0001';
        END IF;
    EXCEPTION WHEN raise_exception THEN"""
PLAIN = """         ORDER BY r.seq;
        GET DIAGNOSTICS inserted = ROW_COUNT;
    EXCEPTION WHEN unique_violation THEN  -- an event stored already: the careful path"""


# and the comments that said how c0014 did it
COMMENTS = {
    "    -- 4. insert the run at once; fewer rows stored than given: undo, and go row by row\n":
    "    -- 4. insert the run at once; an event stored already: undo, and go row by row\n",
    "    -- 5, 6. projections (set-based, level by level); conflicts become rows, never errors\n":
    "    -- 5, 6. projections (set-based, each device folded); conflicts become rows, not errors\n",
}


def _push_batch() -> str:
    from app.sync.central import earlier_function, replaced

    return replaced(earlier_function("c0014_one_order",
                                     "CREATE OR REPLACE FUNCTION sync_push_batch("),
                    (SPECULATIVE, PLAIN), *COMMENTS.items())


#: this revision's `sync_push_batch` (what c0017's downgrade puts back)
PUSH_BATCH = _push_batch()


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(_apply_sets())
    op.execute(PUSH_BATCH)


def downgrade() -> None:
    from app.sync.central import earlier_function

    op.execute(earlier_function("c0014_one_order", "CREATE OR REPLACE FUNCTION sync_push_batch("))
    op.execute("ALTER FUNCTION sync_malformed(text, jsonb) SET search_path = public, pg_temp")
    op.execute(earlier_function("c0008_set_based_projections", "CREATE FUNCTION sync_apply_run(")
               .replace("FUNCTION sync_apply_run(", "FUNCTION sync_apply_sets(", 1))
