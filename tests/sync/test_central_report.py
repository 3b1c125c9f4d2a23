"""The daily swap summary from central: one site, or the whole programme."""

from __future__ import annotations

from datetime import date

import pytest

from app.cli import main
from app.domain.rules import BadInput
from app.services.demo import load_demo
from app.services.exchanges import ExchangeCommand, OverrideRequest, record_exchange
from app.sync.central_reports import PROGRAMME, programme_daily_summary
from app.sync.runner import SyncRunner
from tests.conftest import PINS
from tests.sync.conftest import SITE_A, SITE_B, sign_in, swap

TODAY = date.today().isoformat()


@pytest.fixture
def two_sites(central, make_station):
    a, b = make_station("HQ-01", SITE_A), make_station("CH-01", SITE_B)
    load_demo(a.context, sign_in(a), SITE_A)
    load_demo(b.context, sign_in(b), SITE_B)  # the same demo tags: only one site's reach central
    swap(a, 1)
    swap(a, 2)
    record_exchange(a.context, sign_in(a, "E1"), ExchangeCommand(
        "P1008", (), ("NEW-00008",), override=OverrideRequest("stolen, ref 9/26", "L1",
                                                             PINS["L1"])))
    swap(a, 3, courier=False)
    for st in (a, b):
        assert SyncRunner(st.engine).run_once(central).ok
    return central


def test_one_site_from_central_matches_what_its_station_recorded(two_sites):
    s = programme_daily_summary(two_sites, TODAY, SITE_A)
    assert (s.site, s.counter_exchanges, s.courier_exchanges) == (SITE_A, 4, 0)
    assert s.issued == {"laptop": 4} and s.returned == {"laptop": 3} and s.lost == {"laptop": 1}
    assert [(e["rule"], e["reason"], e["authorised_by"]) for e in s.exceptions] == [
        ("R1", "stolen, ref 9/26", "L1")]
    assert s.received_into_stock == 40
    assert {o["staff_id"] for o in s.operators} >= {"A1", "E1"}


def test_the_whole_programme_and_an_unknown_site(two_sites):
    s = programme_daily_summary(two_sites, TODAY)
    assert s.site == PROGRAMME and s.exchanges == 4
    with pytest.raises(BadInput, match="unknown site 'Nowhere'"):
        programme_daily_summary(two_sites, TODAY, "Nowhere")


def test_report_daily_central_writes_the_programme_csv(two_sites, make_station, tmp_path,
                                                       monkeypatch, capsys):
    from app.sync.central import libpq_url

    lead_station = make_station("REPORTS")
    monkeypatch.setenv("EXCHANGE_PIN", PINS["L1"])
    out = tmp_path / "programme.csv"
    assert main(["--data-dir", str(lead_station.config.data_dir), "--operator", "L1", "report",
                 "daily", "--central", libpq_url(two_sites), "--date", TODAY,
                 "--csv", str(out)]) == 0
    assert f"{PROGRAMME},{TODAY},Exchanges,completed (all),4" in out.read_text()


def test_the_programme_dashboard_from_central(two_sites, make_station, tmp_path, monkeypatch):
    from pypdf import PdfReader

    from app.sync.central import libpq_url
    from app.sync.central_reports import programme_dashboard

    d = programme_dashboard(two_sites)
    # HQ-01 handed back 3 laptops and wrote one off; the demo register has 51 devices
    assert d.total(d.refreshed) == 4 and d.total(d.refreshed, "laptop", SITE_A) == 4
    assert d.total(d.register) == 51 and d.exceptions_by_site == {SITE_A: 1}
    assert d.by_day == ((TODAY, 4),) and len(d.backlog_returned_at) == 3
    monkeypatch.setenv("EXCHANGE_PIN", PINS["L1"])
    out = tmp_path / "programme.pdf"
    assert main(["--data-dir", str(make_station("REPORTS").config.data_dir), "--operator", "L1",
                 "report", "dashboard", "--central", libpq_url(two_sites), "--out",
                 str(out)]) == 0
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "the whole programme (central database)" in text and "4 of 51 register devices" in text
