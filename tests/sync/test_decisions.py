"""A site lead's decision closes the conflict it was made on, found by kind, subject and the
records the lead saw: central's conflict id alone may name another conflict after central was
restored from a dump (c0012)."""

from __future__ import annotations

import hashlib
import json
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.pg_plugin import libpq_url

STREAMS = {"S-A": str(uuid.UUID(int=11)), "S-B": str(uuid.UUID(int=12))}


def event(station: str, seq: int, type_: str, payload: dict) -> dict:
    text = json.dumps(payload, sort_keys=True)
    return {"seq": seq, "event_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{station}/{seq}")),
            "type": type_, "schema_v": 1, "payload": payload,
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "operator": "L1",
            "occurred_at": "2026-11-25T10:00:00+00:00"}


def issue(station: str, seq: int, person: str, tag: str) -> dict:
    return event(station, seq, "exchange.recorded", {
        "person": person, "returned": [], "issued": [tag], "lost": [], "registered": [],
        "courier": False, "exceptions": []})


@pytest.fixture
def conn(central):
    """Central with people P1-P4, laptops X and Y in stock, and streams for S-A and S-B."""
    with psycopg.connect(libpq_url(central), autocommit=True) as c:
        for person in ("P1", "P2", "P3", "P4"):
            c.execute("INSERT INTO person_state (staff_id, name, site) VALUES (%s, %s, 'X')",
                      (person, person))
        for tag in ("X", "Y"):
            c.execute("INSERT INTO device_state (asset_tag, type, state) "
                      "VALUES (%s, 'laptop', 'in_stock')", (tag,))
        for station, epoch in STREAMS.items():
            c.execute("SELECT sync_handshake(%s, %s, 'X', 0)", (station, epoch))
        yield c


def push(conn, station: str, *events: dict) -> tuple:  # noqa: ANN001
    with conn.transaction():
        return conn.execute("SELECT * FROM sync_push_batch(%s, %s, %s)",
                            (station, STREAMS[station], Jsonb(list(events)))).fetchone()


def test_a_decision_naming_another_conflicts_id_closes_its_own_conflict_only(conn):
    a1, a2 = issue("S-A", 1, "P1", "X"), issue("S-A", 2, "P3", "Y")
    b1, b2 = issue("S-B", 1, "P4", "Y"), issue("S-B", 2, "P2", "X")
    push(conn, "S-A", a1, a2)
    assert push(conn, "S-B", b1, b2) == ("ok", 2, 2, 2)
    ids = dict(conn.execute("SELECT subject, id FROM sync_conflict").fetchall())
    assert ids["device:Y"] < ids["device:X"]
    decided = event("S-A", 3, "conflict.resolved", {
        "conflict_id": ids["device:Y"],  # as after a restore: this id now names Y's
        "kind": "DEVICE_DOUBLE_ISSUE", "subject": "device:X",
        "records": [a1["event_id"], b2["event_id"]], "decision": {"holder": "P1",
                                                                  "state": "issued"},
        "note": "P1 has it"})
    stranger = event("S-A", 4, "conflict.resolved", {
        "conflict_id": ids["device:Y"], "kind": "DEVICE_DOUBLE_ISSUE",
        "subject": "device:Y", "records": [str(uuid.uuid4())],  # records nobody has
        "decision": {"holder": "P3", "state": "issued"}, "note": "not this one"})
    push(conn, "S-A", decided, stranger)
    rows = conn.execute("SELECT subject, status, resolution_event_id::text FROM "
                        "sync_conflict ORDER BY subject").fetchall()
    assert rows == [("device:X", "resolved", decided["event_id"]),
                    ("device:Y", "open", None)]
    assert conn.execute("SELECT asset_tag, holder, state, disputed FROM device_state "
                        "ORDER BY asset_tag").fetchall() == [
        ("X", "P1", "issued", False), ("Y", "P3", "issued", True)]


def test_a_decision_that_arrives_before_its_conflict_waits_for_it(conn):
    """As after central is restored from a dump: HQ-B's issue and the lead's decision come
    back before HQ-A's issue re-creates the conflict; a second decision on the same records
    and a decision on a conflict decided already change nothing."""
    def decision(seq: int, holder: str) -> dict:
        return event("S-B", seq, "conflict.resolved", {
            "conflict_id": 99, "kind": "DEVICE_DOUBLE_ISSUE", "subject": "device:X",
            "records": [a1["event_id"], b1["event_id"]],
            "decision": {"holder": holder, "state": "issued"}, "note": "in hand"})

    a1, b1 = issue("S-A", 1, "P1", "X"), issue("S-B", 1, "P2", "X")
    first, second = decision(2, "P2"), decision(3, "P1")
    push(conn, "S-B", b1, first, second)
    assert conn.execute("SELECT count(*) FROM sync_conflict").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM sync_pending_decision").fetchone() == (2,)
    assert push(conn, "S-A", a1) == ("ok", 1, 1, 1)
    assert conn.execute("SELECT kind, status, resolution_event_id::text FROM sync_conflict"
                        ).fetchall() == [("DEVICE_DOUBLE_ISSUE", "resolved",
                                          first["event_id"])]
    assert conn.execute("SELECT holder, state, disputed FROM device_state "
                        "WHERE asset_tag = 'X'").fetchone() == (
        "P2", "issued", False)
    assert conn.execute("SELECT count(*) FROM sync_pending_decision").fetchone() == (0,)
    late = event("S-B", 4, "conflict.resolved", first["payload"] | {"note": "again"})
    push(conn, "S-B", late)  # decided already: not kept waiting
    assert conn.execute("SELECT count(*) FROM sync_pending_decision").fetchone() == (0,)


def test_a_waiting_decision_on_a_courier_overrun_settles_when_the_overrun_comes_back(conn):
    courier = issue("S-A", 1, "P1", "X")
    courier["payload"]["courier"] = True  # S-A's first laptop, by courier: over the cap
    decision = event("S-B", 1, "conflict.resolved", {
        "conflict_id": 1, "kind": "COURIER_OVERRUN", "subject": "station:S-A",
        "decision": {}, "note": "accepted by the lead", "records": [courier["event_id"]]})
    push(conn, "S-B", decision)
    assert push(conn, "S-A", courier) == ("ok", 1, 1, 1)
    assert conn.execute("SELECT kind, status, resolution_event_id::text FROM sync_conflict"
                        ).fetchall() == [("COURIER_OVERRUN", "resolved", decision["event_id"])]
    assert conn.execute("SELECT count(*) FROM sync_pending_decision").fetchone() == (0,)


def test_a_waiting_decision_is_settled_by_an_event_that_comes_the_careful_way(conn):
    """After a restore a decision can arrive before its conflict; the event that re-creates
    the conflict settles it even when its batch goes row by row (it names an event id central
    holds already: c0002's path, c0017)."""
    a1, b1 = issue("S-A", 1, "P1", "X"), issue("S-B", 1, "P2", "X")
    decided = event("S-A", 2, "conflict.resolved", {
        "conflict_id": 1, "kind": "DEVICE_DOUBLE_ISSUE", "subject": "device:X",
        "records": [a1["event_id"], b1["event_id"]],
        "decision": {"holder": "P1", "state": "issued"}, "note": "P1 has it"})
    push(conn, "S-A", a1, decided)
    assert conn.execute("SELECT count(*) FROM sync_pending_decision").fetchone() == (1,)
    stranger = {**issue("S-B", 2, "P3", "Y"), "event_id": a1["event_id"]}
    assert push(conn, "S-B", b1, stranger)[:3] == ("mismatch", 1, 1)
    rows = conn.execute("SELECT kind, subject, status, resolution_event_id::text "
                        "FROM sync_conflict WHERE kind <> 'PAYLOAD_MISMATCH'").fetchall()
    assert rows == [("DEVICE_DOUBLE_ISSUE", "device:X", "resolved", decided["event_id"])]
    assert conn.execute("SELECT count(*) FROM sync_pending_decision").fetchone() == (0,)
    assert conn.execute("SELECT holder, state, disputed FROM device_state "
                        "WHERE asset_tag = 'X'").fetchone() == ("P1", "issued", False)
