"""R5 across stations: allowance released by one station, granted from central's pool to
another, and the 25% cap holding at every point central has seen."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.orm import Session

from app.domain.rules import BadInput, RuleRefused
from app.persistence.models import StationRow
from app.services.demo import load_demo
from app.sync.escrow import grant_units, pool_balance, release_units
from app.sync.runner import SyncRunner
from tests.sync.conftest import SITE_A, sign_in, swap


def sync(central: str, *stations) -> None:
    for st in stations:
        report = SyncRunner(st.engine).run_once(central)
        assert report.ok, report.error


def granted(st) -> int:
    with Session(st.engine) as s:
        return s.query(StationRow).one().granted_units


def test_units_released_by_one_station_let_another_courier_and_the_cap_holds(
        central, make_station):
    a, b = make_station("HQ-01"), make_station("HQ-02")
    load_demo(a.context, sign_in(a), SITE_A)
    sync(central, a, b)
    for n in (1, 2, 4, 5, 6, 8):  # six counter laptops: 6 units at HQ-01
        swap(a, n)
    with pytest.raises(BadInput):
        release_units(a.context, sign_in(a, "L1"), 7)
    assert release_units(a.context, sign_in(a, "L1"), 3)["balance"] == 3
    with pytest.raises(RuleRefused, match="R5"):
        swap(b, 3, new=10, courier=True)  # HQ-02 has no allowance of its own
    sync(central, a)
    assert pool_balance(central) == 3
    with pytest.raises(BadInput, match="pool"):
        grant_units(central, "HQ-02", 4, "A1")
    assert grant_units(central, "HQ-02", 3, "A1") == 0
    with pytest.raises(RuleRefused, match="R5"):
        swap(b, 3, new=10, courier=True)  # not spendable before it is pulled
    sync(central, b)
    assert granted(b) == 3
    swap(b, 3, new=10, courier=True)
    sync(central, b)
    with psycopg.connect(central.replace("+psycopg", "")) as conn:
        counter, courier = conn.execute("SELECT sum(counter_laptops), sum(courier_laptops) "
                                        "FROM station_stream").fetchone()
        overruns = conn.execute("SELECT count(*) FROM sync_conflict "
                                "WHERE kind = 'COURIER_OVERRUN'").fetchone()[0]
    assert (counter, courier, overruns) == (6, 1, 0)
    assert 4 * courier <= counter + courier


def test_a_station_that_couriers_past_its_balance_opens_a_courier_overrun(central,
                                                                           make_station):
    a = make_station("HQ-01")
    load_demo(a.context, sign_in(a), SITE_A)
    sync(central, a)
    with psycopg.connect(central.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("UPDATE escrow_pool SET balance = 3")
    grant_units(central, "HQ-01", 3, "A1")
    sync(central, a)
    swap(a, 3, new=10, courier=True)
    with psycopg.connect(central.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DELETE FROM escrow_ledger")  # central forgets the grant
    sync(central, a)
    with psycopg.connect(central.replace("+psycopg", "")) as conn:
        kinds = conn.execute("SELECT kind, subject FROM sync_conflict").fetchall()
    assert kinds == [("COURIER_OVERRUN", "station:HQ-01")]
