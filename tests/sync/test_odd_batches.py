"""Batches no station of ours sends, as a buggy or hostile one might: central takes only the
unbroken run after its hwm, nothing from a batch that repeats a seq, and stores an event whose
payload is not shaped as its type says without applying it (quarantined) - the same whether
the batch is applied set-based or event by event (c0014)."""

from __future__ import annotations

import hashlib
import json
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.pg_plugin import libpq_url

EPOCH = str(uuid.UUID(int=21))


def event(seq: int, type_: str, payload: dict, tag: str = "") -> dict:
    text = json.dumps(payload, sort_keys=True)
    return {"seq": seq, "event_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"odd/{seq}/{tag}")),
            "type": type_, "schema_v": 1, "payload": payload,
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "operator": "E1",
            "occurred_at": "2026-11-25T10:00:00+00:00"}


def received(seq: int, tag: str) -> dict:
    return event(seq, "device.received", {"tag": tag, "serial": tag, "type": "laptop",
                                          "model": "M", "os": "W", "state": "in_stock"})


@pytest.fixture
def conn(central):
    with psycopg.connect(libpq_url(central), autocommit=True) as c:
        c.execute("INSERT INTO person_state (staff_id, name, site) VALUES ('P1', 'P1', 'X')")
        c.execute("SELECT sync_handshake('S-ODD', %s, 'X', 0)", (EPOCH,))
        yield c


def push(conn, events: list[dict]) -> tuple:  # noqa: ANN001
    with conn.transaction():
        return conn.execute("SELECT * FROM sync_push_batch('S-ODD', %s, %s)",
                            (EPOCH, Jsonb(events))).fetchone()


def stored(conn) -> list:  # noqa: ANN001
    return conn.execute("SELECT seq, status FROM event ORDER BY seq").fetchall()


def test_only_the_unbroken_run_after_hwm_is_taken(conn):
    assert push(conn, [received(1, "A"), received(4, "D"), received(3, "C")]) == ("ok", 1, 1, 0)
    assert stored(conn) == [(1, "applied")]
    assert push(conn, [received(2, "B"), received(3, "C"), received(5, "E")]) == (
        "ok", 3, 2, 0)
    assert push(conn, [received(30_000_000, "Z")]) == ("gap", 3, 0, 0)
    assert stored(conn) == [(1, "applied"), (2, "applied"), (3, "applied")]


def test_a_batch_that_repeats_a_seq_is_not_taken(conn):
    twice = [received(1, "A"), received(2, "B"), received(2, "B2"), received(3, "C")]
    assert push(conn, twice) == ("gap", 0, 0, 0)
    assert stored(conn) == []


@pytest.mark.parametrize("per_event", [False, True], ids=["set-based", "per-event"])
def test_a_payload_not_shaped_as_its_type_is_kept_but_not_applied(conn, per_event):
    if per_event:
        conn.execute("SET sync.per_event = on")
    odd = event(2, "exchange.recorded", {"person": "P1", "returned": [None], "issued": ["A"],
                                         "lost": [], "courier": False})
    assert push(conn, [received(1, "A"), odd, received(3, "B")]) == ("ok", 3, 3, 0)
    assert stored(conn) == [(1, "applied"), (2, "quarantined"), (3, "applied")]
    assert conn.execute("SELECT asset_tag, state, holder FROM device_state ORDER BY 1"
                        ).fetchall() == [("A", "in_stock", None), ("B", "in_stock", None)]


def test_a_payload_not_shaped_as_its_type_is_quarantined_on_the_careful_path_too(conn):
    """A batch that names an event id central stores already goes row by row (c0002's path):
    the odd payload before it is stored quarantined there too (c0017), not applied, and the
    events before the stranger are kept."""
    odd = event(2, "exchange.recorded", {"person": "P1", "returned": [None], "issued": ["A"],
                                         "lost": [], "courier": False})
    stranger = {**received(4, "C"), "event_id": received(1, "A")["event_id"]}
    seen = {**received(1, "A"), "expected": {"central_seen_at": "2026-11-25T09:00:00+00:00"}}
    assert push(conn, [seen, odd, received(3, "B"), stranger]) == ("mismatch", 3, 3, 1)
    assert stored(conn) == [(1, "applied"), (2, "quarantined"), (3, "applied")]
    assert conn.execute("SELECT expected FROM event WHERE seq = 1").fetchone() == (
        {"central_seen_at": "2026-11-25T09:00:00+00:00"},)  # kept on this path too (c0019)
    assert conn.execute("SELECT asset_tag, state, holder FROM device_state ORDER BY 1"
                        ).fetchall() == [("A", "in_stock", None), ("B", "in_stock", None)]
    assert conn.execute("SELECT kind, subject FROM sync_conflict").fetchall() == [
        ("PAYLOAD_MISMATCH", f"stream:S-ODD:{EPOCH}:4")]


@pytest.mark.parametrize("path", ["set-based", "per-event", "careful", "goods-in only"])
def test_a_goods_in_without_serial_model_or_os_is_stored_with_them_empty(conn, path):
    """An older or odd station's goods-in without serial, model and os failed the whole batch
    (NOT NULL), and so every later sync; now it is stored with them empty (c0016, c0018)."""
    if path == "per-event":
        conn.execute("SET sync.per_event = on")
    bare = event(1, "device.received", {"tag": "A", "type": "laptop", "state": "in_stock"})
    batch = [bare] if path == "goods-in only" else [
        bare, event(2, "sanitisation.certified", {"tag": "A"})]
    if path == "careful":  # an event id central holds already sends it row by row
        batch.append({**received(3, "C"), "event_id": bare["event_id"]})
    assert push(conn, batch)[:3] == {"careful": ("mismatch", 2, 2),
                                     "goods-in only": ("ok", 1, 1)}.get(path, ("ok", 2, 2))
    assert conn.execute("SELECT asset_tag, serial, model, os FROM device_state").fetchall() == [
        ("A", "", "", "")]


@pytest.mark.parametrize("own, during, after", [("0", "2s", "0"), ("60s", "2s", "1min"),
                                                ("1s", "1s", "1s")])
def test_a_push_lowers_the_idle_limit_until_its_commit_and_never_raises_it(conn, own, during,
                                                                             after):
    """Holding the order lock, a push cuts its session off after 2 s idle (c0017), or sooner
    if the session says so; after the COMMIT the session's own limit is back."""
    conn.execute(f"SET idle_in_transaction_session_timeout = '{own}'")
    with conn.transaction():
        conn.execute("SELECT * FROM sync_push_batch('S-ODD', %s, %s)",
                     (EPOCH, Jsonb([received(1, "A")])))
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone() == (during,)
    assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone() == (after,)


def test_the_checker_replays_and_counts_quarantined_odd_events_as_central_stored_them(central):
    from app.sync.checker import check

    with psycopg.connect(libpq_url(central), autocommit=True) as c:
        c.execute("SELECT central_import_people(%s, 'A1')", (Jsonb([
            {"staff_id": "P1", "name": "P1", "site": "X", "shielding": False,
             "assistive_tech": False}]),))
        c.execute("SELECT sync_handshake('S-ODD', %s, 'X', 0)", (EPOCH,))
        odd = [received(1, "A"),
               event(2, "exchange.recorded", {"person": "P1", "returned": [None],
                                              "issued": ["A"], "lost": [], "courier": False}),
               event(3, "exchange.recorded", {"person": "P1", "issued": 7, "courier": True}),
               event(4, "conflict.resolved", ["not", "an", "object"])]
        assert push(c, odd) == ("ok", 4, 4, 0)
        assert stored(c) == [(1, "applied"), (2, "quarantined"), (3, "quarantined"),
                             (4, "quarantined")]
    assert check(central, [], replay=True) == []


@pytest.mark.parametrize("type_, payload, odd", [
    ("exchange.recorded", {"person": "P", "issued": ["A"], "returned": [], "lost": []}, False),
    ("exchange.recorded", {"person": "P", "issued": ["A"], "returned": [None]}, True),
    ("exchange.recorded", {"person": "P", "issued": 7}, True),
    ("exchange.recorded", {"issued": ["A"]}, True),
    ("exchange.recorded", {"person": "P", "issued": [{"tag": "A"}]}, True),
    ("exchange.recorded", {"person": "P", "registered": "A"}, True),
    ("courier.collected", {"collected": "A", "issued": ["B"]}, False),
    ("courier.collected", {"collected": "A"}, False),
    ("courier.collected", {"collected": "A", "issued": "B"}, True),
    ("device.received", {"tag": "A", "state": "in_stock", "type": "laptop"}, False),
    ("device.received", {"tag": "A", "state": "in_stock", "type": "phone"}, True),
    ("device.released", {"released": 5}, True),
    ("conflict.resolved", ["not", "an", "object"], True),
    ("operator.added", {"staff_id": "E1"}, False),
])
def test_which_payloads_are_quarantined_as_not_shaped_as_their_type(conn, type_, payload, odd):
    assert conn.execute("SELECT sync_malformed(%s, %s)", (type_, Jsonb(payload))
                        ).fetchone() == (odd,)
