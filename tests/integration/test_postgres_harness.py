"""The PostgreSQL test harness itself (tests/pg_plugin.py, scripts/with_postgres.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest
import sqlalchemy as sa

from tests.pg_plugin import (
    Availability,
    check_server,
    create_database,
    drop_database,
    libpq_url,
    sqlalchemy_url,
)


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(libpq_url(server_url), connect_timeout=3) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def test_round_trip_through_sqlalchemy(pg_database: str) -> None:
    assert pg_database.startswith("postgresql+psycopg://")
    engine = sa.create_engine(pg_database)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE device (tag text PRIMARY KEY, holder text)"))
            conn.execute(
                sa.text("INSERT INTO device (tag, holder) VALUES (:tag, :holder)"),
                [{"tag": "lt-000123", "holder": "ada"}, {"tag": "lt-000124", "holder": None}],
            )
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT tag, holder FROM device ORDER BY tag")).all()
            current = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("lt-000123", "ada"), ("lt-000124", None)]
    assert current == _dbname(pg_database)


def test_databases_are_distinct_and_isolated(pg_url, pg_database, pg_database_factory) -> None:
    other = pg_database_factory()
    names = {_dbname(pg_url), _dbname(pg_database), _dbname(other)}
    assert len(names) == 3

    with psycopg.connect(libpq_url(pg_database)) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
        conn.execute("INSERT INTO only_here VALUES (1)")
    with psycopg.connect(libpq_url(other)) as conn:
        found = conn.execute("SELECT to_regclass('public.only_here')").fetchone()[0]
    assert found is None


def test_drop_database_ends_open_sessions(pg_url: str) -> None:
    url = create_database(pg_url, prefix="es_harness")
    name = _dbname(url)
    assert _database_exists(pg_url, name)
    leftover = psycopg.connect(url)  # a session a test forgot to close
    try:
        drop_database(pg_url, name)
    finally:
        try:
            leftover.close()
        except psycopg.Error:
            pass
    assert not _database_exists(pg_url, name)


# --- what happens without a server (no PostgreSQL needed) ---------------------------------


def test_unavailable_fails_and_says_how_to_get_a_server() -> None:
    dead = "postgresql://postgres@127.0.0.1:1/test"
    availability = check_server({"EXCHANGE_TEST_PG_URL": dead})
    assert availability.error is not None
    assert dead in availability.error

    with pytest.raises(pytest.fail.Exception, match="127.0.0.1:1/test.*make test"):
        availability.require()


def test_unavailable_reason_from_with_postgres_is_reported() -> None:
    availability = check_server({"EXCHANGE_TEST_PG_UNAVAILABLE": "no binaries found"})
    assert availability.error is not None and "no binaries found" in availability.error
    with pytest.raises(pytest.fail.Exception, match="no binaries found"):
        availability.require()


def test_url_forms() -> None:
    assert Availability("postgresql://u@h:5/d", None).require() == "postgresql+psycopg://u@h:5/d"
    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert libpq_url("postgresql+psycopg://u:p@h:5/d?sslmode=disable") == (
        "postgresql://u:p@h:5/d?sslmode=disable"
    )
