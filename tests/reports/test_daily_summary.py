"""The daily swap summary: every figure of a built day, in the PDF's text and in the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from app.cli import main
from app.domain.rules import BadInput, RoleRefused
from app.reports.daily import to_csv, to_html
from app.services import auth, demo, reports, sanitisation, stock
from app.services.exchanges import ExchangeCommand, OverrideRequest, collect, record_exchange
from tests.conftest import PINS, SITE

TODAY = date.today().isoformat()


def test_every_figure_of_the_day_is_counted(day):
    station, lead = day
    s = reports.daily_summary(station.context, lead, SITE, TODAY)
    assert (s.counter_exchanges, s.courier_exchanges, s.exchanges) == (6, 1, 7)
    assert s.issued == {"laptop": 6, "tablet": 1}
    assert s.returned == {"laptop": 5, "tablet": 1} and s.lost == {"laptop": 1}
    assert s.received_into_stock == 41  # 40 imported with the demo stock, 1 goods-in
    assert (s.courier_laptops, s.laptops_issued) == (1, 6)
    assert [(e["rule"], e["reason"], e["authorised_by"]) for e in s.exceptions] == [
        ("R1", "laptop stolen, crime ref 42/77", "L1")]
    assert s.overrides == 1
    # P1004 and P1008 each had a sole-use desktop; P1004's was reclaimed the same day
    assert (s.reclamations_raised, s.reclamations_closed, s.reclamations_open) == (2, 1, 1)
    assert s.desktops_reclaimed == 1
    assert s.awaiting_sanitisation == 5  # 5 swapped back + the desktop - the one released
    assert s.released == {"weee": 1}
    assert [(c["person"], c["tag"]) for c in s.open_collections] == [("P1003", "OLD-00003")]
    assert s.unsynced_events > 0 and not s.quiet
    assert {o["staff_id"] for o in s.operators} == {"A1", "E1", "L1"}


def test_the_pdf_and_the_csv_carry_the_same_figures(day, tmp_path, monkeypatch, capsys):
    station, _lead = day
    monkeypatch.setenv("EXCHANGE_PIN", PINS["L1"])
    pdf, sheet = tmp_path / "daily.pdf", tmp_path / "daily.csv"
    assert main(["--data-dir", str(station.config.data_dir), "--operator", "L1", "report",
                 "daily", "--site", SITE, "--date", TODAY, "--out", str(pdf),
                 "--csv", str(sheet)]) == 0
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    for expected in (f"Daily swap summary: {SITE}", TODAY, "Exchanges completed 7",
                     "Received into stock 41", "16.7% (1 of 6)", "2 / 1 / 1",
                     "laptop stolen, crime ref 42/77", "Lee Lead (L1)", "OLD-00003", "0 / 1"):
        assert expected in text, expected
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    figures = {(r["section"], r["figure"]): r["value"] for r in rows}
    assert figures[("Exchanges", "completed (all)")] == "7"
    assert figures[("Courier", "courier share %")] == "16.7"
    assert figures[("Sanitisation", "released to WEEE")] == "1"
    assert any(r["section"] == "Exception" and "laptop stolen" in r["value"] for r in rows)


def test_an_empty_day_gives_a_no_activity_summary(day, tmp_path):
    station, lead = day
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    s = reports.daily_summary(station.context, lead, SITE, yesterday)
    assert s.quiet and s.exchanges == 0 and s.exceptions == ()
    assert "No activity" in to_html(s)
    assert "completed (all),0" in to_csv(s)


@pytest.mark.parametrize("site,when,message", [
    ("Nowhere", TODAY, "unknown site 'Nowhere'"),
    (SITE, "2026-02-30", "not a date"),
    (SITE, (date.today() + timedelta(days=2)).isoformat(), "in the future"),
])
def test_a_site_or_date_that_does_not_exist_gets_a_clear_message(day, site, when, message):
    station, lead = day
    with pytest.raises(BadInput, match=message):
        reports.daily_summary(station.context, lead, site, when)


def test_only_a_site_lead_prints_the_summary(day):
    station, _lead = day
    with pytest.raises(RoleRefused):
        reports.daily_summary(station.context, auth.sign_in(station.context, "E1", PINS["E1"]),
                              SITE, TODAY)


def test_courier_collection_is_counted_on_the_day(day):
    station, lead = day
    collect(station.context, auth.sign_in(station.context, "E1", PINS["E1"]), "OLD-00003")
    s = reports.daily_summary(station.context, lead, SITE, TODAY)
    assert s.courier_collected == 1 and s.open_collections == ()
    assert list(csv.reader(io.StringIO(to_csv(s))))[0] == ["site", "date", "section", "figure",
                                                           "value"]
