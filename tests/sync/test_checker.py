"""The invariant checker against a real central: a clean day passes every check (I5 by a real
replay into a scratch database, I7, I9), and each way central or a station can be wrong
behind sync's back is named."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.persistence.engine import database_path
from app.persistence.models import DeviceRow, EventRow
from app.sync.checker import check, main
from app.sync.conflicts import open_conflicts, resolve_conflict
from app.sync.escrow import grant_units, release_units
from tests.conftest import LEAD
from tests.sync.conftest import import_demo_to_central, sign_in, swap, sync


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def data_dir(st) -> Path:
    return Path(st.db_path).parent


def scratch_databases() -> set[str]:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        return {r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'es\\_replay\\_%'")}


def quarantine_last_event(st) -> None:
    """What a newer program would have written: the station's last event as schema_v 2."""
    with Session(st.engine) as s, s.begin():
        last = s.query(EventRow).order_by(EventRow.seq.desc()).first()
        s.execute(update(EventRow).where(EventRow.seq == last.seq).values(schema_v=2))


@pytest.fixture
def day(central, make_station):
    """Two stations' day on a register an admin imported into central: counter exchanges,
    units released and granted on, a courier laptop on that grant, one laptop issued at both
    stations and the site lead's decision on it, an event central cannot read yet."""
    a, b = make_station("HQ-01"), make_station("HQ-02")
    import_demo_to_central(a, central)
    sync(central, a, b)
    for n in (1, 2, 4):
        swap(a, n)  # three counter laptops at HQ-01
    release_units(a.context, sign_in(a, LEAD), 3)
    sync(central, a)
    assert grant_units(central, "HQ-02", 3, "A1") == 0
    sync(central, b)
    swap(b, 3, courier=True)  # P1003 is shielding: HQ-02 spends the granted units
    swap(a, 5, new=10)
    swap(b, 6, new=10)  # NEW-00010 issued at both stations, offline
    swap(a, 9)
    quarantine_last_event(a)
    sync(central, a, b, a)
    [conflict] = open_conflicts(central)
    resolve_conflict(b.context, sign_in(b, LEAD), conflict,
                     "P1005 has NEW-00010 in hand; P1006 gets another", holder="P1005")
    sync(central, b, a, b)
    return a, b


def test_a_day_of_imports_grants_conflicts_and_decisions_replays_to_the_same_central(
        central, day):
    a, b = day
    before = scratch_databases()
    assert check(central, [data_dir(a), data_dir(b)], drained=True, replay=True) == []
    assert scratch_databases() == before  # the replay's database is gone again
    with psycopg.connect(libpq(central)) as conn:  # ... and it had all this to replay
        assert conn.execute("SELECT kind, count(*) FROM central_import GROUP BY kind "
                            "ORDER BY kind").fetchall() == [("devices", 2), ("people", 1)]
        assert conn.execute("SELECT status, count(*) FROM event WHERE status <> 'applied' "
                            "GROUP BY status ORDER BY status").fetchall() == [
            ("conflict", 1), ("quarantined", 1)]
        assert conn.execute("SELECT kind, subject, status, decision ->> 'holder' "
                            "FROM sync_conflict").fetchall() == [
            ("DEVICE_DOUBLE_ISSUE", "device:NEW-00010", "resolved", "P1005")]
        assert conn.execute("SELECT kind, delta FROM escrow_ledger ORDER BY position"
                            ).fetchall() == [("release", -3), ("grant", 3)]
        assert conn.execute("SELECT station_id, counter_laptops, courier_laptops, "
                            "released_units FROM station_stream ORDER BY station_id"
                            ).fetchall() == [("HQ-01", 4, 0, 3), ("HQ-02", 1, 1, 0)]
        assert conn.execute("SELECT state, holder, disputed FROM device_state "
                            "WHERE asset_tag = 'NEW-00010'").fetchone() == ("issued", "P1005",
                                                                             False)
        # HQ-01 issued NEW-00009 in the event central quarantined: I9 leaves it out
        assert conn.execute("SELECT state FROM device_state WHERE asset_tag = 'NEW-00009'"
                            ).fetchone() == ("in_stock",)
    with Session(a.engine) as s:
        assert s.get(DeviceRow, "NEW-00009").state == "issued"


def test_every_change_made_behind_syncs_back_is_named(central, day, capsys):
    a, b = day
    with psycopg.connect(libpq(central), autocommit=True) as conn:
        conflict_event = conn.execute("SELECT station_id || ' seq ' || seq FROM event "
                                      "WHERE status = 'conflict'").fetchone()[0]
        conn.execute("UPDATE device_state SET holder = 'P1009' WHERE asset_tag = 'NEW-00001'")
        conn.execute("UPDATE device_state SET state = 'in_stock' WHERE asset_tag = 'NEW-00002'")
        conn.execute("UPDATE person_state SET disputed = true WHERE staff_id = 'P1020'")
        conn.execute("UPDATE station_stream SET courier_laptops = 2 WHERE station_id = 'HQ-02'")
        conn.execute("DELETE FROM sync_conflict_member WHERE event_id IN "
                     "(SELECT event_id FROM event WHERE status = 'conflict')")
        # a second double issue, then closed by hand instead of by a decision
        conn.execute("UPDATE device_state SET disputed = true WHERE asset_tag = 'NEW-00004'")
        conn.execute("INSERT INTO sync_conflict (kind, subject, status) "
                     "VALUES ('DEVICE_DOUBLE_ISSUE', 'device:NEW-00004', 'resolved')")
    db = sqlite3.connect(database_path(data_dir(b)))
    with db:
        db.execute("UPDATE devices SET model = 'Latitude 7440' WHERE asset_tag = 'NEW-00030'")
    db.close()

    code = main(["--central", central, "--drained", "--replay", str(data_dir(a)),
                 str(data_dir(b))])
    out, err = capsys.readouterr()
    assert code == 1 and "violations" in err
    assert "1 events quarantined at central" in err and "HQ-01 seq" in err
    expected = [
        "I5 device_state NEW-00001: central has holder 'P1009' (replay 'P1001')",
        "I7 device NEW-00001 is held by P1009, not disputed, and no recorded handover",
        "I5 device_state NEW-00002: central has state 'in_stock' (replay 'issued')",
        "I7 device NEW-00002 is in_stock with holder P1002",
        "I5 person_state P1020: central has disputed True (replay False)",
        "I7 person:P1020 is disputed with no open conflict on it",
        "I5 station_stream HQ-02/",  # courier_laptops 2 (replay 1)
        f"I6 {conflict_event}: marked conflict but in no conflict",
        # central's copy lost a member; the replay's has both (its decision found it by kind,
        # subject and the records the lead saw)
        "I5 sync_conflict only at central: ('DEVICE_DOUBLE_ISSUE', 'device:NEW-00010', "
        "'resolved', ('",
        "I5 sync_conflict only in the replay: ('DEVICE_DOUBLE_ISSUE', 'device:NEW-00010', "
        "'resolved', ('",
        "I7 conflict 2 (DEVICE_DOUBLE_ISSUE device:NEW-00004) is resolved but its deciding "
        "event is not at central",
        "I7 device:NEW-00004 is disputed with no open conflict on it",
        "I9 HQ-02 devices differ from central's: NEW-00001, NEW-00002, NEW-00004, NEW-00030",
        # HQ-01 has not pulled central's changes; its own NEW-00009 (quarantined) is left out
        "I9 HQ-01 devices differ from central's: NEW-00001, NEW-00002, NEW-00004",
    ]
    lines = out.splitlines()
    for text in expected:
        assert any(line.startswith(text) for line in lines), (text, "\n".join(lines))
    assert "courier_laptops 2 (replay 1)" in out
    assert [line for line in lines if line.startswith("I9 HQ-01 devices")] == [
        "I9 HQ-01 devices differ from central's: NEW-00001, NEW-00002, NEW-00004"]


def test_a_conflict_left_open_after_its_decision_and_a_decision_on_another_conflict(central,
                                                                                   day):
    with psycopg.connect(libpq(central), autocommit=True) as conn:
        conn.execute("UPDATE sync_conflict SET status = 'open', resolution_event_id = NULL")
        problems = check(central, [])
        conn.execute("UPDATE sync_conflict SET status = 'resolved', resolution_event_id = "
                     "(SELECT event_id FROM event WHERE type = 'exchange.recorded' LIMIT 1)")
        problems += check(central, [])
    assert any(p.startswith("I7 conflict 1 (DEVICE_DOUBLE_ISSUE device:NEW-00010) is still "
                            "open after the decision") for p in problems), problems
    assert any(p.startswith("I7 conflict 1 (DEVICE_DOUBLE_ISSUE device:NEW-00010) is resolved "
                            "but it was closed by a applied exchange.recorded event")
               for p in problems), problems


def _exchange(seq: int, person: str, issued: list[str]) -> dict:
    payload = {"person": person, "issued": issued, "returned": [], "lost": [], "registered": [],
               "courier": False, "exceptions": []}
    text = json.dumps(payload, sort_keys=True)
    return {"seq": seq, "event_id": str(uuid.uuid4()), "type": "exchange.recorded",
            "schema_v": 1, "payload": payload, "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "operator": "E1", "occurred_at": "2026-11-26T10:00:00+00:00"}


def test_two_pushes_at_once_are_applied_in_central_seq_order(central):
    url = libpq(central)
    streams = {"HQ-A": uuid.UUID(int=1), "HQ-B": uuid.UUID(int=2)}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT central_import_people(%s, 'A1')", (Jsonb([
            {"staff_id": p, "name": p, "site": "X", "shielding": False, "assistive_tech": False}
            for p in ("P1", "P2")]),))
        conn.execute("SELECT central_import_devices(%s, 'A1')", (Jsonb([
            {"asset_tag": tag, "serial": tag, "type": "laptop", "model": "M", "os": "W",
             "state": "in_stock", "holder": None, "sole_use": False, "site": "X",
             "unit_cost_pence": None} for tag in ("A-1", "X-1")]),))
        for station, epoch in streams.items():
            conn.execute("SELECT sync_handshake(%s, %s, 'X', 0)", (station, epoch))

    def push(station: str, events: list[dict]) -> None:
        with psycopg.connect(url, autocommit=True, application_name=f"push-{station}") as conn, \
                conn.transaction():
            conn.execute("SELECT sync_push_batch(%s, %s, %s)",
                         (station, streams[station], Jsonb(events)))

    def waiting(conn, station: str) -> bool:  # noqa: ANN001
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                            "AND wait_event_type = 'Lock'", (f"push-{station}",)).fetchone()[0]

    with psycopg.connect(url) as holder:  # someone holds A-1 (a long admin transaction)
        holder.execute("SELECT 1 FROM device_state WHERE asset_tag = 'A-1' FOR UPDATE")
        first = threading.Thread(target=push, args=("HQ-A", [_exchange(1, "P1", ["A-1", "X-1"])]))
        second = threading.Thread(target=push, args=("HQ-B", [_exchange(1, "P2", ["X-1"])]))
        with psycopg.connect(url, autocommit=True) as conn:
            first.start()
            deadline = time.monotonic() + 20
            while not waiting(conn, "HQ-A"):  # numbered, applying, waiting for A-1
                assert time.monotonic() < deadline, "HQ-A's push never waited for A-1"
                time.sleep(0.01)
            second.start()
            while not waiting(conn, "HQ-B"):  # waits for HQ-A before it is numbered
                assert time.monotonic() < deadline, "HQ-B's push never waited for HQ-A's"
                time.sleep(0.01)
    first.join(30)
    second.join(30)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT station_id, status FROM event ORDER BY central_seq"
                            ).fetchall() == [("HQ-A", "applied"), ("HQ-B", "conflict")]
        assert conn.execute("SELECT holder FROM device_state WHERE asset_tag = 'X-1'"
                            ).fetchone() == ("P1",)
    assert check(central, [], replay=True) == []


def test_the_replay_never_writes_into_central_even_when_its_url_names_it_by_dbname(central):
    """libpq lets `?dbname=` win over the URL's path: the scratch URL drops it."""
    from app.sync.replay import _with_database

    assert _with_database("postgresql://admin@central.example:5432/?dbname=exchange"
                          "&sslmode=verify-full", "es_replay_1") == (
        "postgresql://admin@central.example:5432/es_replay_1?sslmode=verify-full")
    name = libpq(central).rsplit("/", 1)[1]
    by_dbname = libpq(central).rsplit("/", 1)[0] + f"/?dbname={name}"
    with psycopg.connect(libpq(central)) as conn:
        journal = conn.execute("SELECT count(*) FROM central_import").fetchone()
        conn.execute("SELECT central_import_people(%s, 'A1')", (Jsonb([
            {"staff_id": "P1", "name": "P1", "site": "X", "shielding": False,
             "assistive_tech": False}]),))
        conn.commit()
    assert check(by_dbname, [], replay=True) == []
    with psycopg.connect(libpq(central)) as conn:
        assert conn.execute("SELECT count(*) FROM central_import").fetchone() == (
            journal[0] + 1,)


def test_a_check_while_a_station_syncs_does_not_see_a_half_done_sync(central, make_station,
                                                                      monkeypatch):
    """I4 sampled during a run: the station pushes and acknowledges between the checker's
    look at central and its look at the station; nothing is reported."""
    import app.sync.checker as checker

    a = make_station("HQ-01")
    import_demo_to_central(a, central)
    sync(central, a)
    swap(a, 1)  # one event waiting to be pushed
    looked = checker._station

    def syncing_meanwhile(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        sync(central, a)
        return looked(*args, **kwargs)

    monkeypatch.setattr(checker, "_station", syncing_meanwhile)
    assert checker.check(central, [data_dir(a)]) == []
