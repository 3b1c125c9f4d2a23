"""db/central/roles.sql: a station's role syncs its own stream and can do nothing else."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from app.services.demo import load_demo
from app.sync.runner import SyncRunner
from tests.sync.conftest import SITE_A, sign_in, swap

ROLES_SQL = Path(__file__).resolve().parents[2] / "db" / "central" / "roles.sql"


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    host = parts.netloc.split("@")[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@pytest.fixture
def station_role(central):
    if shutil.which("psql") is None:
        pytest.fail("psql is needed to run roles.sql (Debian: postgresql-client; make test "
                    "installs it)")
    role = f"station_test_{uuid.uuid4().hex[:10]}"
    owner = central.replace("postgresql+psycopg://", "postgresql://")
    done = subprocess.run(["psql", owner, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v",
                           "station_id=HQ-01", "-v", f"role={role}", "-f", str(ROLES_SQL)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    yield as_role(central, role)
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def test_a_station_role_syncs_its_own_station(central, station_role, make_station):
    st = make_station("HQ-01")
    load_demo(st.context, sign_in(st), SITE_A)
    report = SyncRunner(st.engine).run_once(station_role)
    assert report.ok, report.error
    assert report.pushed == 7 and report.unsynced == 0 and report.pulled > 100


def test_a_station_role_cannot_sync_another_station(central, station_role, make_station):
    other = make_station("HQ-02")
    report = SyncRunner(other.engine).run_once(station_role)
    assert not report.ok and "may not sync station HQ-02" in report.error
    assert report.unsynced == 4


REFUSED = [
    "INSERT INTO station_stream (station_id, epoch) VALUES ('HQ-01', gen_random_uuid())",
    "INSERT INTO event (event_id, station_id, epoch, seq, type, schema_v, payload, sha256, "
    "occurred_at) VALUES (gen_random_uuid(), 'HQ-01', gen_random_uuid(), 1, 'x', 1, '{}', 'x', 'x')",
    "SELECT count(*) FROM event",
    "UPDATE device_state SET holder = 'P1' WHERE false",
    "UPDATE station_stream SET hwm = 0 WHERE false",
    "DELETE FROM person_state WHERE false",
    "UPDATE sync_conflict SET status = 'resolved' WHERE false",
    "UPDATE escrow_pool SET balance = 100",
    "SELECT escrow_grant('HQ-01', 3, 'me')",
    "SELECT sync_apply_resolution(NULL::event)",
    "SELECT * FROM sync_stream_events('HQ-02', gen_random_uuid(), 0, 10)",
    "SELECT * FROM sync_stream_epochs('HQ-02')",
    "CREATE TABLE mine (id int)",
]


def test_a_station_role_is_refused_everything_else(central, station_role):
    allowed = []
    with psycopg.connect(station_role, autocommit=True) as conn:
        for statement in REFUSED:
            try:
                conn.execute(statement)
                allowed.append(statement)
            except psycopg.errors.InsufficientPrivilege:
                pass
    assert allowed == []


def test_a_station_role_fetches_back_its_own_events_only(central, station_role, make_station):
    """sync_stream_events (after a restore from an older copy): its own stream, never another
    station's, and nothing for a role outside exchange_station."""
    own, other = make_station("HQ-01", admin_only=True), make_station("HQ-02", admin_only=True)
    assert SyncRunner(own.engine).run_once(station_role).ok
    assert SyncRunner(other.engine).run_once(central).ok  # as the owner
    epochs = {}
    with psycopg.connect(central.replace("postgresql+psycopg://", "postgresql://")) as conn:
        epochs.update(conn.execute("SELECT station_id, epoch FROM station_stream").fetchall())
    fetch = "SELECT seq, type FROM sync_stream_events(%s, %s, 0, 100)"
    with psycopg.connect(station_role, autocommit=True) as conn:
        assert conn.execute(fetch, ("HQ-01", epochs["HQ-01"])).fetchall()[:1] == [
            (1, "station.initialised")]
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="may not sync station HQ-02"):
            conn.execute(fetch, ("HQ-02", epochs["HQ-02"]))
        assert conn.execute("SELECT epoch::text FROM sync_stream_epochs('HQ-01')"
                            ).fetchall() == [(str(epochs["HQ-01"]),)]
    owner = central.replace("postgresql+psycopg://", "postgresql://")
    outsider = f"outsider_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{outsider}" LOGIN')
    try:
        with psycopg.connect(as_role(central, outsider), autocommit=True) as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege,
                              match="permission denied for function sync_stream_events"):
            conn.execute(fetch, ("HQ-02", epochs["HQ-02"]))
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{outsider}"')


def test_a_station_role_reads_reference_data(central, station_role):
    with psycopg.connect(station_role, autocommit=True) as conn:
        for table in ("meta", "person_state", "device_state", "ref_change", "escrow_ledger",
                      "conflict_detail"):
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()


def test_a_sync_whose_pull_is_refused_leaves_the_last_sync_where_it_was(
        central, station_role, make_station):
    """Push goes through, the pull is refused (an admin revoked the station's read of
    ref_change): the events are acknowledged, but neither the status bar's "last sync" nor
    what the next events say the station had seen of central move (last_sync_at is a whole
    sync's)."""
    from app.sync.outbox import StationOutbox

    st = make_station("HQ-01")
    load_demo(st.context, sign_in(st), SITE_A)
    assert SyncRunner(st.engine).run_once(station_role).ok
    synced = StationOutbox(st.engine).station().last_sync_at
    swap(st, 1)
    owner = central.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON ref_change FROM exchange_station")
    try:
        report = SyncRunner(st.engine).run_once(station_role)
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute("GRANT SELECT ON ref_change TO exchange_station")
    assert not report.ok and report.pushed == 1 and report.unsynced == 0, report
    assert report.error == ("central refused the pull (permission denied for table "
                            "ref_change); nothing is lost locally")
    assert report.last_sync_at == synced == StationOutbox(st.engine).station().last_sync_at
