"""Reports: the daily swap summary (print with preview, PDF, CSV) and the programme dashboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (QDateEdit, QFileDialog, QGroupBox, QHBoxLayout, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

from app.domain.people import Permission
from app.reports import daily, dashboard as board
from app.services import reports
from app.ui import printing
from app.ui.charts import refresh_chart
from app.ui.feedback import Outcome, Tone
from app.ui.panel import Panel, buddy_label, named
from app.ui.session import CounterSession


class ReportsPanel(Panel):
    title = "Reports"
    hint = "pick a date and print the daily swap summary (Alt+P), or save it as PDF or CSV"

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.date_field = named(QDateEdit(QDate.currentDate(), self), "Summary date",
                                "The day the daily swap summary covers", "summaryDate")
        self.date_field.setCalendarPopup(True)
        self.date_field.setDisplayFormat("yyyy-MM-dd")
        self.print_button = self._button("&Print summary…", "summaryPrintButton",
                                         "Preview and print the daily swap summary")
        self.pdf_button = self._button("Save summary P&DF…", "summaryPdfButton",
                                       "Save the daily swap summary as a PDF file")
        self.csv_button = self._button("Save summary &CSV…", "summaryCsvButton",
                                       "Save the daily swap summary's figures as CSV")
        self.view = named(QTextBrowser(self), "Programme dashboard", "Refresh progress, courier "
                          "share, sanitisation backlog, reclamation, exceptions and spend",
                          "dashboardView")
        self.refresh_button = self._button("&Refresh dashboard", "dashboardRefreshButton",
                                           "Read the dashboard's figures again")
        self.board_print_button = self._button("Print dashboard…", "dashboardPrintButton",
                                               "Preview and print the dashboard")
        self.board_pdf_button = self._button("Save dashboard PDF…", "dashboardPdfButton",
                                             "Save the dashboard as a PDF file")
        self._layout()
        self.print_button.clicked.connect(self._on_print_summary)
        self.pdf_button.clicked.connect(self._on_save_summary_pdf)
        self.csv_button.clicked.connect(self._on_save_summary_csv)
        self.refresh_button.clicked.connect(self.refresh)
        self.board_print_button.clicked.connect(self._on_print_dashboard)
        self.board_pdf_button.clicked.connect(self._on_save_dashboard_pdf)

    # -- what tests replace: the file dialog and the print preview -------------------------------

    @staticmethod
    def choose_save_path(parent: QWidget, caption: str, suggested: str, filter_: str) -> str:
        return QFileDialog.getSaveFileName(parent, caption, suggested, filter_)[0]

    @staticmethod
    def show_preview(document, parent: QWidget) -> bool:  # noqa: ANN001 - QTextDocument
        """Print preview with the printer's own dialog; False when no printer is installed."""
        from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog

        if not QPrinterInfo.availablePrinters():
            return False
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(printing.a4_layout())
        dialog = QPrintPreviewDialog(printer, parent)
        dialog.paintRequested.connect(document.print_)
        dialog.exec()
        return True

    # -- Panel -------------------------------------------------------------------------------------

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        self.report(Outcome(Tone.INFO, "Scans are not used on the Reports screen: go to "
                            "Exchange (Ctrl+1) to scan."))

    def focus_entry(self) -> None:
        self.date_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh(self) -> None:
        operator = self.session.operator
        if operator is None or not operator.may(Permission.REPORT):
            self.view.setHtml("<p>The dashboard is for site leads and admins.</p>")
            return
        self.attempt(self._show_dashboard)

    # -- slots ---------------------------------------------------------------------------------

    def _on_print_summary(self) -> None:
        def act() -> Outcome:
            summary = self._summary()
            document = printing.report_document(daily.to_html(summary))
            if not self.show_preview(document, self):
                return Outcome(Tone.REFUSED, "No printer is installed on this PC: use Save "
                               "summary PDF and print the file from another machine.")
            return Outcome(Tone.SUCCESS, f"Daily summary of {summary.date} sent to print.")
        self.attempt(act)

    def _on_save_summary_pdf(self) -> None:
        self.attempt(lambda: self._save_summary("pdf"))

    def _on_save_summary_csv(self) -> None:
        self.attempt(lambda: self._save_summary("csv"))

    def _on_print_dashboard(self) -> None:
        def act() -> Outcome:
            if not self.show_preview(self._dashboard_document(), self):
                return Outcome(Tone.REFUSED, "No printer is installed on this PC: use Save "
                               "dashboard PDF instead.")
            return Outcome(Tone.SUCCESS, "Dashboard sent to print.")
        self.attempt(act)

    def _on_save_dashboard_pdf(self) -> None:
        def act() -> Outcome:
            path = self.choose_save_path(self, "Save dashboard", "dashboard.pdf", "PDF (*.pdf)")
            if not path:
                return Outcome(Tone.INFO, "Not saved.")
            d = reports.dashboard(self.session.ctx, self.session.operator)
            printing.write_html_pdf(board.to_html(d), Path(path), "Programme dashboard",
                                    {board.CHART_URL: refresh_chart(d.cumulative())})
            return Outcome(Tone.SUCCESS, f"Dashboard saved to {path}.")
        self.attempt(act)

    # -- private -----------------------------------------------------------------------------

    def _summary(self) -> daily.DailySummary:
        site = reports.station_site_name(self.session.ctx)
        day = self.date_field.date().toString("yyyy-MM-dd")
        return reports.daily_summary(self.session.ctx, self.session.operator, site, day)

    def _save_summary(self, kind: str) -> Outcome:
        summary = self._summary()
        suggested = f"daily-summary-{summary.date}.{kind}"
        path = self.choose_save_path(self, "Save daily summary", suggested,
                                     "PDF (*.pdf)" if kind == "pdf" else "CSV (*.csv)")
        if not path:
            return Outcome(Tone.INFO, "Not saved.")
        if kind == "pdf":
            printing.write_html_pdf(daily.to_html(summary), Path(path),
                                    f"Daily swap summary {summary.site} {summary.date}")
        else:
            reports.write_csv(Path(path), daily.to_csv(summary))
        return Outcome(Tone.SUCCESS, f"Daily summary of {summary.date} saved to {path}.")

    def _dashboard_document(self):  # noqa: ANN202 - QTextDocument
        d = reports.dashboard(self.session.ctx, self.session.operator)
        return printing.report_document(board.to_html(d),
                                        {board.CHART_URL: refresh_chart(d.cumulative())})

    def _show_dashboard(self) -> Outcome:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QTextDocument

        d = reports.dashboard(self.session.ctx, self.session.operator)
        self.view.document().addResource(QTextDocument.ResourceType.ImageResource,
                                         QUrl(board.CHART_URL), refresh_chart(d.cumulative()))
        self.view.setHtml(board.to_html(d))
        return Outcome(Tone.INFO, f"Dashboard: {d.percent_refreshed:.1f}% of the register "
                       "refreshed.")

    def _button(self, text: str, object_name: str, description: str) -> QPushButton:
        return named(QPushButton(text, self), text.replace("&", "").rstrip("…"), description,
                     object_name)

    def _layout(self) -> None:
        summary = QGroupBox("Daily swap summary", self)
        row = QHBoxLayout(summary)
        row.addWidget(buddy_label("Da&te:", self.date_field, self))
        for widget in (self.date_field, self.print_button, self.pdf_button, self.csv_button):
            row.addWidget(widget)
        row.addStretch(1)
        buttons = QHBoxLayout()
        for widget in (self.refresh_button, self.board_print_button, self.board_pdf_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addWidget(summary)
        column.addLayout(buttons)
        column.addWidget(self.view, 1)
