"""First run on a new counter PC: create the station database, its first admin, demo data.

Also the offer of demo data when an admin signs in to a station that has no people or devices.
Both offer a classmethod `ask` that tests can replace.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QMessageBox, QVBoxLayout, QWidget)

from app.bootstrap import Station, open_station
from app.domain.people import Operator, Permission
from app.domain.rules import StationError
from app.services import counter, demo, station as station_service
from app.ui.panel import named


class FirstRunDialog(QDialog):
    @classmethod
    def ask(cls, parent: QWidget | None, data_dir: Path | None,
            station: Station | None) -> Station | None:
        """The station, set up; None when cancelled (a station opened here is then closed)."""
        dialog = cls(parent, data_dir, station)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            return dialog.station
        if dialog.station is not None and dialog.station is not station:
            dialog.station.close()
        return None

    def __init__(self, parent: QWidget | None, data_dir: Path | None, station: Station | None):
        super().__init__(parent)
        self.setWindowTitle("Set up this exchange station")
        self.setObjectName("firstRunDialog")
        self.setAccessibleName("Set up this exchange station")
        self.data_dir = data_dir
        self.station = station
        self.station_field = self._field("Station id", "For example HQ-01", "stationIdField")
        self.site_field = self._field("Site", "The collection point, for example Hutton HQ",
                                      "siteField")
        self.admin_field = self._field("Admin staff number", "Your staff number", "adminField")
        self.name_field = self._field("Admin name", "Your name", "adminNameField")
        self.pin_field = self._field("PIN", "4 to 12 digits", "adminPinField", secret=True)
        self.pin_again = self._field("PIN again", "The same PIN", "adminPinAgainField", secret=True)
        self.central_field = self._field(
            "Central database", "Optional: postgresql://ROLE@HOST/DB?sslmode=verify-full "
            "(no password: PGPASSWORD or .pgpass)", "centralUrlField")
        self.demo_check = named(QCheckBox("Load &demo data (40 people, their devices, 40 new "
                                          "devices) to try a swap", self), "Demo data",
                                "Fill the new station with a demo site", "demoCheck")
        self.error = named(QLabel("", self), "Set-up problem", "Why set-up failed", "firstRunError")
        self.error.setWordWrap(True)
        self._prefill()
        self._lay_out()

    def accept(self) -> None:
        if self.pin_field.text() != self.pin_again.text():
            self.pin_again.clear()
            self.pin_again.setFocus()
            return self._say("The two PINs differ: type the PIN again.")
        try:
            if self.station is None:
                self.station = open_station(self.data_dir, create=True)
            counter.first_run(self.station.context, self.station_field.text(),
                              self.site_field.text(), self.admin_field.text(),
                              self.name_field.text(), self.pin_field.text(),
                              self.demo_check.isChecked(), self.central_field.text())
        except StationError as exc:
            return self._say(exc.user_message)
        if self.central_field.text().strip():  # settings are read once: open it again
            data_dir = self.station.config.data_dir
            self.station.close()
            self.station = open_station(data_dir)
        super().accept()
        return None

    def _prefill(self) -> None:
        if self.station is None:
            self.demo_check.setChecked(True)
            return
        try:
            status = station_service.status(self.station.context)
        except StationError:
            return
        self.station_field.setText(status.station)
        self.site_field.setText(status.site)
        self.demo_check.setChecked(not any(status.devices.values()))

    def _field(self, name: str, description: str, object_name: str,
               secret: bool = False) -> QLineEdit:
        field = named(QLineEdit(self), name, description, object_name)
        field.setPlaceholderText(description)
        if secret:
            field.setEchoMode(QLineEdit.EchoMode.Password)
        return field

    def _lay_out(self) -> None:
        form = QFormLayout()
        for text, field in (("S&tation id:", self.station_field), ("&Site:", self.site_field),
                            ("&Admin staff number:", self.admin_field),
                            ("Admin &name:", self.name_field), ("&PIN:", self.pin_field),
                            ("PIN a&gain:", self.pin_again),
                            ("C&entral database:", self.central_field)):
            form.addRow(text, field)
        form.addRow(self.demo_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        named(buttons.button(QDialogButtonBox.StandardButton.Ok), "Create station",
              "Create the station and its first admin", "createStationButton").setText(
            "&Create station")
        named(buttons.button(QDialogButtonBox.StandardButton.Cancel), "Cancel",
              "Close without creating anything", "firstRunCancelButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(QLabel("No station database was found here. Set up this counter PC:",
                                self))
        column.addLayout(form)
        column.addWidget(self.error)
        column.addWidget(buttons)

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.setAccessibleDescription(text)


class DemoOffer:
    @classmethod
    def ask(cls, parent: QWidget | None) -> bool:
        answer = QMessageBox.question(
            parent, "Demo data", "This station has no people or devices yet. Load a demo site "
            "(40 people, their devices and 40 new devices) to try a swap?")
        return answer == QMessageBox.StandardButton.Yes


def offer_demo_data(parent: QWidget | None, station: Station, operator: Operator) -> bool:
    """On an empty station, offer an admin the demo site. True if it was loaded."""
    ctx = station.context
    if not operator.may(Permission.IMPORT) or not counter.station_is_empty(ctx):
        return False
    if not DemoOffer.ask(parent):
        return False
    try:
        demo.load_demo(ctx, operator, station_service.status(ctx).site)
    except StationError as exc:
        QMessageBox.warning(parent, "Demo data", exc.user_message)
        return False
    return True
