"""Goods-in: new devices into this site's stock. Scan the asset tag, then the serial, then receive.

Type, model and OS stay filled between devices, so a delivery of identical laptops is two scans
and Ctrl+Enter each.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit,
                               QListWidget, QPushButton, QVBoxLayout, QWidget)

from app.domain.devices import Device, DeviceType
from app.reports import labels
from app.services import stock
from app.ui import printing
from app.ui.feedback import Outcome, Tone
from app.ui.panel import Panel, buddy_label, named
from app.ui.session import CounterSession


class GoodsInPanel(Panel):
    title = "Goods-in"
    hint = "scan the new device's asset tag, then its serial; then Ctrl+Enter to receive it"

    def __init__(self, session: CounterSession, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.tag_field = named(QLineEdit(self), "Asset tag", "The new device's asset tag",
                               "goodsTagField")
        self.serial_field = named(QLineEdit(self), "Serial", "The manufacturer serial",
                                  "goodsSerialField")
        self.type_combo = named(QComboBox(self), "Device type", "Laptop, tablet or desktop",
                                "goodsTypeCombo")
        self.type_combo.addItems([t.value for t in DeviceType])
        named(self.type_combo.view(), "Device types", "Choose laptop, tablet or desktop")
        self.model_field = named(QLineEdit(self), "Model", "For example Dell Latitude 5440",
                                 "goodsModelField")
        self.os_field = named(QLineEdit(self), "Operating system", "For example Windows 11",
                              "goodsOsField")
        self.receive_button = named(QPushButton("Receive into stoc&k (Ctrl+Enter)", self),
                                    "Receive into stock", "Record the device in this site's "
                                    "stock", "receiveButton")
        self.receive_button.setAutoDefault(True)
        self.received = named(QListWidget(self), "Received", "Devices received in this session",
                              "receivedList")
        self.label_size = named(QComboBox(self), "Label size", "The labels loaded in the "
                                "printer", "labelSizeCombo")
        for name, stock_ in labels.STOCKS.items():
            self.label_size.addItem(stock_.description, name)
        named(self.label_size.view(), "Label sizes", "Choose the labels in the printer")
        self.label_button = named(QPushButton("Print &label", self), "Print label",
                                  "Print the asset-tag label of the selected (or last) device "
                                  "received", "printLabelButton")
        self._lay_out()
        for field in (self.tag_field, self.serial_field, self.model_field, self.os_field):
            field.returnPressed.connect(self._on_receive_clicked)
        self.receive_button.clicked.connect(self._on_receive_clicked)
        self.label_button.clicked.connect(self._on_print_label)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self._on_receive_clicked)

    def accept_scan(self, text: str, origin: QWidget | None = None) -> None:
        """The first scan is the tag, the next the serial; a third starts the next device."""
        if self.tag_field.text() and self.serial_field.text():
            self.tag_field.clear()
            self.serial_field.clear()
        target = self.serial_field if self.tag_field.text() else self.tag_field
        target.setText(text)
        what = "serial" if target is self.serial_field else "asset tag"
        then = "press Ctrl+Enter to receive it" if self.serial_field.text() else "scan its serial"
        self.report(Outcome(Tone.SCANNED, f"{what} {text}: {then}."))
        self.focus_entry()

    def focus_entry(self) -> None:
        field = self.serial_field if self.tag_field.text() else self.tag_field
        field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_receive_clicked(self) -> None:
        if self.attempt(self._receive):
            self.tag_field.clear()
            self.serial_field.clear()
        self.focus_entry()

    # -- what tests replace: the printer and the file dialog --------------------------------------

    @staticmethod
    def print_on_printer(tags: list[str], stock_: labels.LabelStock, parent: QWidget) -> bool:
        """Print through the printer's own dialog; False when no printer is installed."""
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo

        if not QPrinterInfo.availablePrinters():
            return False
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, parent).exec():
            printing.paint_labels(printer, tags, stock_)
        return True

    @staticmethod
    def choose_save_path(parent: QWidget, suggested: str) -> str:
        return QFileDialog.getSaveFileName(parent, "Save labels", suggested, "PDF (*.pdf)")[0]

    def _on_print_label(self) -> None:
        def act() -> Outcome:
            item = self.received.currentItem() or self.received.item(0)
            if item is None:
                return Outcome(Tone.REFUSED, "Receive a device first: its label is printed here.")
            tag = item.text().split(" · ")[0]
            stock_ = labels.stock(self.label_size.currentData())
            if self.print_on_printer([tag], stock_, self):
                return Outcome(Tone.SUCCESS, f"Label {tag} sent to the printer.")
            path = self.choose_save_path(self, f"label-{tag}.pdf")
            if not path:
                return Outcome(Tone.INFO, "No printer is installed; the label was not saved.")
            printing.write_labels_pdf([tag], stock_, Path(path))
            return Outcome(Tone.SUCCESS, f"No printer is installed: label {tag} saved to {path}.")
        self.attempt(act)
        self.focus_entry()

    def _receive(self) -> Outcome:
        device: Device = stock.receive(
            self.session.ctx, self.session.operator, self.tag_field.text(),
            self.serial_field.text(), self.type_combo.currentText(), self.model_field.text(),
            self.os_field.text())
        line = f"{device.tag} · {device.type.value} · {device.model} · {device.os}"
        self.received.insertItem(0, line)
        return Outcome(Tone.SUCCESS, f"{line} received into stock at {device.site}. Scan the "
                       "next tag.")

    def _lay_out(self) -> None:
        form = QFormLayout()
        for text, widget in (("Asset &tag:", self.tag_field), ("Se&rial:", self.serial_field),
                             ("T&ype:", self.type_combo), ("&Model:", self.model_field),
                             ("&OS:", self.os_field)):
            form.addRow(buddy_label(text, widget, self), widget)
        column = QVBoxLayout(self)
        column.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(buddy_label("Label si&ze:", self.label_size, self))
        buttons.addWidget(self.label_size)
        buttons.addWidget(self.label_button)
        buttons.addStretch(1)
        buttons.addWidget(self.receive_button)
        column.addLayout(buttons)
        column.addWidget(buddy_label("Received this &session:", self.received, self))
        column.addWidget(self.received, 1)
