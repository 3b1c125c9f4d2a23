"""replayable admin writes: central imports journaled, grants placed in central's event order

Revision ID: c0011
Revises: c0010
Create Date: 2026-11-26

SYNC.md I5 asks that the projections equal a replay of `event` in `central_seq` order
(`python -m app.sync.checker --replay`). Two writes reach the projections without an event:

- `import people|devices|stock --central` wrote `person_state` / `device_state` directly;
- `escrow_grant` (an admin's grant, a rebalance) writes `escrow_ledger`, which the courier
  balance of every later exchange reads (COURIER_OVERRUN).

Both now leave what a replay needs, positioned in the same order as the events: each takes a
number from `event`'s own identity sequence, so "before or after that event" is a comparison
of two numbers.

- `central_import` keeps every central import: its rows, exactly as they were written, and
  its position. `central_import_people(rows, by)` and `central_import_devices(rows, by)` are
  the only writers: they journal and apply in one go, so the import and its replay run the
  same statement.
- `escrow_ledger.position` places each grant (and release) among the events. Rows written
  before this revision have none; a replay puts them first.

Imports made before this revision were not journaled: a replay of such a database reports the
rows they wrote as differences (db/central/README.md, "Checking central").
"""
from alembic import op

revision = "c0011"
down_revision = "c0010"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE central_import (
    position     bigint PRIMARY KEY DEFAULT nextval('event_central_seq_seq'),
    kind         text NOT NULL CHECK (kind IN ('people', 'devices')),
    rows         jsonb NOT NULL,
    recorded_by  text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE escrow_ledger ADD COLUMN position bigint;
ALTER TABLE escrow_ledger ALTER COLUMN position SET DEFAULT nextval('event_central_seq_seq');

-- rows: [{"staff_id", "name", "site", "shielding", "assistive_tech"}, ...]
CREATE FUNCTION central_import_people(p_rows jsonb, p_by text) RETURNS int
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE v_rows int;
BEGIN
    INSERT INTO central_import (kind, rows, recorded_by) VALUES ('people', p_rows, p_by);
    INSERT INTO person_state AS p (staff_id, name, site, shielding, assistive_tech)
    SELECT r.staff_id, r.name, r.site, r.shielding, r.assistive_tech
      FROM jsonb_to_recordset(p_rows) AS r(staff_id text, name text, site text,
                                           shielding boolean, assistive_tech boolean)
    ON CONFLICT (staff_id) DO UPDATE SET
        name = EXCLUDED.name, site = EXCLUDED.site, shielding = EXCLUDED.shielding,
        assistive_tech = EXCLUDED.assistive_tech, version = p.version + 1;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END $$;

-- rows: [{"asset_tag", "serial", "type", "model", "os", "state", "holder", "sole_use", "site",
--         "unit_cost_pence"}, ...]: new devices only (the import refuses known tags)
CREATE FUNCTION central_import_devices(p_rows jsonb, p_by text) RETURNS int
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE v_rows int;
BEGIN
    INSERT INTO central_import (kind, rows, recorded_by) VALUES ('devices', p_rows, p_by);
    INSERT INTO device_state (asset_tag, serial, type, model, os, state, holder, sole_use, site,
                              unit_cost_pence)
    SELECT r.asset_tag, r.serial, r.type, r.model, r.os, r.state, r.holder,
           coalesce(r.sole_use, false), r.site, r.unit_cost_pence
      FROM jsonb_to_recordset(p_rows) AS r(asset_tag text, serial text, type text, model text,
                                           os text, state text, holder text, sole_use boolean,
                                           site text, unit_cost_pence int);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END $$;

REVOKE EXECUTE ON FUNCTION central_import_people(jsonb, text),
    central_import_devices(jsonb, text) FROM PUBLIC;
"""

DOWNGRADE = r"""
DROP FUNCTION central_import_devices(jsonb, text), central_import_people(jsonb, text);
ALTER TABLE escrow_ledger DROP COLUMN position;
DROP TABLE central_import;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
