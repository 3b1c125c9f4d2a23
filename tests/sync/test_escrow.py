"""R5 across stations: allowance released by one station, granted from central's pool to
another, and the 25% cap holding at every point central has seen. Then the `escrow` commands
through the real command line: status, release, pool, grant and rebalance (dry run and real)."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.rules import RuleRefused
from app.persistence.models import EventRow, StationRow
from app.services.demo import load_demo
from app.sync.escrow import grant_units, pool_balance, release_units
from app.sync.runner import SyncRunner
from tests.conftest import PINS
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
    with pytest.raises(RuleRefused, match="R5: this station holds 6 escrow units"):
        release_units(a.context, sign_in(a, "L1"), 7)
    assert release_units(a.context, sign_in(a, "L1"), 3)["balance"] == 3
    with pytest.raises(RuleRefused, match="R5"):
        swap(b, 3, new=10, courier=True)  # HQ-02 has no allowance of its own
    sync(central, a)
    assert pool_balance(central) == 3
    with pytest.raises(RuleRefused, match="R5: the pool holds 3 units"):
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


# -- the `escrow` commands, through the real command line --------------------------------------

def cli(capsys, monkeypatch, st, operator: str | None, *argv: str) -> tuple[int, dict]:
    """`exchange-station --json --data-dir <st> [--operator X] ARGV...` with X's PIN."""
    from app.cli import main

    if operator:
        monkeypatch.setenv("EXCHANGE_PIN", PINS[operator])
    code = main(["--json", "--data-dir", str(st.config.data_dir)]
                + (["--operator", operator] if operator else []) + list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)


def central_rows(central: str, sql: str) -> list[tuple]:
    with psycopg.connect(central.replace("+psycopg", "")) as conn:
        return conn.execute(sql).fetchall()


def escrow_events(st) -> list[dict]:
    with Session(st.engine) as s:
        return [json.loads(p) if isinstance(p, str) else p for p in s.scalars(
            select(EventRow.payload).where(EventRow.type == "escrow.released"))]


def granted_released(st) -> tuple[int, int]:
    with Session(st.engine) as s:
        row = s.query(StationRow).one()
        return row.granted_units, row.released_units


def test_release_shows_in_central_pool_and_a_pulled_grant_lets_another_station_courier(
        central, make_station, capsys, monkeypatch):
    a, b = make_station("HQ-01"), make_station("HQ-02")
    load_demo(a.context, sign_in(a), SITE_A)
    sync(central, a, b)
    for n in (1, 2, 4, 5, 6, 8):  # six counter laptops at HQ-01: 6 units
        swap(a, n)
    code, status = cli(capsys, monkeypatch, a, None, "escrow", "status")
    assert code == 0 and status | {"last_sync": None} == {
        "station": "HQ-01", "site": SITE_A, "balance": 6, "counter_laptops": 6,
        "courier_laptops": 0, "granted": 0, "released": 0, "courier_laptops_allowed": 2,
        "counter_laptops_before_next_courier": 0, "last_sync": None}

    # more than it holds: refused by R5, nothing recorded; an engineer may not release
    code, out = cli(capsys, monkeypatch, a, "L1", "escrow", "release", "7")
    assert code == 3 and out["error"]["code"] == "R5" and "holds 6" in out["error"]["message"]
    code, out = cli(capsys, monkeypatch, a, "E1", "escrow", "release", "3")
    assert code == 3 and out["error"]["code"] == "role"
    assert escrow_events(a) == [] and granted_released(a) == (0, 0)

    code, out = cli(capsys, monkeypatch, a, "L1", "escrow", "release", "3")
    assert code == 0 and out["released"] == 3 and out["balance"] == 3
    assert out["courier_laptops_allowed"] == 1
    assert escrow_events(a) == [{"units": 3}] and granted_released(a) == (0, 3)
    assert cli(capsys, monkeypatch, a, None, "escrow", "status")[1]["balance"] == 3

    # the release reaches the pool with the sync, and not before
    code, pool = cli(capsys, monkeypatch, a, "L1", "escrow", "pool", "--central", central)
    assert code == 0 and pool["pool"] == 0
    assert cli(capsys, monkeypatch, a, None, "sync", "--central", central)[0] == 0
    code, pool = cli(capsys, monkeypatch, a, "L1", "escrow", "pool", "--central", central)
    assert code == 0 and pool["pool"] == 3
    rows = {r["station"]: r for r in pool["stations"]}
    assert {k: rows["HQ-01"][k] for k in ("counter_laptops", "courier_laptops", "granted",
                                          "released", "balance")} == {
        "counter_laptops": 6, "courier_laptops": 0, "granted": 0, "released": 3, "balance": 3}
    assert rows["HQ-02"]["balance"] == 0
    assert pool["pool_agrees_with_ledger"] and pool["cap_holds"]
    assert central_rows(central, "SELECT account, kind, delta FROM escrow_ledger") == [
        ("HQ-01", "release", -3)]

    # the admin grants the pool to HQ-02; it may courier only once it has pulled the grant
    code, out = cli(capsys, monkeypatch, a, "L1", "escrow", "grant", "HQ-02", "3",
                    "--central", central)
    assert code == 3 and out["error"]["code"] == "role"  # a site lead may not grant
    code, out = cli(capsys, monkeypatch, a, "A1", "escrow", "grant", "HQ-02", "3",
                    "--central", central)
    assert code == 0 and out == {"station": "HQ-02", "granted": 3, "pool": 0}
    assert central_rows(central, "SELECT account, kind, delta, recorded_by FROM escrow_ledger "
                        "WHERE kind = 'grant'") == [("HQ-02", "grant", 3, "A1")]
    assert cli(capsys, monkeypatch, b, None, "escrow", "status")[1]["granted"] == 0
    with pytest.raises(RuleRefused, match="R5"):
        swap(b, 3, new=10, courier=True)
    assert cli(capsys, monkeypatch, b, None, "sync", "--central", central)[0] == 0
    code, status = cli(capsys, monkeypatch, b, None, "escrow", "status")
    assert (status["granted"], status["balance"], status["courier_laptops_allowed"]) == (3, 3, 1)
    swap(b, 3, new=10, courier=True)
    assert cli(capsys, monkeypatch, b, None, "sync", "--central", central)[0] == 0
    code, pool = cli(capsys, monkeypatch, a, "L1", "escrow", "pool", "--central", central)
    rows = {r["station"]: r for r in pool["stations"]}
    assert (rows["HQ-02"]["courier_laptops"], rows["HQ-02"]["granted"],
            rows["HQ-02"]["balance"]) == (1, 3, 0)
    assert pool["pool"] == 0 and pool["totals"]["balances"] == 3
    assert pool["pool_agrees_with_ledger"] and pool["cap_holds"]


def test_a_grant_the_pool_cannot_cover_is_refused_and_nothing_is_written(
        central, make_station, capsys, monkeypatch):
    a = make_station("HQ-01")
    load_demo(a.context, sign_in(a), SITE_A)
    for n in (1, 2, 4):
        swap(a, n)
    release_units(a.context, sign_in(a, "L1"), 3)
    sync(central, a)
    before = central_rows(central, "SELECT (SELECT balance FROM escrow_pool), "
                          "(SELECT count(*) FROM escrow_ledger), (SELECT count(*) FROM ref_change)")
    assert before[0][:2] == (3, 1)
    code, out = cli(capsys, monkeypatch, a, "A1", "escrow", "grant", "HQ-01", "4",
                    "--central", central)
    assert code == 3 and out["error"]["code"] == "R5"
    assert "pool holds 3 units, fewer than the 4" in out["error"]["message"]
    assert "nothing was granted" in out["error"]["message"]
    code, out = cli(capsys, monkeypatch, a, "A1", "escrow", "grant", "HQ-99", "1",
                    "--central", central)  # a typo would strand units for good
    assert code == 4 and out["error"]["code"] == "input" and "HQ-99" in out["error"]["message"]
    code, out = cli(capsys, monkeypatch, a, "A1", "escrow", "grant", "HQ-01", "0",
                    "--central", central)
    assert code == 2 and out["error"]["code"] == "usage"
    assert central_rows(central, "SELECT (SELECT balance FROM escrow_pool), "
                        "(SELECT count(*) FROM escrow_ledger), "
                        "(SELECT count(*) FROM ref_change)") == before

    # the same refusal as a person sees it: exit 3, the rule named on stderr
    monkeypatch.setenv("EXCHANGE_PIN", PINS["A1"])
    from app.cli import main

    assert main(["--data-dir", str(a.config.data_dir), "--operator", "A1", "escrow", "grant",
                 "HQ-01", "4", "--central", central]) == 3
    err = capsys.readouterr().err
    assert "R5: the pool holds 3 units, fewer than the 4 asked for" in err


def test_rebalance_tops_up_stations_with_courier_demand_fairly_and_lists_the_excess(
        central, make_station, capsys, monkeypatch):
    a, b, c = make_station("HQ-01"), make_station("HQ-02"), make_station("HQ-03")
    load_demo(a.context, sign_in(a), SITE_A)
    sync(central, a, b, c)
    for n in (1, 2, 4, 5):
        swap(a, n)
    swap(a, 3, courier=True)                   # HQ-01: B = 4 - 3 = 1, one courier laptop
    for n in (6, 8, 9, 10, 11, 12):
        swap(b, n)                             # HQ-02: B = 6, no courier demand
    release_units(b.context, sign_in(b, "L1"), 2)  # B = 4; the pool gets 2 units
    for n in (15, 16, 17):
        swap(c, n)
    swap(c, 13, courier=True)                  # HQ-03: B = 3 - 3 = 0, one courier laptop
    sync(central, a, b, c)
    ledger = "SELECT account, kind, delta, recorded_by FROM escrow_ledger ORDER BY id"

    # the plan: HQ-03 goes first (equal demand, lower balance) but needs 3 and the pool
    # holds 2; a step is never granted in part, so HQ-01 gets the 2 it needs
    code, plan = cli(capsys, monkeypatch, a, "L1", "escrow", "rebalance", "--central", central,
                     "--high", "3", "--dry-run")
    assert code == 0 and plan["dry_run"]
    assert (plan["pool_before"], plan["pool_after"], plan["pool"]) == (2, 0, 2)
    assert plan["grants"] == [{"station": "HQ-01", "units": 2, "balance_before": 1,
                               "balance_after": 3, "courier_demand": 1}]
    assert plan["short"] and plan["waiting"] == [{"station": "HQ-03", "balance": 0,
                                                   "short_by": 3, "next_step": 3,
                                                   "courier_demand": 1}]
    assert plan["should_release"] == [{"station": "HQ-02", "balance": 4, "excess": 1}]
    assert central_rows(central, ledger) == [("HQ-02", "release", -2, "L1")]  # nothing written

    code, out = cli(capsys, monkeypatch, a, "L1", "escrow", "rebalance", "--central", central)
    assert code == 3 and out["error"]["code"] == "role"  # granting is the admin's
    code, out = cli(capsys, monkeypatch, a, "A1", "escrow", "rebalance", "--central", central,
                    "--low", "2")
    assert code == 2 and out["error"]["code"] == "usage"

    code, done = cli(capsys, monkeypatch, a, "A1", "escrow", "rebalance", "--central", central,
                     "--high", "3")
    assert code == 0 and not done["dry_run"]
    assert {k: done[k] for k in ("grants", "waiting", "should_release")} == {
        k: plan[k] for k in ("grants", "waiting", "should_release")}
    assert done["pool"] == 0
    assert central_rows(central, ledger) == [("HQ-02", "release", -2, "L1"),
                                             ("HQ-01", "grant", 2, "A1 (rebalance)")]
    # run again: settled, nothing more to grant; the station above the mark is still listed
    code, again = cli(capsys, monkeypatch, a, "A1", "escrow", "rebalance", "--central", central,
                      "--high", "3")
    assert code == 0 and again["grants"] == [] and again["pool"] == 0
    assert [w["station"] for w in again["waiting"]] == ["HQ-03"]
    assert len(central_rows(central, ledger)) == 2
    # central took nothing from HQ-02: only HQ-02 can release, and it does
    code, out = cli(capsys, monkeypatch, b, "L1", "escrow", "release", "1")
    assert code == 0 and out["balance"] == 3

    # HQ-01 pulls its grant and couriers again; central sees the cap hold
    sync(central, a, b)
    assert cli(capsys, monkeypatch, a, None, "escrow", "status")[1]["balance"] == 3
    swap(a, 23, courier=True)
    sync(central, a)
    code, pool = cli(capsys, monkeypatch, a, "L1", "escrow", "pool", "--central", central)
    rows = {r["station"]: r for r in pool["stations"]}
    assert [(s, rows[s]["balance"]) for s in sorted(rows)] == [
        ("HQ-01", 0), ("HQ-02", 3), ("HQ-03", 0)]
    assert pool["pool"] == 1 and pool["pool_agrees_with_ledger"] and pool["cap_holds"]
    code, plan = cli(capsys, monkeypatch, a, "L1", "escrow", "rebalance", "--central", central,
                     "--dry-run")
    assert [(g["station"], g["courier_demand"]) for g in plan["grants"]] == []
    assert [(w["station"], w["courier_demand"]) for w in plan["waiting"]] == [
        ("HQ-01", 2), ("HQ-03", 1)]  # the busiest first

    # demand is what central received lately: HQ-03's courier laptop, 20 days ago, is not
    with psycopg.connect(central.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("UPDATE event SET received_at = now() - interval '20 days' "
                     "WHERE station_id = 'HQ-03'")
    code, plan = cli(capsys, monkeypatch, a, "L1", "escrow", "rebalance", "--central", central,
                     "--dry-run")
    assert [w["station"] for w in plan["waiting"]] == ["HQ-01"]
    code, plan = cli(capsys, monkeypatch, a, "L1", "escrow", "rebalance", "--central", central,
                     "--dry-run", "--days", "30")
    assert [w["station"] for w in plan["waiting"]] == ["HQ-01", "HQ-03"]


def test_rebalance_text_output_says_what_was_granted_and_who_should_release(
        central, make_station, capsys, monkeypatch):
    a = make_station("HQ-01")
    load_demo(a.context, sign_in(a), SITE_A)
    for n in (1, 2, 4, 5, 6, 8):
        swap(a, n)
    sync(central, a)
    monkeypatch.setenv("EXCHANGE_PIN", PINS["L1"])
    from app.cli import main

    assert main(["--data-dir", str(a.config.data_dir), "--operator", "L1", "escrow",
                 "rebalance", "--central", central, "--high", "4", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "dry run: pool 0 units; would grant 0, leaving 0",
        "  should release: HQ-01 holds 6, 2 above the high mark (only the station can "
        "release: `escrow release 2` there)"]
    assert main(["--data-dir", str(a.config.data_dir), "--operator", "L1", "escrow", "pool",
                 "--central", central]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "pool: 0 units",
        "station               N     C     G     R      B",
        "HQ-01                 6     0     0     0      6"]
