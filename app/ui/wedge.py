"""Keyboard-wedge scanners: one application-wide key filter tells a scanner burst from typing.

A USB wedge scanner "types" the tag very fast and ends with Enter (or Tab). The filter holds each
printable key for at most `max_gap_ms`; when the next key comes sooner it is part of a burst, and
when the suffix arrives after at least `min_length` such keys the whole burst is a scan: it is
cleaned (AIM prefix, control characters, case; `clean_scan`) and emitted as `scanned` (with the
widget that had the focus, so the window can route by workflow state), and none
of it reaches the focused field. Keys that come slower are handed to the widget they were meant
for, in order, as normal typing. A repeat of the same tag within `repeat_ms` is ignored.

A field may ask for scans (a badge into the staff-number field of sign-in or override): give it
the dynamic property `scanTarget` = True and a burst is typed into it, cleaned, followed by the
suffix key. PIN fields (password echo) are left alone entirely.

Gaps are measured with `time.monotonic()` (injectable): synthetic key events carry timestamp 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from app.domain.tags import clean_scan

_SUFFIXES = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab})
_IN_BURST_CONTROLS = frozenset({"\x1d", "\x1e", "\x04", " "})  # GS1 FNC1 (GS), RS, EOT, space
_COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)


class WedgeScanFilter(QObject):
    """Install with `QApplication.instance().installEventFilter(filter)`."""

    scanned = Signal(str, object)  # the cleaned text, and the widget that had the focus
    repeat_ignored = Signal(str)

    def __init__(self, parent: QObject | None = None, *, max_gap_ms: int = 50, min_length: int = 4,
                 repeat_ms: int = 1000, clock: Callable[[], float] = time.monotonic):
        super().__init__(parent)
        self.max_gap_s = max_gap_ms / 1000
        self.min_length = min_length
        self.repeat_s = repeat_ms / 1000
        self.clock = clock
        self._held: list[tuple[QWidget, QKeyEvent]] = []
        self._last_key_at = float("-inf")
        self._last_scan: tuple[str, float] = ("", float("-inf"))
        self._replaying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, max_gap_ms))
        self._timer.timeout.connect(self.flush)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (self._replaying or event.type() != QEvent.Type.KeyPress
                or not isinstance(obj, QWidget) or _exempt(obj)):
            return False
        now = self.clock()
        in_burst = bool(self._held) and now - self._last_key_at <= self.max_gap_s
        if self._held and not in_burst:
            self.flush()
        self._last_key_at = now
        if event.key() in _SUFFIXES and not event.modifiers() & _COMMAND_MODIFIERS:
            if in_burst and len(self._held) >= self.min_length:
                self._finish_burst(event, now)
                return True
            self.flush()
            return False
        if _holdable(event, in_burst):
            self._held.append((obj, _copy(event)))
            self._timer.start()
            return True
        self.flush()
        return False

    def flush(self) -> None:
        """Hand the held keys to their widgets as normal typing."""
        self._timer.stop()
        held, self._held = self._held, []
        for receiver, event in held:
            self._send(receiver, event)

    def _finish_burst(self, suffix: QKeyEvent, now: float) -> None:
        self._timer.stop()
        held, self._held = self._held, []
        text = clean_scan("".join(event.text() for _receiver, event in held))
        receiver = held[0][0]
        if not text:
            return
        if shiboken6.isValid(receiver) and receiver.property("scanTarget"):
            if isinstance(receiver, QLineEdit):
                receiver.insert(text)
            self._send(receiver, _copy(suffix))
            return
        last_text, last_at = self._last_scan
        if text == last_text and now - last_at < self.repeat_s:
            self.repeat_ignored.emit(text)
            return
        self._last_scan = (text, now)
        self.scanned.emit(text, receiver if shiboken6.isValid(receiver) else None)

    def _send(self, receiver: QWidget, event: QKeyEvent) -> None:
        if not shiboken6.isValid(receiver):
            return
        self._replaying = True
        try:
            QCoreApplication.sendEvent(receiver, event)
        finally:
            self._replaying = False


def _holdable(event: QKeyEvent, in_burst: bool) -> bool:
    text = event.text()
    if in_burst and text in _IN_BURST_CONTROLS:
        return True
    return (len(text) == 1 and text.isprintable() and not text.isspace()
            and not event.modifiers() & _COMMAND_MODIFIERS)


def _exempt(widget: QWidget) -> bool:
    return isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal


def _copy(event: QKeyEvent) -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, event.key(), event.modifiers(), event.text(),
                     event.isAutoRepeat(), event.count())
