"""The SQLite engine: WAL, synchronous=FULL, foreign keys on, and BEGIN IMMEDIATE for writes.

pysqlite's legacy transaction handling is switched off (`isolation_level = None`) so that the
`begin` listener issues the BEGIN itself: writes take the write lock at once (no deadlock on
upgrade from a read lock) and DDL in migrations is transactional too.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event

DB_FILENAME = "exchange-station.sqlite3"


def database_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_FILENAME


def make_engine(db_path: Path, *, foreign_keys: bool = True) -> Engine:
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"timeout": 10})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001 - SQLAlchemy connection
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def reader(engine: Engine) -> Engine:
    """The same engine, beginning read-only transactions without taking the write lock."""
    return engine.execution_options(sqlite_begin="DEFERRED")
