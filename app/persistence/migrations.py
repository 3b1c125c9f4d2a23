"""Alembic migrations of the local database, applied on start.

The whole upgrade runs in one SQLite transaction with foreign keys off (so a batch re-create of
a referenced table works); `PRAGMA foreign_key_check` must come back empty before it commits.
A failed migration therefore leaves the database exactly as it was. Before upgrading a database
that holds data, a copy is kept beside it (`*.pre-<revision>.bak`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.domain.rules import StationError
from app.persistence.engine import make_engine

LOCAL_MIGRATIONS = Path(__file__).resolve().parents[2] / "db" / "local"


class MigrationFailed(StationError):
    exit_code = 4
    error_code = "input"


def alembic_config(script_location: Path = LOCAL_MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


def head_revision(script_location: Path = LOCAL_MIGRATIONS) -> str:
    return ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()


def current_revision(db_path: Path) -> str | None:
    if not Path(db_path).exists():
        return None
    engine = make_engine(db_path)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade(db_path: Path, script_location: Path = LOCAL_MIGRATIONS) -> str:
    """Bring the database at `db_path` to the newest schema; return the revision it is at."""
    head = head_revision(script_location)
    current = current_revision(db_path)
    if current == head:
        return head
    if current is not None:
        _backup(db_path, f"{db_path}.pre-{head}.bak")
    engine = make_engine(db_path, foreign_keys=False)
    try:
        with engine.begin() as conn:
            config = alembic_config(script_location)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise MigrationFailed(f"the upgrade would break {len(broken)} references; "
                                      "the database was left as it was")
    except MigrationFailed:
        raise
    except Exception as exc:  # any migration error: the transaction has rolled back
        raise MigrationFailed(
            f"the database could not be upgraded to schema {head} ({exc.__class__.__name__}: "
            f"{exc}); it was left as it was at schema {current or 'none'}") from exc
    finally:
        engine.dispose()
    return head


def _backup(db_path: Path, target: str) -> None:
    source = sqlite3.connect(db_path)
    try:
        dest = sqlite3.connect(target)
        with dest:
            source.backup(dest)
        dest.close()
    finally:
        source.close()
