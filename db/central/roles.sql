-- PostgreSQL roles for Exchange Station's central database.
--
-- Run as the owner of the central database (the role that ran `exchange-station init
-- --central`), with psql, after `init --central`:
--
--   psql "postgresql://OWNER@HOST/DB" -v station_id=HQ-01 -v role=station_hq_01 -f roles.sql
--   psql "postgresql://OWNER@HOST/DB" -c '\password station_hq_01'   -- stored as SCRAM, never in a file of ours
--
-- A station's role may only:
--   * call sync_pull_fence() (the pull's xmin fence);
--   * call sync_handshake(), sync_stream_hashes(), sync_stream_events(), sync_stream_epochs()
--     and sync_push_batch()
--     for ITS OWN station id (checked inside, against station_role); these SECURITY DEFINER
--     functions are the only way its events get in (and, after a restore of the station from
--     an older copy, back out: sync_stream_events), and they write the projections, conflicts
--     and escrow themselves;
--   * read reference data: meta, person_state, device_state, ref_change, escrow_ledger,
--     escrow_pool, sync_conflict, sync_conflict_member and the conflict_detail view.
-- It cannot insert, update or delete any table directly, read other stations' raw events
-- (the conflict_detail view shows only the events in conflicts), grant escrow units or change
-- the schema. Every function is revoked from PUBLIC by the migrations.
--
-- The three sections are idempotent; the first is once per cluster, the second once per
-- database (again after each `init --central` that adds tables), the third once per station.

-- section: cluster ----------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'exchange_station') THEN
        CREATE ROLE exchange_station NOLOGIN;
    END IF;
END $$;

-- section: database ---------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO exchange_station;
GRANT SELECT ON meta, person_state, device_state, ref_change, escrow_ledger, escrow_pool,
    sync_conflict, sync_conflict_member, conflict_detail TO exchange_station;
GRANT EXECUTE ON FUNCTION sync_handshake(text, uuid, text),
    sync_handshake(text, uuid, text, bigint), sync_stream_hashes(text, uuid, bigint, bigint),
    sync_stream_events(text, uuid, bigint, int), sync_stream_epochs(text),
    sync_push_batch(text, uuid, jsonb), sync_pull_fence() TO exchange_station;

-- section: station ----------------------------------------------------------------------------
SELECT format('CREATE ROLE %I LOGIN IN ROLE exchange_station', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
INSERT INTO station_role (station_id, role_name) VALUES (:'station_id', :'role')
    ON CONFLICT (station_id) DO UPDATE SET role_name = EXCLUDED.role_name;
