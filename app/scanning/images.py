"""Pictures as the decoders want them: 8-bit grey, transparency laid on white paper."""

from __future__ import annotations

import os

import cv2
import numpy as np

from app.domain.rules import BadInput


class UnreadableImage(BadInput):
    """A file that is missing or is not a picture OpenCV can open (exit 4, code `input`)."""


def load_image(path: str | os.PathLike) -> np.ndarray:
    """The picture at `path` as 8-bit grey; raises `UnreadableImage` with a message to show."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise UnreadableImage(f"{name}: no such file.") from None
    except IsADirectoryError:
        raise UnreadableImage(f"{name}: is a folder, not an image file.") from None
    except OSError as error:
        raise UnreadableImage(f"{name}: cannot be read ({error.strerror or error}).") from None
    image = _decode(data)
    if image is None:
        raise UnreadableImage(
            f"{name}: not an image that can be read (PNG, JPEG, BMP, TIFF or WebP expected)."
        )
    return to_gray(image)


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A camera frame or decoded picture (grey, BGR or BGRA; 8 or 16 bit) as 8-bit grey."""
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)
    elif frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        alpha = frame[:, :, 3:4].astype(np.float32) / 255
        frame = (frame[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    elif frame.shape[2] == 1:
        return frame[:, :, 0]
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _decode(data: bytes) -> np.ndarray | None:
    if not data:
        return None
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # no libpng chatter on stderr
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    finally:
        cv2.utils.logging.setLogLevel(level)
