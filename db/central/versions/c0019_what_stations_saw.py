"""each event keeps what its station had seen of central; the Conflicts screen shows it

Revision ID: c0019
Revises: c0018
Create Date: 2026-11-26

SYNC.md 2.5: the conflicts view shows both records side by side "and the versions each side
had seen". A station now sends with each event `expected`: `{"central_seen_at": ...}`, its last
successful sync when the event was recorded (null: it had never synced). Both push paths store
it in `event.expected` (c0001's column, unused until now) and `conflict_detail` shows it, so a
site lead sees which side acted on old information (a station set up offline from an older
register, one that had not synced for days). Events of older stations carry none (NULL). It is
also what a decision by concurrency would need (db/central/README.md, "Arrival order").
"""
from alembic import op

revision = "c0019"
down_revision = "c0018"
branch_labels = None
depends_on = None

INSERT_COLUMNS = """                           operator, occurred_at, status)
"""
WITH_EXPECTED = """                           operator, occurred_at, status, expected)
"""
# the run's insert (c0014's text)
RUN_VALUES = """                    THEN 'quarantined' ELSE 'applied' END
          FROM (SELECT e.*, row_number() OVER (ORDER BY e.seq) AS n"""
RUN_VALUES_EXPECTED = """                    THEN 'quarantined' ELSE 'applied' END, r.expected
          FROM (SELECT e.*, row_number() OVER (ORDER BY e.seq) AS n"""
RUN_RECORD = """                       occurred_at text)
                 WHERE e.seq > v_start) r"""
RUN_RECORD_EXPECTED = """                       occurred_at text, expected jsonb)
                 WHERE e.seq > v_start) r"""
# the careful path's insert (c0017's text)
ROW_VALUES = """                     THEN 'quarantined' ELSE 'applied' END)
"""
ROW_VALUES_EXPECTED = """                     THEN 'quarantined' ELSE 'applied' END, e -> 'expected')
"""

VIEW = """
CREATE OR REPLACE VIEW conflict_detail AS
SELECT c.id AS conflict_id, c.kind, c.subject, c.status, c.opened_at, c.resolved_by,
       c.resolution_event_id, m.event_id, e.station_id, e.seq, e.type, e.operator,
       e.occurred_at, e.payload{expected}
  FROM sync_conflict c
  JOIN sync_conflict_member m ON m.conflict_id = c.id
  LEFT JOIN event e ON e.event_id = m.event_id;
"""


def _earlier(name: str) -> str:
    from app.sync.central import earlier_function

    signature = "CREATE OR REPLACE FUNCTION sync_push_batch" + (
        "_rows(" if name == "ROWS_FUNCTION" else "(")
    return earlier_function("c0017_careful_path", signature, name)


def upgrade() -> None:
    from app.sync.central import replaced

    op.execute(replaced(_earlier("PUSH_BATCH"), (INSERT_COLUMNS, WITH_EXPECTED),
                        (RUN_VALUES, RUN_VALUES_EXPECTED), (RUN_RECORD, RUN_RECORD_EXPECTED)))
    op.execute(replaced(_earlier("ROWS_FUNCTION"), (INSERT_COLUMNS, WITH_EXPECTED),
                        (ROW_VALUES, ROW_VALUES_EXPECTED)))
    op.execute(VIEW.format(expected=", e.expected"))


# a view loses a column only by being dropped: its grants (db/central/roles.sql's, and any an
# admin added) are read first and given again
RECREATE = """
DO $do$
DECLARE
    v_grants text[];
BEGIN
    SELECT coalesce(array_agg(format('GRANT %s ON conflict_detail TO %s%s', a.privilege_type,
                                     CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                          ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                                     CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION'
                                          ELSE '' END)), '{{}}')
      INTO v_grants
      FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.oid = 'conflict_detail'::regclass AND a.grantee <> c.relowner;
    DROP VIEW conflict_detail;
    EXECUTE $view${view}$view$;
    FOR i IN 1 .. cardinality(v_grants) LOOP
        EXECUTE v_grants[i];
    END LOOP;
END $do$;
"""


def downgrade() -> None:
    op.execute(RECREATE.format(view=VIEW.format(expected="").replace(
        "CREATE OR REPLACE VIEW", "CREATE VIEW").strip().rstrip(";")))
    op.execute(_earlier("PUSH_BATCH"))
    op.execute(_earlier("ROWS_FUNCTION"))
