"""the central schema: streams, events, projections, conflicts, escrow, ref_change (SYNC.md 2.2)

Revision ID: c0001
Revises:
Create Date: 2026-11-25

Every write a station may make goes through the SECURITY DEFINER functions `sync_handshake`
and `sync_push_batch` (defined in c0002), so a station's role needs no table privileges beyond
reading reference data (db/central/roles.sql).
"""
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE meta (
    id          int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    db_epoch    uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO meta DEFAULT VALUES;

CREATE TABLE station_stream (
    station_id       text NOT NULL,
    epoch            uuid NOT NULL,
    site             text,
    hwm              bigint NOT NULL DEFAULT 0 CHECK (hwm >= 0),
    counter_laptops  int NOT NULL DEFAULT 0,
    courier_laptops  int NOT NULL DEFAULT 0,
    released_units   int NOT NULL DEFAULT 0,
    last_push_at     timestamptz,
    PRIMARY KEY (station_id, epoch)
);

CREATE TABLE station_role (
    station_id  text PRIMARY KEY,
    role_name   name NOT NULL UNIQUE
);

CREATE TABLE event (
    central_seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    station_id   text NOT NULL,
    epoch        uuid NOT NULL,
    seq          bigint NOT NULL CHECK (seq > 0),
    type         text NOT NULL,
    schema_v     int NOT NULL,
    payload      jsonb NOT NULL,
    sha256       text NOT NULL,
    expected     jsonb,
    operator     text,
    occurred_at  text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'applied'
                 CHECK (status IN ('applied', 'conflict', 'quarantined')),
    UNIQUE (station_id, epoch, seq),
    FOREIGN KEY (station_id, epoch) REFERENCES station_stream
);

CREATE TABLE person_state (
    staff_id        text PRIMARY KEY,
    name            text NOT NULL,
    site            text NOT NULL,
    shielding       boolean NOT NULL DEFAULT false,
    assistive_tech  boolean NOT NULL DEFAULT false,
    version         bigint NOT NULL DEFAULT 1,
    disputed        boolean NOT NULL DEFAULT false,
    last_event_id   uuid
);

CREATE TABLE device_state (
    asset_tag        text PRIMARY KEY,
    serial           text NOT NULL DEFAULT '',
    type             text NOT NULL CHECK (type IN ('laptop', 'tablet', 'desktop')),
    model            text NOT NULL DEFAULT '',
    os               text NOT NULL DEFAULT '',
    state            text NOT NULL,
    holder           text,
    sole_use         boolean NOT NULL DEFAULT false,
    site             text,
    unit_cost_pence  int,
    version          bigint NOT NULL DEFAULT 1,
    disputed         boolean NOT NULL DEFAULT false,
    last_event_id    uuid
);
CREATE INDEX device_state_holder ON device_state (holder);

CREATE TABLE sync_conflict (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN (
                           'DEVICE_DOUBLE_ISSUE', 'PERSON_DOUBLE_EXCHANGE', 'HANDOVER_MISSING',
                           'HANDOVER_MISMATCH', 'PAYLOAD_MISMATCH', 'COURIER_OVERRUN')),
    subject              text NOT NULL,
    status               text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    opened_at            timestamptz NOT NULL DEFAULT now(),
    resolved_by          text,
    resolved_at          timestamptz,
    resolution_event_id  uuid,
    decision             jsonb
);
CREATE UNIQUE INDEX sync_conflict_one_open ON sync_conflict (kind, subject)
    WHERE status = 'open';

CREATE TABLE sync_conflict_member (
    conflict_id  bigint NOT NULL REFERENCES sync_conflict,
    event_id     uuid NOT NULL,
    PRIMARY KEY (conflict_id, event_id)
);

CREATE TABLE escrow_pool (
    id       int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    balance  int NOT NULL DEFAULT 0 CHECK (balance >= 0)
);
INSERT INTO escrow_pool DEFAULT VALUES;

CREATE TABLE escrow_ledger (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    account      text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('grant', 'release')),
    delta        int NOT NULL CHECK (delta <> 0),
    recorded_by  text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escrow_ledger_account ON escrow_ledger (account);

CREATE TABLE ref_change (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    tbl  text NOT NULL,
    pk   text NOT NULL,
    op   char(1) NOT NULL
);
CREATE INDEX ref_change_xid_id ON ref_change (xid, id);

-- The conflicts screen: both records side by side, readable without SELECT on `event`.
CREATE VIEW conflict_detail AS
SELECT c.id AS conflict_id, c.kind, c.subject, c.status, c.opened_at, c.resolved_by,
       c.resolution_event_id, m.event_id, e.station_id, e.seq, e.type, e.operator,
       e.occurred_at, e.payload
  FROM sync_conflict c
  JOIN sync_conflict_member m ON m.conflict_id = c.id
  LEFT JOIN event e ON e.event_id = m.event_id;

CREATE FUNCTION ref_change_log() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO ref_change (tbl, pk, op)
    VALUES (TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1], left(TG_OP, 1));
    RETURN NULL;
END $$;

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
"""

DROP = """
DROP VIEW IF EXISTS conflict_detail;
DROP TABLE IF EXISTS ref_change, escrow_ledger, escrow_pool, sync_conflict_member, sync_conflict,
    device_state, person_state, event, station_role, station_stream, meta CASCADE;
DROP FUNCTION IF EXISTS ref_change_log();
"""


def upgrade() -> None:
    op.execute(TABLES)


def downgrade() -> None:
    op.execute(DROP)
