"""pytest plugin: PostgreSQL for the tests.

Load it from tests/conftest.py with ``pytest_plugins = ["tests.pg_plugin"]``.

Fixtures
    pg_url               (session) SQLAlchemy URL ``postgresql+psycopg://...`` of a server that
                         answered, taken from EXCHANGE_TEST_PG_URL
                         (default postgresql://postgres@127.0.0.1:5432/test).
    pg_database          (function) URL of a fresh, uniquely named database, dropped afterwards.
    pg_database_factory  (function) call it to get as many fresh databases as a test needs.

When no server can be had, a test that needs one fails (it is never skipped); the message
names the URL and the error and says how to get a server. ``make test`` runs the suite through
scripts/with_postgres.py, which provides a throwaway cluster when the default server is not
there and sets EXCHANGE_TEST_PG_UNAVAILABLE=<reason> when it cannot.

Tests that use these fixtures are marked ``postgres`` automatically (so ``-m "not postgres"``
deselects them); a test marked ``postgres`` without using them gets the same check.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 3
FIXTURES = ("pg_url", "pg_database", "pg_database_factory")


def libpq_url(url: str) -> str:
    """Any postgres URL -> ``postgresql://...`` (libpq/psycopg form)."""
    return re.sub(r"^postgres(?:ql)?(?:\+[a-z0-9_]+)?://", "postgresql://", url)


def sqlalchemy_url(url: str) -> str:
    """Any postgres URL -> ``postgresql+psycopg://...`` (SQLAlchemy with psycopg 3)."""
    return re.sub(r"^postgres(?:ql)?(?:\+[a-z0-9_]+)?://", "postgresql+psycopg://", url)


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


@dataclass(frozen=True)
class Availability:
    url: str  # libpq form
    error: str | None  # None when usable

    def require(self) -> str:
        """The SQLAlchemy URL; without a usable server the test fails (never skips), saying
        how to get one: `make test` provides it (scripts/with_postgres.py)."""
        if self.error is not None:
            pytest.fail(f"PostgreSQL is required but unavailable: {self.error}. Run the tests "
                        "with `make test`, which starts a throwaway server when none answers, "
                        "or set EXCHANGE_TEST_PG_URL", pytrace=False)
        return sqlalchemy_url(self.url)


def check_server(environ: Mapping[str, str] = os.environ) -> Availability:
    """Look at the environment and try to connect (psycopg, 3 s timeout)."""
    reason = environ.get("EXCHANGE_TEST_PG_UNAVAILABLE")
    raw = environ.get("EXCHANGE_TEST_PG_URL") or DEFAULT_URL
    url = libpq_url(raw)
    if reason:
        return Availability(url, f"EXCHANGE_TEST_PG_UNAVAILABLE: {reason}")
    try:
        import psycopg
    except ImportError as exc:
        return Availability(url, f"cannot import psycopg ({exc}) to reach {masked(url)}")
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unusable
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return Availability(url, f"cannot connect to {masked(url)} "
                                 f"(set EXCHANGE_TEST_PG_URL to another server): {detail}")
    return Availability(url, None)


_availability: Availability | None = None


def _session_availability() -> Availability:
    global _availability
    if _availability is None:
        _availability = check_server()
    return _availability


# --- databases -----------------------------------------------------------------------------


def _admin_connect(url: str):
    """Autocommit connection to the server's maintenance database (postgres, else url's db)."""
    import psycopg

    url = libpq_url(url)
    errors = []
    for dbname in ("postgres", urlsplit(url).path.lstrip("/") or None):
        if dbname is None:
            continue
        try:
            return psycopg.connect(with_database(url, dbname), autocommit=True,
                                   connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            errors.append(f"{dbname}: {exc}")
    raise RuntimeError(f"cannot reach a maintenance database on {masked(url)}: {errors}")


def create_database(url: str, prefix: str = "es_test") -> str:
    """Create a uniquely named database next to url's; return its libpq URL."""
    from psycopg import sql

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with _admin_connect(url) as conn:
        # template0: never blocked by another session sitting in template1
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    return with_database(libpq_url(url), name)


def drop_database(url: str, name: str) -> None:
    """Drop database name on url's server, terminating any sessions still connected to it."""
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)) + force)


# --- fixtures and hooks --------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url() -> str:
    """SQLAlchemy URL (postgresql+psycopg://...) of a reachable PostgreSQL server."""
    return _session_availability().require()


@pytest.fixture
def pg_database_factory(pg_url: str) -> Iterator[Callable[[], str]]:
    """Call to create a fresh database; returns its SQLAlchemy URL. All dropped afterwards."""
    created: list[str] = []

    def make() -> str:
        url = create_database(pg_url)
        created.append(urlsplit(url).path.lstrip("/"))
        return sqlalchemy_url(url)

    yield make
    errors = []
    for name in reversed(created):
        try:
            drop_database(pg_url, name)
        except Exception as exc:  # noqa: BLE001 - report all, drop as many as possible
            errors.append(f"{name}: {exc}")
    if errors:
        pytest.fail(f"could not drop test databases: {errors}", pytrace=False)


@pytest.fixture
def pg_database(pg_database_factory: Callable[[], str]) -> str:
    """SQLAlchemy URL of a fresh, uniquely named database, dropped after the test."""
    return pg_database_factory()


def pytest_configure(config: pytest.Config) -> None:
    known = {line.split(":", 1)[0].strip() for line in config.getini("markers")}
    if "postgres" not in known:
        config.addinivalue_line(
            "markers",
            "postgres: needs a real PostgreSQL server (fails when none can be had)",
        )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in FIXTURES):
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") is not None:
        _session_availability().require()
