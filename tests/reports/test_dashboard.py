"""The programme dashboard: progress against the register, limits, backlog and spend."""

from __future__ import annotations

from datetime import date

from pypdf import PdfReader

from app.cli import main
from app.reports.dashboard import to_html
from app.services import reports
from tests.conftest import PINS, SITE


def test_the_dashboard_counts_progress_backlog_and_spend(day):
    station, lead = day
    d = reports.dashboard(station.context, lead)
    # 40 demo people hold 40 old laptops/tablets and 10 sole-use desktops; 1 shared desktop
    assert d.total(d.register) == 51 and d.total(d.register, "desktop") == 11
    # 6 handed back over the counter + 1 lost (R1 override); the courier one is still awaited
    assert d.total(d.refreshed) == 7 and d.total(d.refreshed, "tablet", SITE) == 1
    assert d.cumulative()[-1] == (date.today().isoformat(), 7, 7)
    assert (d.courier_laptops, d.laptops_issued) == (1, 6)
    assert d.backlog_buckets() == {"under 7 days": 5, "7 to 30 days": 0, "over 30 days": 0}
    assert d.reclamations_open == 1 and d.exceptions_by_site == {SITE: 1}
    assert d.spend_pence == 6 * 89900 + 104900  # 6 laptops at £899 and a tablet at £1,049
    assert d.uncosted_stock == 1  # the goods-in laptop came without a unit cost
    html = to_html(d)
    assert "7</b> of <b>51</b> register devices refreshed (13.7%)" in html


def test_the_dashboard_pdf_is_written_by_the_command(day, tmp_path, monkeypatch, capsys):
    station, _lead = day
    monkeypatch.setenv("EXCHANGE_PIN", PINS["L1"])
    out = tmp_path / "dashboard.pdf"
    assert main(["--data-dir", str(station.config.data_dir), "--operator", "L1", "report",
                 "dashboard", "--out", str(out)]) == 0
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "Programme dashboard" in text and "Refreshed over the last 30 days" in text
    assert "£14,700,000 capital budget" in text
