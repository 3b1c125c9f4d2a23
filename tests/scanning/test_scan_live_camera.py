"""The live scanner: latest frame only, two-of-three agreement, a watchdog, never blocking."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.scanning.frame_sources import CameraFrameSource, CameraUnavailable, SyntheticFrameSource
from app.scanning.label_scenes import Label, Scene, paint_frame
from app.scanning.live_camera import LiveScanner, no_frames_message
from app.scanning.pipeline import DecodePipeline, DecodeSettings
from app.scanning.reads import BarcodeRead, FrameReading, Symbology

STATION = r"IT-\d{6}"
WAIT = 10.0  # seconds: generous, a test only waits this long when it is failing


def numbered_frame(number: int) -> np.ndarray:
    frame = np.zeros((4, 4), np.uint8)
    frame.flat[0:2] = divmod(number, 256)
    return frame


def frame_number(frame: np.ndarray) -> int:
    return int(frame.flat[0]) * 256 + int(frame.flat[1])


class ScriptedPipeline:
    """Stands in for the decoder: frame n reads `script[n]`, after `delay_s` of 'work'."""

    def __init__(self, script: dict[int, str | None] | None = None, delay_s: float = 0.0):
        self.script = script or {}
        self.delay_s = delay_s
        self.decoded: list[int] = []

    def read_frame(self, frame: np.ndarray) -> FrameReading:
        time.sleep(self.delay_s)
        number = frame_number(frame)
        self.decoded.append(number)
        text = self.script.get(number)
        reads = (BarcodeRead(Symbology.CODE128, text, ((0, 0), (1, 0), (1, 1), (0, 1))),) if text else ()
        return FrameReading(reads, self.delay_s * 1000)


class Recorder:
    """Collects the scanner's callbacks and lets a test wait for one."""

    def __init__(self):
        self.tags, self.readings, self.problems = [], [], []
        self._changed = threading.Condition()

    def on_tag(self, choice):
        self.add(self.tags, choice.asset_tag.value)

    def on_reading(self, reading, choice):
        self.add(self.readings, reading)

    def on_camera_problem(self, message):
        self.add(self.problems, message)

    def wait_for(self, condition, timeout: float = WAIT) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    def add(self, items, item):
        with self._changed:
            items.append(item)
            self._changed.notify_all()

    def callbacks(self) -> dict:
        return {"on_tag": self.on_tag, "on_reading": self.on_reading,
                "on_camera_problem": self.on_camera_problem}


@pytest.fixture
def scanners():
    started = []
    yield started
    for scanner in started:
        scanner.stop()


def scanner_for(scanners, source, recorder, **options) -> LiveScanner:
    scanner = LiveScanner(source, tag_pattern=STATION, **recorder.callbacks(), **options)
    scanners.append(scanner)
    return scanner


def test_start_returns_while_the_camera_is_still_opening(scanners):
    release = threading.Event()
    source = SyntheticFrameSource([numbered_frame(0)])
    really_open = source.open
    source.open = lambda: (release.wait(WAIT), really_open())  # Windows cameras can take seconds
    scanner = scanner_for(scanners, source, Recorder())
    scanner.start()
    opened_before_start_returned = release.is_set()
    release.set()
    assert not opened_before_start_returned and scanner.running


def test_frames_that_arrive_while_decoding_are_skipped_and_the_latest_is_decoded(scanners):
    frames = [numbered_frame(n) for n in range(60)]
    pipeline, recorder = ScriptedPipeline(delay_s=0.05), Recorder()
    scanner = scanner_for(scanners, SyntheticFrameSource(frames, fps=400), recorder,
                          pipeline=pipeline, max_decodes_per_s=1000)
    scanner.start()
    assert recorder.wait_for(lambda: pipeline.decoded and pipeline.decoded[-1] == 59)
    stats = scanner.stats
    assert stats.captured == 60
    assert stats.decoded == len(pipeline.decoded) < 30
    assert stats.skipped > 0 and stats.decoded + stats.skipped <= 60
    assert pipeline.decoded == sorted(pipeline.decoded)


def lockstep_source(recorder: Recorder, count: int) -> SyntheticFrameSource:
    """Hands out frame n only after frame n-1 was decoded, so no frame is skipped."""
    def frame(number: int):
        if number >= count or not recorder.wait_for(lambda: len(recorder.readings) >= number):
            time.sleep(0.01)
            return None
        return numbered_frame(number)

    return SyntheticFrameSource(frame, fps=1000)


def test_a_tag_is_accepted_when_two_of_three_reads_agree_and_a_lone_misread_never(scanners):
    script = {0: "IT-004217", 1: "IT-004817", 2: None, 3: "IT-004217", 4: "IT-004217",
              5: "IT-004217", 6: "IT-004817"}
    recorder = Recorder()
    scanner = scanner_for(scanners, lockstep_source(recorder, len(script)), recorder,
                          pipeline=ScriptedPipeline(script), max_decodes_per_s=1000)
    scanner.start()
    assert recorder.wait_for(lambda: len(recorder.readings) == len(script))
    assert recorder.tags == ["IT-004217"]


def test_a_tilted_label_in_painted_frames_is_accepted_end_to_end(scanners):
    scenes = [Scene(Label("IT-004217"), Label("5CG8123XYZ", caption="S/N"), angle=28, seed=s)
              for s in range(3)]
    recorder = Recorder()
    pipeline = DecodePipeline(DecodeSettings(budget_ms=2000, tag_pattern=STATION,
                                             use_pyzbar=False))
    scanner = scanner_for(scanners, SyntheticFrameSource([paint_frame(s) for s in scenes],
                                                         fps=15, loop=True),
                          recorder, pipeline=pipeline)
    scanner.start()
    assert recorder.wait_for(lambda: recorder.tags)
    assert recorder.tags == ["IT-004217"]


def test_a_camera_that_stops_sending_is_reported_and_so_is_its_return(scanners):
    flowing = threading.Event()
    flowing.set()
    source = SyntheticFrameSource(
        lambda n: numbered_frame(n % 1000) if flowing.is_set() else None, fps=50)
    recorder = Recorder()
    scanner = scanner_for(scanners, source, recorder, pipeline=ScriptedPipeline(),
                          no_frame_timeout_s=0.3)
    scanner.start()
    assert recorder.wait_for(lambda: recorder.readings)
    flowing.clear()
    assert recorder.wait_for(lambda: recorder.problems)
    assert recorder.problems == [no_frames_message("synthetic camera", 0.3)]
    assert "No picture from the synthetic camera for 0.3 seconds" in recorder.problems[0]
    flowing.set()
    assert recorder.wait_for(lambda: len(recorder.problems) == 2)
    assert recorder.problems[1] is None


def test_the_watchdog_waits_three_seconds_by_default():
    scanner = LiveScanner(SyntheticFrameSource([]))
    assert scanner.no_frame_timeout_s == 3.0
    assert "for 3 seconds" in no_frames_message("camera 0", scanner.no_frame_timeout_s)


def test_a_camera_that_cannot_be_opened_is_reported(scanners):
    source = SyntheticFrameSource([])

    def refuse():
        raise CameraUnavailable("The camera 0 could not be opened: it is in use.")

    source.open = refuse
    recorder = Recorder()
    scanner = scanner_for(scanners, source, recorder, no_frame_timeout_s=0.1)
    scanner.start()
    assert recorder.wait_for(lambda: recorder.problems)
    scanner.stop()
    assert recorder.problems == ["The camera 0 could not be opened: it is in use."]
    assert not scanner.running


def test_opening_a_missing_video_device_raises_camera_unavailable(tmp_path):
    with pytest.raises(CameraUnavailable, match="could not be opened"):
        CameraFrameSource(str(tmp_path / "no-such-camera.mp4")).open()


def test_stop_ends_both_threads_and_closes_the_camera(scanners):
    source = SyntheticFrameSource([numbered_frame(0)], loop=True, fps=100)
    recorder = Recorder()
    scanner = scanner_for(scanners, source, recorder, pipeline=ScriptedPipeline())
    scanner.start()
    assert recorder.wait_for(lambda: recorder.readings)
    scanner.stop()
    assert not scanner.running and source.closed


def test_a_failing_serial_lookup_does_not_end_live_scanning(scanners):
    calls, recorder = [], Recorder()

    def lookup(text):
        recorder.add(calls, text)
        raise RuntimeError("database locked")

    source = SyntheticFrameSource([numbered_frame(n) for n in range(3)], fps=20)
    scanner = scanner_for(scanners, source, recorder, lookup_serial=lookup,
                          pipeline=ScriptedPipeline({0: "X1", 1: "X1", 2: "X1"}))
    scanner.start()
    assert recorder.wait_for(lambda: len(calls) >= 2)
    assert scanner.running


def test_an_empty_counter_is_looked_at_less_often(scanners):
    pipeline, recorder = ScriptedPipeline(), Recorder()
    source = SyntheticFrameSource(lambda n: numbered_frame(n % 1000), fps=200)
    scanner = scanner_for(scanners, source, recorder, pipeline=pipeline,
                          max_decodes_per_s=1000, idle_decodes_per_s=5)
    scanner.start()
    assert recorder.wait_for(lambda: len(recorder.readings) >= 3)
    started = len(recorder.readings)
    time.sleep(0.5)  # measuring a rate: the one place a test waits on the clock
    assert len(recorder.readings) - started <= 4


def test_a_camera_read_error_is_reported_once_and_scanning_goes_on(scanners):
    def frames(number):
        if number == 0 and not recorder.problems:
            raise OSError("device reset")
        return numbered_frame(number)

    recorder = Recorder()
    scanner = scanner_for(scanners, SyntheticFrameSource(frames, fps=50), recorder,
                          pipeline=ScriptedPipeline())
    scanner.start()
    assert recorder.wait_for(lambda: recorder.readings)
    assert recorder.problems == ["The synthetic camera stopped working (device reset)."]
