"""Conflicts that cannot be merged: kept as rows with both records, disputed everywhere,
settled by a recorded decision that syncs; the same set whatever the arrival order."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session

from app.domain.rules import RoleRefused
from app.persistence.models import DeviceRow, PersonRow
from app.services.demo import load_demo
from app.sync.central import connect, upgrade_central
from app.sync.conflicts import open_conflicts, resolve_conflict
from app.sync.outbox import StationOutbox
from app.sync.push import push
from app.sync.runner import SyncRunner
from tests.sync.conftest import SITE_A, sign_in, swap


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def device(st, tag: str) -> DeviceRow:
    with Session(st.engine) as s:
        return s.get(DeviceRow, tag)


def person(st, staff_id: str) -> PersonRow:
    with Session(st.engine) as s:
        return s.get(PersonRow, staff_id)


def sync(central: str, *stations) -> None:
    for st in stations:
        report = SyncRunner(st.engine).run_once(central)
        assert report.ok, report.error


@pytest.fixture
def offline_pair(central, make_station):
    """Two stations of one site, both holding the demo register, now offline."""
    a, b = make_station("HQ-01"), make_station("HQ-02")
    load_demo(a.context, sign_in(a), SITE_A)
    sync(central, a, b)
    return a, b


def test_one_device_issued_at_two_offline_stations_is_a_conflict_disputed_on_both(
        central, offline_pair):
    a, b = offline_pair
    swap(a, 1, new=1)
    swap(b, 2, new=1)  # the same new laptop, to someone else
    sync(central, a, b, a)
    [conflict] = open_conflicts(central)
    assert (conflict.kind, conflict.subject) == ("DEVICE_DOUBLE_ISSUE", "device:NEW-00001")
    assert sorted(r.station_id for r in conflict.records) == ["HQ-01", "HQ-02"]
    assert {r.payload["person"] for r in conflict.records} == {"P1001", "P1002"}
    assert device(a, "NEW-00001").disputed and device(b, "NEW-00001").disputed
    with psycopg.connect(libpq(central)) as conn:
        statuses = conn.execute("SELECT station_id, status FROM event "
                                "WHERE type = 'exchange.recorded' ORDER BY station_id")
        assert statuses.fetchall() == [("HQ-01", "applied"), ("HQ-02", "conflict")]


def test_each_record_says_when_its_station_had_last_synced(central, offline_pair,
                                                          make_station):
    """SYNC.md 2.5: the versions each side had seen. HQ-03 was set up offline from the demo
    files and had never synced when it issued the laptop HQ-01 issued too."""
    a, _b = offline_pair
    c = make_station("HQ-03")
    load_demo(c.context, sign_in(c), SITE_A)
    seen = StationOutbox(a.engine).station().last_sync_at
    swap(a, 1, new=1)
    swap(c, 2, new=1)
    sync(central, a, c)
    [conflict] = open_conflicts(central)
    assert {r.station_id: (r.says_when_synced, r.central_seen_at)
            for r in conflict.records} == {"HQ-01": (True, seen), "HQ-03": (True, None)}
    with psycopg.connect(libpq(central)) as conn:  # as the stations sent it
        assert dict(conn.execute("SELECT station_id, expected FROM event "
                                 "WHERE type = 'exchange.recorded'").fetchall()) == {
            "HQ-01": {"central_seen_at": seen}, "HQ-03": {"central_seen_at": None}}


def test_the_same_person_exchanged_at_two_stations_disputes_the_person(central, offline_pair):
    a, b = offline_pair
    swap(a, 3, new=3)
    swap(b, 3, new=4)
    sync(central, a, b, a)
    [conflict] = open_conflicts(central)
    assert (conflict.kind, conflict.subject) == ("PERSON_DOUBLE_EXCHANGE", "person:P1003")
    assert person(a, "P1003").disputed and person(b, "P1003").disputed


def test_a_site_lead_decision_syncs_closes_the_conflict_and_clears_disputed(
        central, offline_pair):
    a, b = offline_pair
    swap(a, 1, new=1)
    swap(b, 2, new=1)
    sync(central, a, b)
    [conflict] = open_conflicts(central)
    with pytest.raises(RoleRefused):
        resolve_conflict(b.context, sign_in(b, "E1"), conflict, "engineer tries", "P1002")
    resolve_conflict(b.context, sign_in(b, "L1"), conflict,
                     "P1002 has the laptop in hand; P1001 gets another", holder="P1002")
    sync(central, b, a)
    assert open_conflicts(central) == []
    [closed] = open_conflicts(central, include_resolved=True)
    assert closed.status == "resolved"
    for st in (a, b):
        row = device(st, "NEW-00001")
        assert (row.holder_staff_id, row.disputed) == ("P1002", False)


def test_conflicts_do_not_depend_on_the_order_stations_arrive(pg_database_factory,
                                                              make_station):
    a, b, c = make_station("HQ-01"), make_station("HQ-02"), make_station("HQ-03")
    first, second = pg_database_factory(), pg_database_factory()
    for url in (first, second):
        upgrade_central(url)
    load_demo(a.context, sign_in(a), SITE_A)
    sync(first, a, b, c)
    swap(a, 1, new=1)
    swap(b, 2, new=1)
    swap(c, 4, new=1)
    swap(b, 5, new=5)
    swap(c, 5, new=6)

    def conflicts(url: str, order) -> set:
        for st in order:
            with connect(url) as conn:
                conn.autocommit = True
                push(StationOutbox(st.engine), conn)
        with psycopg.connect(libpq(url)) as conn:
            rows = conn.execute(
                "SELECT c.kind, c.subject, e.station_id, e.seq FROM sync_conflict c "
                "JOIN sync_conflict_member m ON m.conflict_id = c.id "
                "JOIN event e USING (event_id)").fetchall()
        return {(k, s) for k, s, *_ in rows}, sorted((k, s, st, q) for k, s, st, q in rows)

    sync(second, a)  # the demo data first, as in `first`
    assert conflicts(first, (b, c, a)) == conflicts(second, (c, a, b))


def test_a_handover_the_register_contradicts_is_a_conflict_on_the_device(central,
                                                                          offline_pair):
    a, _b = offline_pair
    with psycopg.connect(libpq(central), autocommit=True) as conn:  # central moved it meanwhile
        conn.execute("UPDATE device_state SET holder = 'P1009' WHERE asset_tag = 'OLD-00001'")
    swap(a, 1, new=1)  # offline, HQ-01 still believes P1001 holds OLD-00001
    sync(central, a)
    [conflict] = open_conflicts(central)
    assert (conflict.kind, conflict.subject) == ("HANDOVER_MISMATCH", "device:OLD-00001")
    assert device(a, "OLD-00001").disputed


def test_a_double_issue_pairs_the_two_issuing_exchanges_even_after_a_return(central,
                                                                            offline_pair):
    from app.services.exchanges import ExchangeCommand, record_exchange

    a, b = offline_pair
    swap(a, 1, new=1)
    sync(central, a)
    record_exchange(a.context, sign_in(a, "L1"), ExchangeCommand(  # NEW-00001 comes back
        "P1001", returned=("NEW-00001",), issued=("NEW-00011",), at_confirmed=True))
    swap(b, 2, new=1)  # offline, HQ-02 issued NEW-00001 too
    sync(central, a, b)
    [conflict] = open_conflicts(central)
    assert conflict.kind == "DEVICE_DOUBLE_ISSUE"
    assert sorted((r.station_id, r.payload["issued"][0]) for r in conflict.records) == [
        ("HQ-01", "NEW-00001"), ("HQ-02", "NEW-00001")]


def test_a_decision_never_leaves_a_device_held_in_stock_or_issued_to_nobody(central,
                                                                           offline_pair):
    from app.domain.rules import BadInput
    from app.sync.checker import check

    a, b = offline_pair
    swap(a, 1, new=1)
    swap(b, 2, new=1)
    sync(central, a, b)
    [conflict] = open_conflicts(central)
    lead = sign_in(b, "L1")
    with pytest.raises(BadInput, match="in stock has no holder"):
        resolve_conflict(b.context, lead, conflict, "back on the shelf", holder="P1002",
                         state="in_stock")
    with pytest.raises(BadInput, match="say which state"):
        resolve_conflict(b.context, lead, conflict, "nobody has it", keep_holder=False)
    done = resolve_conflict(b.context, lead, conflict, "found in the returns cage",
                            state="returned")
    assert done["decision"] == {"state": "returned", "holder": None}
    sync(central, b, a)
    for st in (a, b):
        row = device(st, "NEW-00001")
        assert (row.state, row.holder_staff_id, row.disputed) == ("returned", None, False)
    assert check(central, [Path(a.db_path).parent, Path(b.db_path).parent], drained=True,
                 replay=True) == []
