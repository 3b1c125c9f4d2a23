"""Sync fixtures: a central database with its schema, and stations that sync to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN, ENGINEER, LEAD, PINS

SITE_A, SITE_B = "Hutton HQ", "Chelmsford"


CENTRAL_TABLES = ("event, station_stream, station_role, person_state, device_state, "
                  "sync_conflict_member, sync_conflict, escrow_ledger, ref_change, "
                  "central_import, sync_pending_decision")


@pytest.fixture(scope="session")
def _central_database(pg_url: str):
    """One migrated central database for the session (CREATE DATABASE costs ~1 s a test)."""
    from urllib.parse import urlsplit

    from app.sync.central import upgrade_central
    from tests.pg_plugin import create_database, drop_database, sqlalchemy_url

    url = sqlalchemy_url(create_database(pg_url, prefix="es_sync"))
    upgrade_central(url)
    yield url
    drop_database(pg_url, urlsplit(url).path.lstrip("/"))


@pytest.fixture
def central(_central_database: str) -> str:
    """The session's central database, emptied: as new as a fresh `init --central`."""
    import psycopg

    with psycopg.connect(_central_database.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {CENTRAL_TABLES} RESTART IDENTITY CASCADE")
        conn.execute("UPDATE meta SET db_epoch = gen_random_uuid()")
        conn.execute("UPDATE escrow_pool SET balance = 0")
    return _central_database


@pytest.fixture
def make_station(tmp_path: Path):
    """make_station(station_id, site) -> an opened station with operators A1, L1, E1
    (only A1 with admin_only=True)."""
    from app.bootstrap import open_station
    from app.services import auth
    from app.services import station as station_service

    opened = []

    def make(station_id: str = "HQ-01", site: str = SITE_A, admin_only: bool = False):
        st = open_station(tmp_path / station_id, create=True)
        station_service.initialise(st.context, station_id, site)
        admin = auth.add_operator(st.context, None, ADMIN, "Ada Admin", "admin", PINS[ADMIN])
        if not admin_only:  # each PIN costs ~0.1 s to hash, by design
            auth.add_operator(st.context, admin, LEAD, "Lee Lead", "site_lead", PINS[LEAD])
            auth.add_operator(st.context, admin, ENGINEER, "Eve Engineer", "engineer",
                              PINS[ENGINEER])
        opened.append(st)
        return st

    yield make
    for st in opened:
        st.close()


_SIGNED_IN: dict = {}


def sign_in(st, staff_id: str = ADMIN):
    """The operator, signed in once per station (a PIN check costs ~0.1 s by design)."""
    from app.services import auth

    key = (str(st.db_path), staff_id)
    if key not in _SIGNED_IN:
        _SIGNED_IN[key] = auth.sign_in(st.context, staff_id, PINS[staff_id])
    return _SIGNED_IN[key]



def swap(st, n: int, new: int | None = None, staff: str = "E1", courier: bool = False):
    """Demo person P(1000+n) hands back OLD-n (a laptop unless n % 7 == 0) for NEW-`new`."""
    from app.services.exchanges import ExchangeCommand, record_exchange

    assert n % 7, "demo people with n % 7 == 0 hold tablets"
    return record_exchange(st.context, sign_in(st, staff), ExchangeCommand(
        f"P{1000 + n}", returned=(f"OLD-{n:05d}",), issued=(f"NEW-{new or n:05d}",),
        courier=courier, at_confirmed=True))


def import_demo_to_central(st, url: str, site: str = SITE_A) -> None:
    """The demo site's people, register and stock, loaded straight into central as an admin
    does (`import people|devices|stock FILE --central URL`), through station `st`'s admin."""
    import tempfile

    from app.services.demo import demo_csvs
    from app.sync.central_import import import_to_central

    with tempfile.TemporaryDirectory() as tmp:
        for kind, text in demo_csvs(site).items():
            path = Path(tmp) / f"demo-{kind}.csv"
            path.write_text(text, encoding="utf-8")
            import_to_central(st.context, sign_in(st), kind, path, url, site)


def sync(url: str, *stations) -> None:
    """One successful sync of each station, in this order."""
    from app.sync.runner import SyncRunner

    for st in stations:
        report = SyncRunner(st.engine).run_once(url)
        assert report.ok, report.error
