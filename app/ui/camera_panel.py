"""Camera scanning: a live preview and tags decoded off the GUI thread (`app.scanning`).

`LiveScanner` captures and decodes on its own threads and calls back on the decode thread; this
panel re-emits those calls as queued Qt signals, so widgets are only touched on the GUI thread.
The preview polls the latest frame at the camera's rate. A found tag is emitted as `tag_found`
and the window sends it down exactly the same path as a wedge scan. With no camera, or no frame
within 3 seconds, the panel says so in words (and the operator can keep wedge-scanning).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.scanning.frame_sources import CameraFrameSource, FrameSource
from app.scanning.live_camera import LiveScanner
from app.services import counter
from app.services.context import ServiceContext
from app.ui.panel import named


class CameraPanel(QWidget):
    tag_found = Signal(str)
    camera_problem = Signal(object)       # str, or None when frames flow again
    _reading_problem = Signal(object)     # str | None, from the decode thread

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None,
                 source_factory: Callable[[], FrameSource] | None = None,
                 no_frame_timeout_s: float = 3.0, preview_interval_ms: int = 33):
        super().__init__(parent)
        self.setObjectName("cameraPanel")
        self.setAccessibleName("Camera scanning")
        self.ctx = ctx
        self.source_factory = source_factory or (lambda: CameraFrameSource(0))
        self.no_frame_timeout_s = no_frame_timeout_s
        self.scanner: LiveScanner | None = None
        self._shown_frame = -1
        self.preview = named(QLabel("Camera off", self), "Camera preview", "What the camera "
                             "sees; hold the asset-tag label up to it", "cameraPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(320, 180)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.status = named(QLabel("Camera off: press Start camera (F8)", self), "Camera status",
                            "Whether the camera is working", "cameraStatus")
        self.status.setWordWrap(True)
        self.toggle_button = named(QPushButton("Start camera (F8)", self), "Start camera",
                                   "Start or stop scanning with the camera", "cameraToggle")
        self.toggle_button.setAutoDefault(True)
        column = QVBoxLayout(self)
        column.addWidget(self.preview, 1)
        column.addWidget(self.status)
        column.addWidget(self.toggle_button)
        self._timer = QTimer(self)
        self._timer.setInterval(preview_interval_ms)
        self._timer.timeout.connect(self._show_latest_frame)
        self.toggle_button.clicked.connect(self.toggle)
        self.camera_problem.connect(self._on_camera_problem)
        self._reading_problem.connect(self._on_reading_problem)

    @property
    def running(self) -> bool:
        return self.scanner is not None

    def toggle(self) -> None:
        self.stop() if self.running else self.start()

    def start(self) -> None:
        if self.running:
            return
        self.scanner = LiveScanner(
            self.source_factory(), tag_pattern=self.ctx.config.tag_pattern,
            lookup_serial=counter.serial_lookup(self.ctx),
            on_tag=lambda choice: self.tag_found.emit(choice.asset_tag.value),
            on_reading=lambda reading, choice: self._reading_problem.emit(choice.problem),
            on_camera_problem=self.camera_problem.emit,
            no_frame_timeout_s=self.no_frame_timeout_s)
        self._say(f"Starting the {self.scanner.source.description}…")
        self.toggle_button.setText("Stop camera (F8)")
        self.toggle_button.setAccessibleName("Stop camera")
        self._shown_frame = -1
        self.scanner.start()
        self._timer.start()

    def stop(self) -> None:
        scanner, self.scanner = self.scanner, None
        self._timer.stop()
        if scanner is not None:
            scanner.stop()
        self.toggle_button.setText("Start camera (F8)")
        self.toggle_button.setAccessibleName("Start camera")
        self.preview.clear()
        self.preview.setText("Camera off")
        self._say("Camera off: press Start camera (F8)")

    def forget(self) -> None:
        """Let the tags already seen be accepted again (after an exchange is completed)."""
        if self.scanner is not None:
            self.scanner.forget()

    def _show_latest_frame(self) -> None:
        if self.scanner is None:
            return
        captured = self.scanner.stats.captured
        frame = self.scanner.latest_frame()
        if frame is None or captured == self._shown_frame:
            return
        self._shown_frame = captured
        if self.status.text().startswith("Starting"):
            self._say("Camera on: hold the asset-tag label up to it")
        image = frame_to_image(frame)
        self.preview.setPixmap(QPixmap.fromImage(image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))

    def _on_camera_problem(self, message: str | None) -> None:
        if message is None:
            self._say("Camera on: hold the asset-tag label up to it")
            return
        self._say(message)
        self.preview.clear()
        self.preview.setText("No picture")

    def _on_reading_problem(self, problem: str | None) -> None:
        if problem and self.running:
            self._say(problem)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setAccessibleDescription(text)


def frame_to_image(frame: np.ndarray) -> QImage:
    """A BGR or grey numpy frame as a QImage that owns its pixels (safe after the frame changes)."""
    frame = np.ascontiguousarray(frame)
    height, width = frame.shape[:2]
    if frame.ndim == 2:
        return QImage(frame.data, width, height, frame.strides[0],
                      QImage.Format.Format_Grayscale8).copy()
    return QImage(frame.data, width, height, frame.strides[0], QImage.Format.Format_BGR888).copy()
