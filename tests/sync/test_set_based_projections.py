"""The set-based projections of a push (c0008, c0016) equal the per-event ones they replace.

Two central databases get the same random streams of events from two stations, pushed in the
same random batches and interleavings: one applies them set-based, each device's references
folded in one query (the default), the other one event at a time (`SET sync.per_event = on`,
the c0004 path). Devices, people, conflicts with their members, each event's status and the
stations' courier counters must come out identical. The streams are drawn over a handful of
devices and people so that double issues, double exchanges, handovers the register
contradicts, unknown devices, courier exchanges over the cap, collections of courier-pending
devices, goods-in of devices central knows (in any state, with a holder or none), streams of
goods-in only, events that name a device twice and batches the set-based path hands back to the
per-event one all happen; devices central holds start in every state, with or without the
events that last touched, issued and took them back.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TAGS = [f"T{k}" for k in range(5)]
KINDS = ["laptop", "laptop", "tablet", "desktop"]
STATES = ["in_stock", "issued", "returned", "courier_pending", "lost", "sanitised",
          "redistributed", "disposed"]
PEOPLE = [f"P{k}" for k in range(4)]
STATIONS = {"S-A": str(uuid.UUID(int=1)), "S-B": str(uuid.UUID(int=2))}
TABLES = ("event, station_stream, person_state, device_state, sync_conflict_member, "
          "sync_conflict, escrow_ledger, ref_change, sync_pending_decision")


@pytest.fixture(scope="module")
def twins(pg_url: str):
    """(set-based connection, per-event connection) to two migrated central databases."""
    import psycopg

    from app.sync.central import upgrade_central
    from tests.pg_plugin import create_database, drop_database, libpq_url

    urls = [create_database(pg_url, prefix="es_twin") for _ in range(2)]
    for url in urls:
        upgrade_central(url)
    conns = [psycopg.connect(libpq_url(url), autocommit=True) for url in urls]
    conns[1].execute("SET sync.per_event = on")
    yield conns
    for conn in conns:
        conn.close()
    for url in urls:
        drop_database(pg_url, urlsplit(url).path.lstrip("/"))


tags = st.sampled_from(TAGS)
few_tags = st.lists(tags, max_size=2, unique=True)


@st.composite
def exchange(draw) -> tuple[str, dict]:
    returned = draw(few_tags)
    issued = draw(st.lists(tags.filter(lambda t: t not in returned), max_size=2, unique=True))
    lost = draw(st.lists(tags.filter(lambda t: t not in returned + issued), max_size=1))
    if draw(st.integers(0, 15)) == 0 and returned:  # a slip: one device named twice
        issued = issued + [returned[0]]
    registered = [returned[0]] if returned and draw(st.integers(0, 12)) == 0 else []
    override = draw(st.integers(0, 5)) == 0
    return "exchange.recorded", {
        "exchange_id": str(uuid.uuid4()), "person": draw(st.sampled_from(PEOPLE)),
        "returned": returned, "issued": issued, "lost": lost, "registered": registered,
        "courier": draw(st.integers(0, 3)) == 0, "awaiting_collection": [],
        "exceptions": [{"rule": "R3", "reason": "stolen", "authorised_by": "L1"}]
        if override else [], "reclamation_tasks": [], "at_confirmed": True, "site": "X"}


def received(draw_tag: str, kind: str) -> tuple[str, dict]:
    return "device.received", {"tag": draw_tag, "serial": f"S-{draw_tag}", "type": kind,
                               "model": "M", "os": "W11", "state": "in_stock", "holder": None,
                               "sole_use": False, "site": None}


@st.composite
def goods_in(draw) -> tuple[str, dict]:
    """New stock as stations record it, and as an older or odd one might: arriving issued or
    awaiting a courier with a holder, at another site, or without serial, model and os."""
    type_, payload = received(draw(tags), draw(st.sampled_from(KINDS)))
    state = draw(st.sampled_from(["in_stock", "in_stock", "issued", "courier_pending"]))
    payload.update(state=state, holder=None if state == "in_stock" else draw(
        st.sampled_from(PEOPLE)), sole_use=draw(st.booleans()),
        site=draw(st.sampled_from([None, "Y"])), serial=draw(st.sampled_from(["A", "B"])))
    if draw(st.integers(0, 9)) == 0:
        for key in ("serial", "model", "os"):
            del payload[key]
    return type_, payload


common = st.one_of(
    exchange(), exchange(), exchange(), goods_in(),
    st.builds(received, tags, st.sampled_from(KINDS)),
    st.builds(lambda t, i: ("courier.collected", {"collected": t, "issued": i,
                                                  "still_awaited": []}), tags, few_tags),
    st.builds(lambda t: ("desktop.reclaimed", {"tag": t}), tags),
    st.builds(lambda t: ("sanitisation.certified", {"tag": t, "passed": True}), tags),
    st.builds(lambda t, r: ("device.released", {"released": t, "route": r}), tags,
              st.sampled_from(["reuse", "weee"])),
    st.just(("operator.added", {"staff_id": "E9"})),
)
# now and then an event the set-based path hands back to the per-event one
events = st.integers(0, 39).flatmap(
    lambda k: st.just(("escrow.released", {"units": 1})) if k == 0 else common)
# now and then a station whose batches are goods-in only (c0016's shortcut)
stream = st.integers(0, 5).flatmap(
    lambda k: st.lists(goods_in(), max_size=24) if k == 0 else st.lists(events, max_size=24))
maybe_event = st.one_of(st.none(), st.uuids().map(str))
starting_devices = st.dictionaries(
    st.sampled_from(TAGS[:4]),
    st.tuples(st.sampled_from(KINDS), st.sampled_from(STATES), st.sampled_from(PEOPLE),
              st.tuples(maybe_event, maybe_event, maybe_event)),
    max_size=4)


def wire(station: str, seq: int, type_: str, payload: dict, schema_v: int = 1) -> dict:
    text = json.dumps(payload, sort_keys=True)
    return {"seq": seq, "event_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{station}/{seq}")),
            "type": type_, "schema_v": schema_v, "payload": payload,
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "operator": "E1",
            "occurred_at": "2026-11-25T10:00:00+00:00"}


def reset(conn, devices: dict, grant: int) -> None:  # noqa: ANN001
    conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    conn.execute("UPDATE escrow_pool SET balance = 0")
    for person in PEOPLE:
        conn.execute("INSERT INTO person_state (staff_id, name, site) VALUES (%s, %s, 'X')",
                     (person, f"Person {person}"))
    for tag, (kind, state, holder, (last, issue, back)) in devices.items():
        conn.execute("INSERT INTO device_state (asset_tag, serial, type, state, holder, "
                     "version, last_event_id, issue_event_id, return_event_id) "
                     "VALUES (%s, %s, %s, %s, %s, 3, %s, %s, %s)",
                     (tag, f"S-{tag}", kind, state,
                      holder if state in ("issued", "courier_pending") else None,
                      last, issue, back))
    for station, epoch in STATIONS.items():
        conn.execute("SELECT sync_handshake(%s, %s, 'X', 0)", (station, epoch))
        if grant:
            conn.execute("INSERT INTO escrow_ledger (event_id, account, kind, delta) "
                         "VALUES (gen_random_uuid(), %s, 'grant', %s)", (station, grant))


def push(conn, station: str, batch: list[dict]) -> tuple:  # noqa: ANN001
    with conn.transaction():
        return conn.execute("SELECT * FROM sync_push_batch(%s, %s, %s::jsonb)",
                            (station, STATIONS[station], json.dumps(batch))).fetchone()


def state(conn) -> dict:  # noqa: ANN001
    def rows(sql: str) -> list:
        return [tuple(r) for r in conn.execute(sql).fetchall()]

    return {
        "devices": rows("SELECT asset_tag, serial, type, model, os, state, holder, sole_use, "
                        "site, version, disputed, last_event_id, issue_event_id, "
                        "return_event_id FROM device_state ORDER BY asset_tag"),
        "people": rows("SELECT staff_id, version, disputed, last_event_id FROM person_state "
                       "ORDER BY staff_id"),
        "conflicts": sorted(rows(
            "SELECT c.kind, c.subject, c.status, array_agg(m.event_id::text ORDER BY "
            "m.event_id::text) FROM sync_conflict c JOIN sync_conflict_member m "
            "ON m.conflict_id = c.id GROUP BY c.id")),
        "events": rows("SELECT station_id, seq, status FROM event ORDER BY station_id, seq"),
        "streams": rows("SELECT station_id, hwm, counter_laptops, courier_laptops, "
                        "released_units FROM station_stream ORDER BY station_id"),
        "pool": rows("SELECT balance FROM escrow_pool"),
        "changed": rows("SELECT DISTINCT tbl, pk FROM ref_change ORDER BY tbl, pk"),
    }


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(devices=starting_devices, grant=st.sampled_from([0, 0, 3]),
       streams=st.tuples(stream, stream),
       quarantine=st.sets(st.integers(1, 24), max_size=2),
       steps=st.lists(st.tuples(st.sampled_from(list(STATIONS)), st.integers(1, 12)),
                      min_size=1, max_size=12))
def test_set_based_push_projects_exactly_what_the_per_event_path_does(
        twins, devices, grant, streams, quarantine, steps):
    feeds = {station: [wire(station, k + 1, type_, payload,
                            2 if k + 1 in quarantine else 1)
                       for k, (type_, payload) in enumerate(stream)]
             for station, stream in zip(STATIONS, streams)}
    for conn in twins:
        reset(conn, devices, grant)
    # the same batches in the same order to both; then whatever is left, station by station
    plan = steps + [(station, 24) for station in STATIONS]
    sent = dict.fromkeys(STATIONS, 0)
    for station, size in plan:
        batch = feeds[station][sent[station]:sent[station] + size]
        if not batch:
            continue
        answers = [push(conn, station, batch) for conn in twins]
        assert answers[0] == answers[1], f"{station} batch {batch}"
        assert answers[0][0] == "ok"
        sent[station] += len(batch)
    fast, reference = (state(conn) for conn in twins)
    for key in reference:
        assert fast[key] == reference[key], key


def test_a_day_of_counter_events_takes_the_set_based_path(twins):
    """The shapes a counter writes every day (goods-in, exchanges, collections, certificates,
    releases) are applied set-based, not handed back to the per-event path."""
    conn = twins[0]
    reset(conn, {}, 0)
    seen: list[str] = []
    conn.add_notice_handler(lambda diag: seen.append(diag.message_primary or ""))
    conn.execute("SET client_min_messages = debug1")
    try:
        batch = [wire("S-A", 1, *received("T1", "laptop")),
                 wire("S-A", 2, *received("T2", "laptop")),
                 wire("S-A", 3, "exchange.recorded", {
                     "person": "P1", "returned": [], "issued": ["T1"], "lost": [],
                     "registered": [], "courier": False, "exceptions": []}),
                 wire("S-A", 4, "sanitisation.certified", {"tag": "T1"}),
                 wire("S-A", 5, "device.released", {"released": "T1", "route": "reuse"})]
        assert push(conn, "S-A", batch) == ("ok", 5, 5, 0)
    finally:
        conn.execute("RESET client_min_messages")
    assert any(m.startswith("set-based: 5 events, 5 device references") for m in seen), seen
    assert conn.execute("SELECT state, holder FROM device_state WHERE asset_tag = 'T1'"
                        ).fetchone() == ("redistributed", None)


def test_a_run_of_goods_in_only_stores_what_the_per_event_path_does(twins):
    """New stock arriving (c0016's shortcut for a run of goods-in only): each new device is
    inserted once, the first goods-in of a tag wins, a device central knows is left alone."""
    batch = [wire("S-A", 1, *received("T1", "laptop")),
             wire("S-A", 2, *received("T2", "tablet")),
             wire("S-A", 3, "device.received", {**received("T1", "desktop")[1], "serial": "X"}),
             wire("S-A", 4, *received("T3", "desktop"))]
    for conn in twins:
        reset(conn, {"T3": ("laptop", "issued", "P1", (None, None, None))}, 0)
        assert push(conn, "S-A", batch) == ("ok", 4, 4, 0)
    fast, reference = (state(conn) for conn in twins)
    assert fast == reference
    assert [row[:4] + row[5:7] for row in fast["devices"]] == [
        ("T1", "S-T1", "laptop", "M", "in_stock", None),
        ("T2", "S-T2", "tablet", "M", "in_stock", None),
        ("T3", "S-T3", "laptop", "", "issued", "P1")]


# -- cases a random stream reaches rarely, each pushed to both paths --------------------------

def _id(n: int) -> str:
    return str(uuid.UUID(int=1000 + n))


def _ex(person: str, returned=(), issued=(), lost=(), courier=False, override=False):
    return "exchange.recorded", {
        "person": person, "returned": list(returned), "issued": list(issued),
        "lost": list(lost), "registered": [], "courier": courier,
        "exceptions": [{"rule": "R3"}] if override else []}


def _in(tag: str, kind: str = "laptop", state: str = "in_stock", holder: str | None = None):
    type_, payload = received(tag, kind)
    return type_, {**payload, "state": state, "holder": holder}


def _collected(tag: str, issued=()):
    return "courier.collected", {"collected": tag, "issued": list(issued)}


KNOWN = {"T1": ("laptop", "in_stock", None, (_id(1), None, None)),
         "T2": ("laptop", "issued", "P1", (_id(2), _id(3), _id(4))),
         "T3": ("tablet", "courier_pending", "P2", (_id(5), _id(6), None)),
         "T4": ("laptop", "returned", None, (_id(7), _id(8), _id(9)))}
CASES = {
    "an exchange naming T1 twice": (KNOWN, [_ex("P1", returned=["T2"], issued=["T1", "T1"])]),
    "an unknown device issued, received, issued again": (
        {}, [_ex("P1", issued=["N1"]), _in("N1"), _ex("P1", issued=["N1"])]),
    "goods-in of a device central knows, then two issues": (
        KNOWN, [_in("T1", "desktop"), _ex("P3", issued=["T1"]), _ex("P0", issued=["T1"])]),
    "a courier issue, its collection, hand-backs": (
        KNOWN, [_ex("P1", issued=["T1"], courier=True), _collected("T4", ["T1", "T3"]),
                _ex("P1", returned=["T1"]), _ex("P2", returned=["T3"])]),
    "a collection naming its own device as issued": (KNOWN, [_collected("T3", ["T3"])]),
    "a collection releasing unknown and not-pending devices": (
        KNOWN, [_collected("T1", ["N9", "T2"])]),
    "goods-in arriving issued, a mismatch, a double exchange": (
        {}, [_in("N1", "laptop", "issued", "P1"), _ex("P2", returned=["N1"]),
             _ex("P1", returned=["N1"]), _ex("P1", returned=["N1"])]),
    "an override hand-back, then a double issue": (
        KNOWN, [_ex("P3", returned=["T2"], override=True), _ex("P0", issued=["T2"]),
                _ex("P1", issued=["T2"])]),
    "courier laptops past the balance": (
        KNOWN, [_in("N1"), _in("N2"), _ex("P1", issued=["N1", "N2"], courier=True),
                _ex("P2", issued=["T1"])]),
    "a whole life in one batch, a loss": (
        KNOWN, [_in("N1"), _ex("P1", issued=["N1"]), ("sanitisation.certified", {"tag": "N1"}),
                ("device.released", {"released": "N1", "route": "reuse"}),
                _ex("P1", returned=["T2"], lost=["T4"])]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_cases_the_random_streams_reach_rarely_project_alike(twins, name):
    devices, stream = CASES[name]
    batch = [wire("S-A", k + 1, type_, payload) for k, (type_, payload) in enumerate(stream)]
    answers = []
    for conn in twins:
        reset(conn, devices, 0)
        answers.append(push(conn, "S-A", batch))
    assert answers[0] == answers[1]
    fast, reference = (state(conn) for conn in twins)
    assert fast == reference
