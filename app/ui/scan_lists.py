"""The Returned and Issued lists of the exchange being drafted; Delete removes a wrong scan."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from app.domain.devices import Device
from app.ui.person_box import device_line


class ScannedList(QListWidget):
    """Scanned devices, one per line; Delete or Backspace asks to remove the selected one."""

    removal_requested = Signal(str)  # the asset tag

    def __init__(self, object_name: str, name: str, description: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(name)
        self.setAccessibleDescription(description)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMinimumHeight(90)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected_tag():
            self.removal_requested.emit(self.selected_tag())
            event.accept()
            return
        super().keyPressEvent(event)

    def tags(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def selected_tag(self) -> str | None:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def show_devices(self, tags: tuple[str, ...], devices: dict[str, Device | None]) -> None:
        """Show `tags` in order; select the last one so Delete removes the latest scan."""
        self.clear()
        for tag in tags:
            item = QListWidgetItem(device_line(devices.get(tag), tag))
            item.setData(Qt.ItemDataRole.UserRole, tag)
            item.setToolTip(f"{tag}: press Delete to remove this scan")
            self.addItem(item)
        if tags:
            self.setCurrentRow(len(tags) - 1)
