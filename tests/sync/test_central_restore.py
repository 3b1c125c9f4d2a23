"""S7: central restored from a dump (real `pg_dump -Fc` / `pg_restore`) after stations synced
further. Stations resend what central lost from its high-water mark, reload the reference data
in full (the restore changes the epoch their pull cursors carry), and the checker passes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.cli import main
from app.persistence.models import DeviceRow, PersonRow, StationRow
from app.sync.central import upgrade_central
from app.sync.checker import check
from app.sync.central_import import import_to_central
from app.sync.outbox import StationOutbox
from app.sync.pull import Cursor, read_cursor
from app.sync.runner import SyncRunner
from tests.conftest import write_csv
from tests.pg_plugin import create_database, drop_database, libpq_url
from tests.sync.conftest import import_demo_to_central, sign_in, swap, sync

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "with_postgres.py"


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore from the PostgreSQL binaries the test cluster uses."""
    spec = importlib.util.spec_from_file_location("with_postgres", SCRIPT)
    module = sys.modules.setdefault("with_postgres", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    try:
        path = Path(module.find_bindir()) / name
    except Exception as exc:  # noqa: BLE001 - no binaries at all
        pytest.fail(f"no PostgreSQL binaries for {name}: {exc}")
    if not path.exists():
        pytest.fail(f"{path} is missing (Debian: the postgresql package)")
    return str(path)


def run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def restore(pg_url: str, url: str, dump: Path) -> None:
    """What an admin does: drop the damaged database, create it again, pg_restore the dump."""
    name = urlsplit(url).path.lstrip("/")
    drop_database(pg_url, name)
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    run(pg_tool("pg_restore"), "--exit-on-error", "-d", libpq_url(url), str(dump))


def person(st, staff_id: str) -> PersonRow:
    with Session(st.engine) as s:
        return s.get(PersonRow, staff_id)


def device(st, tag: str) -> DeviceRow:
    with Session(st.engine) as s:
        return s.get(DeviceRow, tag)


def data_dir(st) -> Path:
    return Path(st.db_path).parent


def test_central_restored_from_a_dump_gets_every_event_again_and_stations_reload(
        pg_url, make_station, tmp_path):
    url = create_database(pg_url, prefix="es_restore")
    try:
        upgrade_central(url)
        a, b = make_station("HQ-01"), make_station("HQ-02")
        import_demo_to_central(a, url)
        sync(url, a, b)
        swap(a, 1)
        sync(url, a, b)
        dump = tmp_path / "central.dump"
        run(pg_tool("pg_dump"), "-Fc", "-f", str(dump), libpq_url(url))

        # central goes on; the restore will lose all of this
        swap(a, 2)
        swap(b, 4)
        renamed = write_csv(tmp_path, "people.csv", "staff_id,name,site,shielding,assistive_tech",
                            "P1020,Renamed After The Dump,Hutton HQ,no,no")
        import_to_central(a.context, sign_in(a), "people", renamed, url)
        sync(url, a, b, a)
        name = person(a, "P1020").name
        assert name == person(b, "P1020").name == "Renamed After The Dump"
        acked = {StationOutbox(st.engine).station().station_id:
                 StationOutbox(st.engine).station().acked_seq for st in (a, b)}

        restore(pg_url, url, dump)
        with psycopg.connect(libpq_url(url)) as conn:
            hwms = dict(conn.execute("SELECT station_id, hwm FROM station_stream").fetchall())
            original = conn.execute("SELECT name FROM person_state WHERE staff_id = 'P1020'"
                                    ).fetchone()[0]
        assert hwms["HQ-01"] < acked["HQ-01"] and hwms["HQ-02"] < acked["HQ-02"]  # central lost events

        reports = [SyncRunner(st.engine).run_once(url) for st in (a, b, a, b)]
        assert all(r.ok for r in reports), [r.error for r in reports]
        assert [r.pushed for r in reports[:2]] == [acked["HQ-01"] - hwms["HQ-01"],
                                                    acked["HQ-02"] - hwms["HQ-02"]]
        assert reports[0].pulled > 100 and reports[1].pulled > 100  # each reloaded in full
        assert check(url, [data_dir(a), data_dir(b)], drained=True, replay=True) == []
        for st in (a, b):  # what the counter shows now
            assert person(st, "P1020").name == original != name  # the lost rename is gone
            assert (device(st, "NEW-00002").state, device(st, "NEW-00002").holder_staff_id) \
                == ("issued", "P1002")  # the exchanges after the dump were sent again
            assert device(st, "NEW-00004").holder_staff_id == "P1004"
    finally:
        drop_database(pg_url, urlsplit(url).path.lstrip("/"))


def test_a_new_db_epoch_by_hand_makes_every_station_reload(central, make_station, capsys):
    a = make_station("HQ-01")
    import_demo_to_central(a, central)
    sync(central, a)
    before = Cursor.parse(read_cursor(StationOutbox(a.engine)))
    assert main(["--json", "init", "--central", central, "--restored"]) == 0
    assert "db_epoch" in capsys.readouterr().out
    report = SyncRunner(a.engine).run_once(central)
    after = Cursor.parse(read_cursor(StationOutbox(a.engine)))
    assert report.ok and report.pulled > 100 and after.db_epoch != before.db_epoch


def test_a_cursor_ahead_of_every_xid_central_has_given_out_reloads(central, make_station):
    """A data directory copied back onto the same server keeps the epoch but not the xids."""
    a = make_station("HQ-01")
    import_demo_to_central(a, central)
    sync(central, a)
    cursor = Cursor.parse(read_cursor(StationOutbox(a.engine)))
    with Session(a.engine) as s, s.begin():
        s.execute(update(StationRow).values(
            ref_cursor=str(Cursor(cursor.db_epoch, cursor.xid + 10**9, 1))))
        s.execute(update(PersonRow).where(PersonRow.staff_id == "P1001").values(name="Stale"))
    report = SyncRunner(a.engine).run_once(central)
    assert report.ok and report.pulled > 100
    assert person(a, "P1001").name != "Stale"
    assert Cursor.parse(read_cursor(StationOutbox(a.engine))).xid < cursor.xid + 10**9


@pytest.fixture
def dumped(pg_url, make_station, tmp_path):
    """(central URL, station HQ-01, station HQ-02, its dump): a central database of its own,
    migrated, with the demo register, both stations synced, dumped with `pg_dump -Fc`."""
    url = create_database(pg_url, prefix="es_restore")
    try:
        upgrade_central(url)
        a, b = make_station("HQ-01"), make_station("HQ-02")
        import_demo_to_central(a, url)
        sync(url, a, b)
        dump = tmp_path / "central.dump"
        run(pg_tool("pg_dump"), "-Fc", "-f", str(dump), libpq_url(url))
        yield url, a, b, dump
    finally:
        drop_database(pg_url, urlsplit(url).path.lstrip("/"))


def test_a_decision_made_after_the_dump_still_closes_its_conflict_after_the_restore(
        pg_url, dumped):
    from app.sync.conflicts import open_conflicts, resolve_conflict

    url, a, b, dump = dumped
    swap(a, 1, new=1)
    swap(b, 2, new=1)
    sync(url, a, b)
    [conflict] = open_conflicts(url)
    resolve_conflict(b.context, sign_in(b, "L1"), conflict, "P1002 has it in hand",
                     holder="P1002")
    sync(url, b, a)
    assert open_conflicts(url) == []
    restore(pg_url, url, dump)
    sync(url, b, a, b, a)
    assert check(url, [data_dir(a), data_dir(b)], drained=True, replay=True) == []


@pytest.mark.parametrize("pushed_since", [False, True], ids=["pulled only", "pushed since"])
def test_a_dump_restored_into_the_same_database_is_noticed_too(dumped, tmp_path, pushed_since):
    """`pg_restore --clean` into the existing database keeps its oid, system and timeline and
    the dump's db_epoch: the station notices by its cursor standing on a change central no
    longer has, or by central holding fewer of its events than it acknowledged, and reloads."""
    url, a, _b, dump = dumped
    renamed = write_csv(tmp_path, "people.csv", "staff_id,name,site,shielding,assistive_tech",
                        "P1020,Renamed After The Dump,Hutton HQ,no,no")
    import_to_central(a.context, sign_in(a), "people", renamed, url)
    if pushed_since:
        swap(a, 1)
    sync(url, a)
    assert person(a, "P1020").name == "Renamed After The Dump"
    run(pg_tool("pg_restore"), "--clean", "--if-exists", "--exit-on-error", "-d",
        libpq_url(url), str(dump))
    report = SyncRunner(a.engine).run_once(url)
    assert report.ok and report.pulled > 100, report
    assert person(a, "P1020").name != "Renamed After The Dump"
    assert check(url, [data_dir(a)], drained=True) == []


def test_decisions_hold_when_a_restore_renumbers_their_conflicts(pg_url, dumped):
    """Two conflicts decided after the dump come back with each other's ids when the stations
    resend in another order: both are closed by their own decisions, the checker finds
    nothing wrong, and if both were left open it names each (without a replay)."""
    from app.sync.conflicts import open_conflicts, resolve_conflict

    url, a, b, dump = dumped
    swap(a, 1, new=3)
    swap(a, 2, new=1)
    swap(b, 4, new=1)
    swap(b, 5, new=3)
    sync(url, a, b)
    for conflict in open_conflicts(url):
        resolve_conflict(b.context, sign_in(b, "L1"), conflict, "the lead decided here",
                         holder="P1004" if conflict.subject.endswith("1") else "P1005")
    sync(url, b, a)
    restore(pg_url, url, dump)
    sync(url, b, a, b, a)
    assert open_conflicts(url) == []
    assert check(url, [data_dir(a), data_dir(b)], drained=True, replay=True) == []
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("UPDATE sync_conflict SET status = 'open', resolution_event_id = NULL")
        conn.execute("UPDATE device_state SET disputed = true "
                     "WHERE asset_tag IN ('NEW-00001', 'NEW-00003')")
    problems = check(url, [])
    assert sum("is still open after the decision" in p for p in problems) == 2, problems
