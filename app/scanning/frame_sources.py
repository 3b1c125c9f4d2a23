"""Where live frames come from: a webcam through OpenCV, or a synthetic source for tests.

A `FrameSource` is opened, read and closed on one thread (the live scanner's capture thread);
`read()` may block until the camera delivers, and returns None when no frame came.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np

from app.domain.rules import StationError


class CameraUnavailable(StationError):
    """The camera could not be opened (missing, in use, or blocked by privacy settings)."""


class FrameSource(Protocol):
    """A stream of BGR or grey frames."""

    description: str

    def open(self) -> None:
        """Start the stream; raise `CameraUnavailable` with a message the operator can act on."""

    def read(self) -> np.ndarray | None:
        """The next frame, waiting for it if need be; None if none came."""

    def close(self) -> None:
        """Stop the stream and let the device go. Safe to call twice."""


class CameraFrameSource:
    """A webcam through `cv2.VideoCapture`, asked for 1280x720."""

    def __init__(self, device: int | str = 0, width: int = 1280, height: int = 720,
                 api_preference: int | None = None):
        self.device = device
        self.size = (width, height)
        self.api_preference = api_preference
        self.description = f"camera {device}"
        self._capture = None

    def open(self) -> None:
        import cv2

        if self.api_preference is None:
            capture = cv2.VideoCapture(self.device)
        else:
            capture = cv2.VideoCapture(self.device, self.api_preference)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(
                f"The {self.description} could not be opened: check that it is plugged in, that "
                "no other program (a video call) is using it, and that the system's privacy "
                "settings let this program use the camera."
            )
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        self._capture = capture

    def read(self) -> np.ndarray | None:
        if self._capture is None:
            return None
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class SyntheticFrameSource:
    """Frames from a list, an iterator or a function of the frame number, at `fps`.

    When the frames run out it behaves like a camera that stopped sending: `read()` waits one
    frame period and returns None. `frames_served` counts what was handed out.
    """

    def __init__(self, frames: Iterable[np.ndarray] | Callable[[int], np.ndarray | None],
                 fps: float = 30.0, loop: bool = False, description: str = "synthetic camera"):
        self.description = description
        self.period = 1.0 / fps
        self.frames_served = 0
        self._frames = frames
        self._loop = loop
        self._items: list[np.ndarray] | None = None
        self._iterator: Iterator[np.ndarray] | None = None
        self._next_due = 0.0
        self._lock = threading.Lock()
        self.opened = False
        self.closed = False

    def open(self) -> None:
        if not callable(self._frames):
            self._items = list(self._frames) if self._loop else None
            self._iterator = iter(self._items if self._loop else self._frames)
        self._next_due = time.monotonic()
        self.opened = True

    def read(self) -> np.ndarray | None:
        self._next_due += self.period
        delay = self._next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        frame = self._next_frame()
        if frame is not None:
            with self._lock:
                self.frames_served += 1
        return frame

    def close(self) -> None:
        self.closed = True

    def _next_frame(self) -> np.ndarray | None:
        if callable(self._frames):
            return self._frames(self.frames_served)
        try:
            return next(self._iterator)
        except StopIteration:
            if self._loop and self._items:
                self._iterator = iter(self._items)
                return next(self._iterator)
            return None
