"""The window's look: a high-contrast theme, a larger-text setting, and where they are kept.

Settings live in `counter-ui.ini` in the station's data directory (QSettings, INI format), so a
shared counter PC keeps them with the station, not in one user's profile. The system's contrast
preference (Qt 6.10+) turns high contrast on for a station that has not chosen yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

TEXT_SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)
SETTINGS_FILE = "counter-ui.ini"


@dataclass
class UiSettings:
    high_contrast: bool = False
    text_scale: float = 1.0
    muted: bool = False
    path: Path | None = None

    @classmethod
    def load(cls, data_dir: Path | None) -> "UiSettings":
        if data_dir is None:
            return cls(high_contrast=system_prefers_high_contrast())
        store = QSettings(str(Path(data_dir) / SETTINGS_FILE), QSettings.Format.IniFormat)
        return cls(
            high_contrast=_as_bool(store.value("high_contrast", system_prefers_high_contrast())),
            text_scale=float(store.value("text_scale", 1.0)),
            muted=_as_bool(store.value("muted", False)),
            path=Path(data_dir) / SETTINGS_FILE)

    def save(self) -> None:
        if self.path is None:
            return
        store = QSettings(str(self.path), QSettings.Format.IniFormat)
        store.setValue("high_contrast", self.high_contrast)
        store.setValue("text_scale", self.text_scale)
        store.setValue("muted", self.muted)
        store.sync()

    def larger(self, step: int) -> None:
        """Move `step` places along TEXT_SCALES (negative for smaller)."""
        index = min(range(len(TEXT_SCALES)), key=lambda i: abs(TEXT_SCALES[i] - self.text_scale))
        self.text_scale = TEXT_SCALES[max(0, min(len(TEXT_SCALES) - 1, index + step))]


class Theme:
    """Applies UiSettings to the application; remembers the platform's own palette and font."""

    def __init__(self, app: QApplication):
        self._app = app
        self._palette = QPalette(app.palette())
        self._point_size = app.font().pointSizeF() if app.font().pointSizeF() > 0 else 10.0

    def apply(self, settings: UiSettings) -> None:
        palette = high_contrast_palette() if settings.high_contrast else self._palette
        self._app.setPalette(palette)
        self._app.setStyleSheet(high_contrast_sheet(palette) if settings.high_contrast else "")
        font = self._app.font()
        font.setPointSizeF(self._point_size * settings.text_scale)
        self._app.setFont(font)


def high_contrast_palette() -> QPalette:
    """White on black with yellow focus and selection, like the Windows high-contrast themes."""
    black, white, yellow = QColor(0, 0, 0), QColor(255, 255, 255), QColor(255, 255, 0)
    cyan, grey = QColor(0, 255, 255), QColor(160, 160, 160)
    palette = QPalette()
    role = QPalette.ColorRole
    for r, colour in ((role.Window, black), (role.WindowText, white), (role.Base, black),
                      (role.AlternateBase, QColor(32, 32, 32)), (role.Text, white),
                      (role.Button, black), (role.ButtonText, white), (role.BrightText, yellow),
                      (role.Highlight, yellow), (role.HighlightedText, black),
                      (role.ToolTipBase, black), (role.ToolTipText, white),
                      (role.PlaceholderText, grey), (role.Link, cyan), (role.Light, white),
                      (role.Mid, grey), (role.Dark, grey), (role.Shadow, white)):
        palette.setColor(r, colour)
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, grey)
    return palette


def high_contrast_sheet(palette: QPalette) -> str:
    """Visible edges for fields, lists and tick boxes (the style draws them in the window colour
    darkened, which on black is black), and a thick focus frame; colours from the palette."""
    text = palette.color(QPalette.ColorRole.WindowText).name()
    focus = palette.color(QPalette.ColorRole.Highlight).name()
    return (
        f"QLineEdit, QAbstractItemView, QComboBox, QPushButton {{ border: 2px solid {text}; }}"
        f" QLineEdit:focus, QAbstractItemView:focus, QComboBox:focus, QPushButton:focus,"
        f" QCheckBox:focus {{ border: 3px solid {focus}; }}"
        f" QPushButton {{ padding: 4px 10px; }}"
        f" QPushButton:disabled {{ border: 2px dashed {text}; }}"
        f" QCheckBox::indicator {{ width: 16px; height: 16px; border: 2px solid {text}; }}"
        f" QCheckBox::indicator:checked {{ background-color: {focus};"
        f" border: 4px double {text}; }}")


def system_prefers_high_contrast() -> bool:
    hints = QGuiApplication.styleHints()  # keep a reference: the hints object is owned by Qt
    accessibility = hints.accessibility() if hasattr(hints, "accessibility") else None
    if accessibility is None:
        return False
    return accessibility.contrastPreference() == Qt.ContrastPreference.HighContrast


def _as_bool(value: object) -> bool:
    return value in (True, "true", "1", 1)
