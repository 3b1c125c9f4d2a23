"""The status banner (`statusBanner`): the last outcome in words, with a tone icon and colour."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.ui.feedback import Outcome, Tone, tone_colours, tone_icon

_ICON = 28


class StatusBanner(QLabel):
    """A QLabel whose text() is the message; the icon sits in a child label on the left."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statusBanner")
        self.setAccessibleName("Status banner")
        self.setAccessibleDescription("The result of the last scan or action, and what to do next")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                     | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setMinimumHeight(_ICON + 24)
        self._icon = QLabel(self)
        self._icon.setObjectName("statusBannerIcon")
        self._icon.setFixedSize(QSize(_ICON, _ICON))
        self._icon.setAccessibleName("Status icon")
        self.setContentsMargins(_ICON + 20, 8, 10, 8)
        self.high_contrast = False
        self.outcome = Outcome(Tone.INFO, "")
        self.show_outcome(Outcome(Tone.INFO, "sign in, then scan a staff badge or type a staff number"))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._icon.move(10, max(0, (self.height() - _ICON) // 2))

    def show_outcome(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.setText(outcome.shown)
        self.setProperty("tone", outcome.tone.value)
        self._icon.setPixmap(tone_icon(outcome.tone).pixmap(_ICON, _ICON))
        self._icon.setAccessibleName(f"{outcome.tone.word} icon")
        self.restyle()

    def restyle(self) -> None:
        """Colours from the current palette: call again when the theme changes."""
        background, text = tone_colours(self.palette(), self.outcome.tone, self.high_contrast)
        border = text if self.high_contrast else background.darker(140)
        self.setStyleSheet(
            f"QLabel#statusBanner {{ background-color: {background.name()}; color: {text.name()};"
            f" border: {3 if self.high_contrast else 1}px solid {border.name()};"
            f" border-radius: 4px; font-weight: 600; }}")

