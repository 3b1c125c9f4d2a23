"""The local store: pragmas, migrations that roll back whole, gap-free events."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from app.domain.rules import RuleRefused
from app.persistence import migrations
from app.persistence.engine import make_engine
from app.services import auth, demo, exchanges
from tests.conftest import PINS, SITE

BROKEN = '''
from alembic import op
import sqlalchemy as sa

revision = "0099"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("badge_no", sa.String(20)))
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    {failure}


def downgrade():
    pass
'''


def migrations_with(tmp_path: Path, failure: str) -> Path:
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.LOCAL_MIGRATIONS, scripts)
    head = migrations.head_revision()
    (scripts / "versions" / "0099_test.py").write_text(BROKEN.format(down=head, failure=failure))
    return scripts


def schema(db: Path) -> tuple[list[str], list[str], str]:
    con = sqlite3.connect(db)
    try:
        tables = sorted(r[0] for r in con.execute("select name from sqlite_master where type='table'"))
        columns = [r[1] for r in con.execute("pragma table_info(people)")]
        version = con.execute("select version_num from alembic_version").fetchone()[0]
        return tables, columns, version
    finally:
        con.close()


@pytest.fixture
def loaded(station):
    admin = auth.sign_in(station.context, "A1", PINS["A1"])
    demo.load_demo(station.context, admin, SITE)
    return station


def test_connections_use_wal_full_sync_and_foreign_keys(station):
    with station.engine.connect() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar() == "wal"
        assert conn.execute(text("pragma synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("pragma foreign_keys")).scalar() == 1


def test_a_failed_migration_leaves_the_database_as_it_was(loaded, tmp_path):
    db = loaded.db_path
    loaded.close()
    before = schema(db)
    scripts = migrations_with(tmp_path, 'op.execute("select * from no_such_table")')
    with pytest.raises(migrations.MigrationFailed, match="left as it was"):
        migrations.upgrade(db, scripts)
    assert schema(db) == before
    assert "half_done" not in before[0] and not any(t.startswith("_alembic_tmp") for t in before[0])
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from people").fetchone()[0] == 40
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_a_migration_rebuilding_a_referenced_table_keeps_the_data(loaded, tmp_path):
    db = loaded.db_path
    loaded.close()
    scripts = migrations_with(tmp_path, "pass")
    assert migrations.upgrade(db, scripts) == "0099"
    tables, columns, version = schema(db)
    assert version == "0099" and "badge_no" in columns and "half_done" in tables
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from devices where holder_staff_id is not null").fetchone()[0] == 50
    assert Path(f"{db}.pre-0099.bak").exists(), "a copy is kept before upgrading"


def test_events_are_gap_free_with_unique_ids_and_the_operator(loaded):
    engineer = auth.sign_in(loaded.context, "E1", PINS["E1"])
    for n in (1, 2, 3):
        exchanges.record_exchange(loaded.context, engineer, exchanges.ExchangeCommand(
            f"P{1000 + n}", returned=(f"OLD-{n:05d}",), issued=(f"NEW-{n:05d}",),
            at_confirmed=True))
    with pytest.raises(RuleRefused):
        exchanges.record_exchange(loaded.context, engineer, exchanges.ExchangeCommand(
            "P1001", issued=("NEW-00009",)))
    with loaded.engine.connect() as conn:
        rows = conn.execute(text("select seq, event_id, operator, type from events order by seq")).all()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert len({r.event_id for r in rows}) == len(rows)
    assert [(r.operator, r.type) for r in rows[-3:]] == [("E1", "exchange.recorded")] * 3


def test_database_file_is_created_with_the_newest_schema(tmp_path):
    db = tmp_path / "x.sqlite3"
    assert migrations.upgrade(db) == migrations.head_revision()
    engine = make_engine(db)
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("select name from sqlite_master"))}
    engine.dispose()
    assert {"events", "devices", "people", "exchanges", "reclamation_tasks", "operators"} <= names
