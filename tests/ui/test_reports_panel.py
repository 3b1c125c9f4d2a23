"""The Reports screen: a site lead prints and saves the daily summary and the dashboard."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from pypdf import PdfReader

from app.domain.people import Operator, Role
from app.ui.reports_panel import ReportsPanel
from tests.ui.conftest import LEAD, exchange_via_service, find


@pytest.fixture
def reports_screen(qtbot, window, station):
    exchange_via_service(station, "P1001", ("OLD-00001",), ("NEW-00001",), at_confirmed=True)
    exchange_via_service(station, "P1002", ("OLD-00002",), ("NEW-00002",), at_confirmed=True)
    window.session.sign_in(Operator(LEAD, "Lee Lead", Role.SITE_LEAD))
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    panel = window.current_panel()
    assert isinstance(panel, ReportsPanel)
    return panel


def pdf_text(path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def test_the_dashboard_shows_refresh_progress_with_a_chart(reports_screen, qtbot):
    qtbot.mouseClick(find(reports_screen, "dashboardRefreshButton"), Qt.MouseButton.LeftButton)
    text = find(reports_screen, "dashboardView").toPlainText()
    assert "2 of 51 register devices refreshed (3.9%)" in text
    assert "Courier share of laptops" in text and "capital budget" in text
    assert "£1,798 of £14,700,000" in text  # two laptops at £899 issued


def test_the_summary_is_saved_as_pdf_and_csv(reports_screen, qtbot, tmp_path, monkeypatch):
    targets = iter([str(tmp_path / "day.pdf"), str(tmp_path / "day.csv")])
    monkeypatch.setattr(ReportsPanel, "choose_save_path", staticmethod(lambda *a: next(targets)))
    qtbot.mouseClick(find(reports_screen, "summaryPdfButton"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(find(reports_screen, "summaryCsvButton"), Qt.MouseButton.LeftButton)
    assert "Exchanges completed 2" in pdf_text(tmp_path / "day.pdf")
    assert f"Hutton HQ,{date.today().isoformat()},Exchanges,completed (all),2" in (
        tmp_path / "day.csv").read_text()
    assert "saved to" in find(reports_screen.window(), "statusBanner").text()


def test_printing_goes_through_the_print_preview(reports_screen, qtbot, tmp_path, monkeypatch):
    from PySide6.QtPrintSupport import QPrinter

    printed = tmp_path / "printed.pdf"

    def preview(document, parent):
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        document.print_(printer)
        return True

    monkeypatch.setattr(ReportsPanel, "show_preview", staticmethod(preview))
    qtbot.mouseClick(find(reports_screen, "summaryPrintButton"), Qt.MouseButton.LeftButton)
    assert "Daily swap summary: Hutton HQ" in pdf_text(printed)
    qtbot.mouseClick(find(reports_screen, "dashboardPrintButton"), Qt.MouseButton.LeftButton)
    assert "Programme dashboard" in pdf_text(printed)


def test_without_a_printer_the_banner_says_what_to_do(reports_screen, qtbot, monkeypatch):
    monkeypatch.setattr(ReportsPanel, "show_preview", staticmethod(lambda *a: False))
    qtbot.mouseClick(find(reports_screen, "summaryPrintButton"), Qt.MouseButton.LeftButton)
    assert "No printer is installed" in find(reports_screen.window(), "statusBanner").text()


def test_an_engineer_is_told_reports_are_for_site_leads(window, qtbot, station):
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    panel = window.current_panel()
    qtbot.mouseClick(find(panel, "summaryPdfButton"), Qt.MouseButton.LeftButton)
    assert "may not report" in find(window, "statusBanner").text()
    assert "for site leads" in find(panel, "dashboardView").toPlainText()
