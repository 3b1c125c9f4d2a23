"""Push against a real PostgreSQL: idempotent, gap-free, and safe when a COMMIT's fate is unknown."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.persistence.models import DeviceRow, EventRow, StationRow
from app.services.demo import load_demo
from app.sync.central import connect
from app.sync.outbox import StationOutbox
from app.sync.push import handshake, push
from app.sync.runner import SyncRunner
from tests.sync.conftest import SITE_A, import_demo_to_central, sign_in, swap, sync


def central_conn(url: str):
    conn = connect(url)
    conn.autocommit = True
    return conn


def stored(url: str, station_id: str = "HQ-01") -> list[tuple]:
    with central_conn(url) as conn:
        return conn.execute("SELECT seq, event_id::text, sha256 FROM event WHERE station_id = %s "
                            "ORDER BY seq", (station_id,)).fetchall()


def local(st) -> list[tuple]:
    with Session(st.engine) as s:
        return [(r.seq, r.event_id, r.sha256) for r in
                s.query(EventRow).order_by(EventRow.seq)]


def set_acked(st, value: int) -> None:
    with Session(st.engine) as s, s.begin():
        s.execute(update(StationRow).values(acked_seq=value))


@pytest.fixture
def demo_station(make_station):
    st = make_station()
    load_demo(st.context, sign_in(st), SITE_A)
    return st


def test_push_sends_every_event_once_in_batches_and_acks(central, demo_station):
    outbox = StationOutbox(demo_station.engine)
    with central_conn(central) as conn:
        result = push(outbox, conn, batch_size=2)
    assert result.pushed == 7 and result.hwm == 7
    assert stored(central) == local(demo_station)
    assert outbox.station().acked_seq == 7


def test_replay_after_a_kill_between_commit_and_local_ack_stores_nothing_twice(
        central, demo_station):
    outbox = StationOutbox(demo_station.engine)
    with central_conn(central) as conn:
        push(outbox, conn)
        set_acked(demo_station, 0)  # the ack never reached the disk
        result = push(outbox, conn)
    assert result.pushed == 0 and outbox.station().acked_seq == 7
    assert stored(central) == local(demo_station)


def test_an_overlapping_batch_is_compared_and_skipped(central, demo_station):
    from app.sync.push import _send

    outbox = StationOutbox(demo_station.engine)
    station = outbox.station()
    with central_conn(central) as conn:
        push(outbox, conn)
        batch = _send(conn, station.station_id, station.epoch,
                      outbox.events_after(station.epoch, 3, 200))
    assert (batch.status, batch.hwm, batch.inserted) == ("ok", 7, 0)
    assert len(stored(central)) == 7


def test_a_batch_that_skips_a_seq_is_refused_with_the_hwm(central, demo_station):
    from app.sync.push import _send

    outbox = StationOutbox(demo_station.engine)
    station = outbox.station()
    with central_conn(central) as conn:
        handshake(conn, station.station_id, station.epoch, station.site)
        batch = _send(conn, station.station_id, station.epoch,
                      outbox.events_after(station.epoch, 2, 200))
    assert (batch.status, batch.hwm, batch.inserted) == ("gap", 0, 0)
    assert stored(central) == []


def test_central_restored_to_an_older_state_gets_the_missing_events_again(
        central, demo_station):
    outbox = StationOutbox(demo_station.engine)
    with central_conn(central) as conn:
        push(outbox, conn)
        # central "restored": it lost events 5..7 of this station
        conn.execute("DELETE FROM event WHERE seq > 4")
        conn.execute("UPDATE station_stream SET hwm = 4")
        result = push(outbox, conn)
    assert result.pushed == 3
    assert stored(central) == local(demo_station)


def test_a_different_payload_at_a_stored_seq_is_a_conflict_and_stops_the_push(
        central, demo_station):
    from app.sync.push import _send

    outbox = StationOutbox(demo_station.engine)
    station = outbox.station()
    with central_conn(central) as conn:
        push(outbox, conn)
        forged = [e.__class__(**{**e.__dict__, "sha256": "0" * 64})
                  for e in outbox.events_after(station.epoch, 6, 1)]
        batch = _send(conn, station.station_id, station.epoch, forged)
        kinds = conn.execute("SELECT kind FROM sync_conflict").fetchall()
    assert batch.status == "mismatch" and kinds == [("PAYLOAD_MISMATCH",)]


def test_a_station_behind_central_goes_on_in_a_new_epoch(central, demo_station):
    outbox = StationOutbox(demo_station.engine)
    with central_conn(central) as conn:
        push(outbox, conn)
        conn.execute("UPDATE station_stream SET hwm = 99")  # central holds more than we do
        result = push(outbox, conn)
        assert result.new_epoch and result.pushed == 0
        swap(demo_station, 1)
        assert push(outbox, conn).pushed == 1
        streams = conn.execute("SELECT base, hwm FROM station_stream ORDER BY base").fetchall()
    assert streams == [(0, 99), (7, 8)]


def test_two_workers_for_one_station_at_once_store_each_event_once(central, demo_station):
    for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11):
        swap(demo_station, n)
    reports = []

    def worker() -> None:
        reports.append(SyncRunner(demo_station.engine, batch_size=3).run_once(central))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r.ok for r in reports), reports
    assert sum(r.pushed for r in reports) == 17
    assert stored(central) == local(demo_station)


def test_a_connection_cut_before_commit_loses_nothing(central, demo_station, monkeypatch):
    """The COMMIT's outcome is unknown to the station; the next handshake decides."""
    from app.sync import push as push_module

    outbox = StationOutbox(demo_station.engine)
    real_send = push_module._send_wire
    calls = {"n": 0}

    def cut_after_first(conn, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            conn.close()  # the connection drops with batch 2 in flight
        return real_send(conn, *args)

    monkeypatch.setattr(push_module, "_send_wire", cut_after_first)
    with central_conn(central) as conn, pytest.raises(Exception):
        push(outbox, conn, batch_size=3)
    assert outbox.station().acked_seq == 3
    monkeypatch.setattr(push_module, "_send_wire", real_send)
    with central_conn(central) as conn:
        assert push(outbox, conn).pushed == 4
    assert stored(central) == local(demo_station)


def test_events_are_stored_as_jsonb_with_their_station_hash(central, demo_station):
    with central_conn(central) as conn:
        push(StationOutbox(demo_station.engine), conn)
        row = conn.execute("SELECT payload ->> 'station', status FROM event WHERE seq = 1")
        assert row.fetchone() == ("HQ-01", "applied")
    with psycopg.connect(central.replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT count(DISTINCT event_id) FROM event").fetchone()[0] == 7


def test_an_event_id_already_stored_at_another_position_is_never_stored_twice(
        central, demo_station):
    from app.sync.push import _send

    outbox = StationOutbox(demo_station.engine)
    station = outbox.station()
    with central_conn(central) as conn:
        push(outbox, conn)
        first = outbox.events_after(station.epoch, 0, 1)[0]
        replayed = first.__class__(**{**first.__dict__, "seq": 8})
        batch = _send(conn, station.station_id, station.epoch, [replayed])
        kinds = conn.execute("SELECT kind FROM sync_conflict").fetchall()
    assert (batch.status, batch.hwm, batch.inserted) == ("mismatch", 7, 0)
    assert kinds == [("PAYLOAD_MISMATCH",)] and len(stored(central)) == 7


def test_a_station_restored_from_an_older_copy_keeps_both_histories_in_two_epochs(
        central, demo_station, tmp_path):
    import sqlite3

    from app.bootstrap import open_station
    from app.persistence.engine import database_path
    from app.sync.checker import check

    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    with central_conn(central) as conn:
        push(StationOutbox(demo_station.engine), conn)  # 1..7 sent and acked
    backup = sqlite3.connect(database_path(copy_dir))
    source = sqlite3.connect(demo_station.db_path)
    source.backup(backup)
    backup.close()
    source.close()
    swap(demo_station, 1)  # seq 8, pushed from the live station, which then dies
    with central_conn(central) as conn:
        push(StationOutbox(demo_station.engine), conn)
    restored = open_station(copy_dir)  # the old copy: acked 7, no seq 8
    try:
        swap(restored, 2)  # a different seq 8
        swap(restored, 3)  # and a seq 9 central has never seen
        report = SyncRunner(restored.engine).run_once(central)
        assert report.ok and report.notice and "restored" in report.notice
        assert report.pushed == 2 and report.unsynced == 0
        with central_conn(central) as conn:
            assert conn.execute("SELECT count(*) FROM event").fetchone()[0] == 10
            assert conn.execute("SELECT count(*) FROM sync_conflict").fetchone()[0] == 0
        assert check(central, [copy_dir], drained=True, replay=True) == []
    finally:
        restored.close()


def test_an_event_of_an_unknown_schema_version_is_stored_and_quarantined_not_applied(
        central, demo_station):
    from sqlalchemy import update as sql_update

    swap(demo_station, 1)  # seq 8
    with Session(demo_station.engine) as s, s.begin():
        s.execute(sql_update(EventRow).where(EventRow.seq == 8).values(schema_v=2))
    with central_conn(central) as conn:
        assert push(StationOutbox(demo_station.engine), conn).pushed == 8
        status = conn.execute("SELECT status FROM event WHERE seq = 8").fetchone()[0]
        state = conn.execute("SELECT state FROM device_state "
                             "WHERE asset_tag = 'NEW-00001'").fetchone()[0]
    assert (status, state) == ("quarantined", "in_stock")


NEWER_CLIENT = Path(__file__).with_name("newer_client.py")


def test_a_newer_station_process_sends_events_central_cannot_read_yet_and_none_is_lost(
        central, make_station, capsys):
    """S8: a station on a later release writes schema_v 2 among its normal events and syncs,
    in its own process; central stores every event, quarantines the unknown ones without
    applying them, and the checker counts them as present."""
    import json
    import subprocess
    import sys

    from app.sync.checker import main as checker

    st = make_station()
    import_demo_to_central(st, central)
    sync(central, st)  # the register, from central
    data_dir = Path(st.db_path).parent
    done = subprocess.run([sys.executable, str(NEWER_CLIENT), str(data_dir),
                           central.replace("+psycopg", ""), "1", "2:2", "4", "5:2", "6"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # what the station's operator is told
    assert report["ok"] and report["pushed"] == 5 and report["unsynced_events"] == 0
    assert stored(central) == local(st)  # every event, in order, none dropped
    with central_conn(central) as conn:
        rows = conn.execute(
            "SELECT e.schema_v, e.status, d.asset_tag, d.state, d.holder FROM event e "
            "JOIN device_state d ON d.asset_tag = e.payload -> 'issued' ->> 0 "
            "WHERE e.type = 'exchange.recorded' ORDER BY e.seq").fetchall()
    assert rows == [(1, "applied", "NEW-00001", "issued", "P1001"),
                    (2, "quarantined", "NEW-00002", "in_stock", None),
                    (1, "applied", "NEW-00004", "issued", "P1004"),
                    (2, "quarantined", "NEW-00005", "in_stock", None),
                    (1, "applied", "NEW-00006", "issued", "P1006")]
    code = checker(["--central", central, "--drained", "--replay", str(data_dir)])
    out, err = capsys.readouterr()
    assert (code, out) == (0, ""), out
    assert "2 events quarantined at central" in err
    assert "HQ-01 seq 6 exchange.recorded v2, HQ-01 seq 8 exchange.recorded v2" in err
    with Session(st.engine) as s:  # the station itself applied them: I9 leaves those out
        assert s.get(DeviceRow, "NEW-00002").state == "issued"
