"""Scan tags from a live camera without ever making the caller wait.

Two plain Python threads: the capture thread reads the `FrameSource` as fast as it delivers and
keeps only the latest frame; the decode thread takes that latest frame whenever it is free (frames
that arrive while it is busy are skipped), decodes it, chooses the tag, and accepts it when two of
the last three reads agree. A watchdog on the decode thread reports a camera that has sent no
frame for 3 seconds (BARCODES.md §5; Windows cameras can open "successfully" and send nothing).

The callbacks run on these worker threads, never the caller's: the UI wraps this class and
re-emits them as Qt signals (queued to the GUI thread). `lookup_serial` is called on the decode
thread, so it must use its own database session.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from app.domain.tags import DEFAULT_TAG_PATTERN
from app.scanning.agreement import TagAgreement
from app.scanning.frame_sources import FrameSource
from app.scanning.pipeline import DecodePipeline, DecodeSettings
from app.scanning.reads import FrameReading
from app.scanning.tag_choice import SerialLookup, TagChoice, choose_tag

_log = logging.getLogger(__name__)
_IDLE_AFTER = 3  # frames in a row with nothing read before decoding slows to the idle rate


def no_frames_message(description: str, seconds: float) -> str:
    """What the operator sees when the camera sends nothing."""
    return (f"No picture from the {description} for {seconds:g} seconds. Check that it is plugged "
            "in and not covered, and close any other program using it (a video call), or type "
            "or wedge-scan the tag instead.")


@dataclass(frozen=True)
class ScanStats:
    """Frames received from the camera, decoded, and skipped because the decoder was busy."""

    captured: int
    decoded: int
    skipped: int


class LiveScanner:
    """Decode the latest frame of `source` on a worker thread; report accepted tags by callback.

    Decoding runs at up to `max_decodes_per_s` while barcodes are in view and slows to
    `idle_decodes_per_s` after three frames in a row with nothing read.

    `on_tag(choice)` fires once per accepted tag; `on_reading(reading, choice)` after every decoded
    frame (to draw outlines or show a problem such as two tags in view); `on_camera_problem(text)`
    when the camera fails or stops sending frames, and `on_camera_problem(None)` when frames flow
    again.
    """

    def __init__(self, source: FrameSource, *, tag_pattern: str = DEFAULT_TAG_PATTERN,
                 lookup_serial: SerialLookup | None = None,
                 on_tag: Callable[[TagChoice], None] | None = None,
                 on_reading: Callable[[FrameReading, TagChoice], None] | None = None,
                 on_camera_problem: Callable[[str | None], None] | None = None,
                 pipeline: DecodePipeline | None = None, agreement: TagAgreement | None = None,
                 max_decodes_per_s: float = 12.0, idle_decodes_per_s: float = 5.0,
                 no_frame_timeout_s: float = 3.0):
        self.source = source
        self.tag_pattern = tag_pattern
        self.lookup_serial = lookup_serial
        self.no_frame_timeout_s = no_frame_timeout_s
        self._on_tag = on_tag or (lambda choice: None)
        self._on_reading = on_reading or (lambda reading, choice: None)
        self._on_problem = on_camera_problem or (lambda message: None)
        self._pipeline = pipeline or DecodePipeline(DecodeSettings.for_camera(tag_pattern))
        self._agreement = agreement or TagAgreement()
        self._busy_interval = 1.0 / max_decodes_per_s
        self._idle_interval = 1.0 / min(idle_decodes_per_s, max_decodes_per_s)
        self._empty_in_a_row = 0
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._latest: np.ndarray | None = None
        self._sequence = 0
        self._decoded = 0
        self._skipped = 0
        self._last_frame_at = 0.0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Open the camera and start decoding, on the worker threads; returns at once."""
        if self.running:
            return
        self._stopping.clear()
        self._last_frame_at = time.monotonic()
        self._threads = [
            threading.Thread(target=self._capture_loop, name="camera-capture", daemon=True),
            threading.Thread(target=self._decode_loop, name="camera-decode", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask both threads to finish and wait at most `timeout_s` for them."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    @property
    def stats(self) -> ScanStats:
        with self._wake:
            return ScanStats(self._sequence, self._decoded, self._skipped)

    def latest_frame(self) -> np.ndarray | None:
        """The newest frame from the camera, for a preview (do not modify it)."""
        with self._wake:
            return self._latest

    def forget(self) -> None:
        """Forget the tags seen so far, so the same tag can be accepted again."""
        self._agreement.forget()

    def _capture_loop(self) -> None:
        try:
            self.source.open()
        except Exception as error:  # CameraUnavailable, or a driver error
            self._stopping.set()  # nothing to decode: the scanner stops, `running` turns False
            self._on_problem(getattr(error, "user_message", None) or
                             f"The {self.source.description} could not be opened ({error}).")
            return
        failing = False
        try:
            while not self._stopping.is_set():
                try:
                    frame = self.source.read()
                except Exception as error:  # a driver error: say so once, then keep trying
                    if not failing:
                        _log.exception("reading the %s failed", self.source.description)
                        self._on_problem(f"The {self.source.description} stopped working "
                                         f"({error}).")
                    failing = True
                    self._stopping.wait(0.5)
                    continue
                if frame is not None:
                    failing = False
                    self._offer(frame)
        finally:
            self.source.close()

    def _offer(self, frame: np.ndarray) -> None:
        with self._wake:
            self._latest = frame
            self._sequence += 1
            self._last_frame_at = time.monotonic()
            self._wake.notify_all()

    def _decode_loop(self) -> None:
        taken, stalled, last_decode = 0, False, 0.0
        while not self._stopping.is_set():
            with self._wake:
                self._wake.wait_for(lambda: self._sequence != taken or self._stopping.is_set(),
                                    timeout=0.25)
                frame, sequence, last_frame_at = self._latest, self._sequence, self._last_frame_at
            if self._stopping.is_set():
                break
            silent = time.monotonic() - last_frame_at > self.no_frame_timeout_s
            if silent != stalled:
                stalled = silent
                self._on_problem(no_frames_message(self.source.description,
                                                   self.no_frame_timeout_s) if silent else None)
            if sequence == taken or frame is None:
                continue
            pause = last_decode + self._interval() - time.monotonic()
            if pause > 0:
                if self._stopping.wait(pause):
                    break
                with self._wake:
                    frame, sequence = self._latest, self._sequence
            last_decode = time.monotonic()
            try:
                self._decode(frame, sequence - taken - 1)
            except Exception:  # a failing lookup or callback must not end live scanning
                _log.exception("camera frame %d could not be decoded", sequence)
            taken = sequence

    def _interval(self) -> float:
        """Full rate while barcodes are in view; a slower look at an empty counter saves CPU."""
        return self._idle_interval if self._empty_in_a_row >= _IDLE_AFTER else self._busy_interval

    def _decode(self, frame: np.ndarray, skipped: int) -> None:
        reading = self._pipeline.read_frame(frame)
        self._empty_in_a_row = 0 if reading.reads else self._empty_in_a_row + 1
        choice = choose_tag(reading.reads, self.tag_pattern, self.lookup_serial)
        with self._wake:
            self._decoded += 1
            self._skipped += skipped
        self._on_reading(reading, choice)
        if self._agreement.observe(choice.asset_tag.value if choice.asset_tag else None):
            self._on_tag(choice)
