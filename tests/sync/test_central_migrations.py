"""Central's migrations go back as well as forward: a downgrade puts back exactly the schema,
functions, views, constraints, owners and grants the earlier revision made (several revisions
rebuild a function from an earlier one's text, `app.sync.central.earlier_function`, and c0019
rebuilds a view), and an upgrade after it gives head again."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from app.sync.central import CENTRAL_MIGRATIONS, head_revision, libpq_url
from app.sync.central import migrate_central as migrate
from tests.pg_plugin import create_database, drop_database

SCHEMA = """
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid) || coalesce(array_to_string(p.proconfig, ','), '')
       || ' owner ' || pg_get_userbyid(p.proowner) || ' acl '
       || (SELECT string_agg(a::text, ',' ORDER BY a::text)
             FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.prokind = 'f'
UNION ALL
SELECT 'relation', c.relname, c.relkind::text || ' owner ' || pg_get_userbyid(c.relowner) || ' acl '
       || (SELECT string_agg(a::text, ',' ORDER BY a::text)
             FROM unnest(coalesce(c.relacl, acldefault(
                 CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a)
       || ' ' || coalesce(pg_get_viewdef(c.oid), '')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S')
UNION ALL
SELECT 'constraint', t.conrelid::regclass::text || '.' || t.conname, pg_get_constraintdef(t.oid)
  FROM pg_constraint t JOIN pg_namespace n ON n.oid = t.connamespace
 WHERE n.nspname = 'public'
UNION ALL
SELECT 'column', c.table_name || '.' || c.column_name,
       c.data_type || ' ' || c.is_nullable || ' ' || coalesce(c.column_default, '')
  FROM information_schema.columns c WHERE c.table_schema = 'public'
UNION ALL
SELECT 'index', i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'
UNION ALL
SELECT 'trigger', t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
 WHERE NOT t.tgisinternal
ORDER BY 1, 2
"""


def schema(url: str) -> list[tuple]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(SCHEMA).fetchall()


@pytest.fixture
def databases(pg_url: str):
    made: list[str] = []

    def make() -> str:
        made.append(create_database(pg_url, prefix="es_migrate"))
        return made[-1]

    yield make
    for url in made:
        drop_database(pg_url, urlsplit(url).path.lstrip("/"))


def revisions() -> list[str]:
    """Central's revisions, oldest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(CENTRAL_MIGRATIONS))
    return [r.revision for r in reversed(list(
        ScriptDirectory.from_config(config).walk_revisions()))]


def differences(expected: list[tuple], got: list[tuple]) -> list[tuple]:
    want, have = {r[:2]: r[2] for r in expected}, {r[:2]: r[2] for r in got}
    return sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))


def test_each_downgrade_puts_back_what_the_revision_before_made(databases):
    """Up one revision at a time, noting the schema at each; then down one at a time from
    head, comparing at each (a downgrade that puts back the wrong text of a function is
    otherwise hidden by the next one down)."""
    order = revisions()
    assert order[-1] == head_revision()
    up, down = databases(), databases()
    made = {}
    for revision in order:
        migrate(up, revision)
        made[revision] = schema(up)
    migrate(down, "head")
    for revision in reversed(order[:-1]):
        migrate(down, revision, down=True)
        assert differences(made[revision], schema(down)) == [], f"down to {revision}"


def test_down_to_nothing_and_up_again_gives_head_and_a_push_goes_through(databases):
    fresh, again = databases(), databases()
    migrate(fresh, "head")
    migrate(again, "head")
    migrate(again, "base", down=True)
    assert [r[:2] for r in schema(again) if "alembic_version" not in r[1]] == []
    migrate(again, "head")
    assert schema(again) == schema(fresh)
    with psycopg.connect(libpq_url(again), autocommit=True) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version_central").fetchone() == (
            head_revision(),)
        conn.execute("SELECT sync_handshake('S-1', gen_random_uuid(), 'X', 0)")


def test_the_view_c0019_rebuilds_keeps_its_grants_on_the_way_down(databases):
    """conflict_detail loses its `expected` column only by being dropped: the grants on it
    (db/central/roles.sql's, an admin's) are given again."""
    import os

    url, reader = databases(), f"es_migrate_reader_{os.getpid()}"
    migrate(url, "head")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {reader}")
        try:
            conn.execute(f"GRANT SELECT ON conflict_detail TO {reader} WITH GRANT OPTION")
            migrate(url, "c0018", down=True)
            assert conn.execute(
                "SELECT has_table_privilege(%s, 'conflict_detail', 'SELECT WITH GRANT OPTION'), "
                "EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = "
                "'conflict_detail' AND column_name = 'expected')", (reader,)).fetchone() == (
                True, False)
        finally:
            conn.execute(f"REVOKE ALL ON conflict_detail FROM {reader}")
            conn.execute(f"DROP ROLE {reader}")
