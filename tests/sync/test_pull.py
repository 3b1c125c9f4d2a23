"""Pull: reference data back to the station with a cursor that never skips a late commit."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.orm import Session

from app.persistence.models import DeviceRow, PersonRow
from app.services.demo import load_demo
from app.sync.central import connect
from app.sync.outbox import StationOutbox
from app.sync.pull import Cursor, pull, read_cursor
from app.sync.runner import SyncRunner
from tests.sync.conftest import SITE_A, sign_in, swap


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def person(st, staff_id: str) -> PersonRow | None:
    with Session(st.engine) as s:
        return s.get(PersonRow, staff_id)


def device(st, tag: str) -> DeviceRow | None:
    with Session(st.engine) as s:
        return s.get(DeviceRow, tag)


@pytest.fixture
def two_stations(central, make_station):
    """HQ-01 loaded the demo site and synced; HQ-02 (same site) pulled it all."""
    a, b = make_station("HQ-01"), make_station("HQ-02")
    load_demo(a.context, sign_in(a), SITE_A)
    assert SyncRunner(a.engine).run_once(central).ok
    assert SyncRunner(b.engine).run_once(central).ok
    return a, b


def test_a_new_station_receives_people_register_and_holdings(two_stations):
    _a, b = two_stations
    assert person(b, "P1001").name and device(b, "OLD-00001").holder_staff_id == "P1001"
    assert device(b, "NEW-00001").state == "in_stock"


def test_an_exchange_at_one_station_reaches_the_other(central, two_stations):
    a, b = two_stations
    swap(a, 1)
    assert SyncRunner(a.engine).run_once(central).ok
    report = SyncRunner(b.engine).run_once(central)
    assert report.ok and report.pulled >= 2  # (more if the fence held some back before)
    assert (device(b, "NEW-00001").state, device(b, "NEW-00001").holder_staff_id) == \
        ("issued", "P1001")
    assert device(b, "OLD-00001").state == "returned"


def test_the_cursor_never_skips_a_transaction_that_commits_late(central, two_stations):
    _a, b = two_stations
    outbox = StationOutbox(b.engine)
    late = psycopg.connect(libpq(central))
    try:
        late.execute("UPDATE person_state SET name = 'Late Writer' WHERE staff_id = 'P1001'")
        with psycopg.connect(libpq(central), autocommit=True) as early:
            early.execute("UPDATE person_state SET name = 'Early Bird' WHERE staff_id = 'P1002'")
        with connect(central) as conn:
            conn.autocommit = True
            pull(outbox, conn, wait_s=0.2)  # the late transaction holds the fence back
            assert person(b, "P1002").name != "Early Bird"
            late.commit()
            pull(outbox, conn)
    finally:
        late.close()
    assert person(b, "P1001").name == "Late Writer"
    assert person(b, "P1002").name == "Early Bird"


def test_rows_and_cursor_commit_together(central, two_stations, monkeypatch):
    _a, b = two_stations
    outbox = StationOutbox(b.engine)
    before = read_cursor(outbox)
    with psycopg.connect(libpq(central), autocommit=True) as conn:
        conn.execute("UPDATE person_state SET name = 'Changed' WHERE staff_id = 'P1003'")
    from app.sync import pull as pull_module

    def crash(name: str) -> None:
        if name == "mid_pull_apply":
            raise RuntimeError("killed mid apply")

    monkeypatch.setattr(pull_module, "crash_point", crash)
    with connect(central) as conn, pytest.raises(RuntimeError):
        conn.autocommit = True
        pull(outbox, conn)
    assert read_cursor(outbox) == before and person(b, "P1003").name != "Changed"
    monkeypatch.undo()
    with connect(central) as conn:
        conn.autocommit = True
        assert pull(outbox, conn).changes == 1
    assert person(b, "P1003").name == "Changed"


def test_a_central_restore_is_seen_by_db_epoch_and_reloads_everything(central, two_stations):
    _a, b = two_stations
    outbox = StationOutbox(b.engine)
    with psycopg.connect(libpq(central), autocommit=True) as conn:
        conn.execute("UPDATE meta SET db_epoch = gen_random_uuid()")
    with connect(central) as conn:
        conn.autocommit = True
        result = pull(outbox, conn)
    assert result.reloaded and result.changes > 100
    assert Cursor.parse(read_cursor(outbox)) is not None


def test_a_device_changed_by_an_unsent_local_event_keeps_its_local_state(central, two_stations):
    a, b = two_stations
    swap(b, 2)  # not yet pushed
    with psycopg.connect(libpq(central), autocommit=True) as conn:
        conn.execute("UPDATE device_state SET model = model || ' (checked)', disputed = true "
                     "WHERE asset_tag = 'NEW-00002'")
    with connect(central) as conn:
        conn.autocommit = True
        pull(StationOutbox(b.engine), conn)
    row = device(b, "NEW-00002")
    assert (row.state, row.holder_staff_id, row.disputed) == ("issued", "P1002", True)


def test_a_reload_killed_half_way_starts_again_and_completes(central, two_stations,
                                                             monkeypatch, make_station):
    from app.sync import pull as pull_module

    fresh = make_station("HQ-03", admin_only=True)
    outbox = StationOutbox(fresh.engine)
    calls = {"n": 0}

    def crash(name: str) -> None:
        calls["n"] += name == "mid_pull_apply"
        if calls["n"] == 3:
            raise RuntimeError("killed mid reload")

    monkeypatch.setattr(pull_module, "RELOAD_CHUNK", 20)
    monkeypatch.setattr(pull_module, "crash_point", crash)
    with connect(central) as conn, pytest.raises(RuntimeError):
        conn.autocommit = True
        pull(outbox, conn)
    assert read_cursor(outbox) is None and person(fresh, "P1001") is not None  # chunk 1 in
    with connect(central) as conn:
        conn.autocommit = True
        result = pull(outbox, conn)
    assert result.reloaded and read_cursor(outbox) is not None
    assert device(fresh, "NEW-00040").state == "in_stock"


def test_a_device_held_by_someone_central_does_not_know_does_not_stop_the_pull(central,
                                                                              two_stations):
    _a, b = two_stations
    with psycopg.connect(libpq(central), autocommit=True) as conn:
        conn.execute("UPDATE device_state SET holder = 'P9999' WHERE asset_tag = 'OLD-00005'")
    assert SyncRunner(b.engine).run_once(central).ok
    assert device(b, "OLD-00005").holder_staff_id == "P9999"
    assert person(b, "P9999").disputed
