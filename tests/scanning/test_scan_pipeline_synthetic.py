"""The decode pipeline on webcam frames the tests paint themselves (labels at any angle)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.scanning import decoders
from app.scanning.label_scenes import Label, Scene, paint_frame, random_scene
from app.scanning.pipeline import DecodePipeline, DecodeSettings
from app.scanning.reads import Symbology

STATION_PATTERN = r"IT-\d{6}"
SERIAL = "5CG8123XYZ"


@pytest.fixture(scope="module")
def camera_pipeline() -> DecodePipeline:
    """The live-camera steps, with time enough that a busy test machine cannot change a result."""
    settings = DecodeSettings(budget_ms=5000, tag_pattern=STATION_PATTERN, use_pyzbar=False)
    pipeline = DecodePipeline(settings)
    pipeline.read_frame(np.zeros((720, 1280), np.uint8))  # first call warms the decoders up
    return pipeline


def _assert_only(reading, *allowed: str) -> None:
    wrong = [text for text in reading.texts if text not in allowed]
    assert not wrong, f"wrong reads {wrong}"


@pytest.mark.parametrize("angle", range(0, 360, 15))
def test_tag_beside_serial_is_read_at_any_angle(camera_pipeline, angle):
    symbology = "code39" if angle % 30 else "code128"
    tag = f"IT-{angle:03d}417"
    scene = random_scene(np.random.default_rng(angle), tag, SERIAL, symbology, angle=angle + 2.5)
    reading = camera_pipeline.read_frame(paint_frame(scene))
    assert tag in reading.texts
    _assert_only(reading, tag, SERIAL)


@pytest.mark.parametrize("module_px,blur,noise,gain", [
    (2.2, 0.5, 4, 1.0),   # far from the camera
    (4.5, 0.8, 4, 1.0),   # close up
    (3.0, 1.2, 6, 1.0),   # defocused
    (3.0, 0.6, 10, 0.8),  # noisy sensor
    (3.0, 0.6, 3, 0.3),   # dim office
])
def test_tag_is_read_when_scaled_blurred_noisy_or_dim(camera_pipeline, module_px, blur, noise,
                                                      gain):
    scene = Scene(Label("IT-004217", module_px=module_px), Label(SERIAL, caption="S/N"),
                  angle=37.0, blur_sigma=blur, noise_sigma=noise, gain=gain, seed=3)
    reading = camera_pipeline.read_frame(paint_frame(scene))
    assert "IT-004217" in reading.texts
    _assert_only(reading, "IT-004217", SERIAL)


def test_a_blurred_small_label_is_read_by_the_sharpened_retry():
    pipeline = DecodePipeline(DecodeSettings(budget_ms=5000, tag_pattern=STATION_PATTERN))
    scene = Scene(Label("IT-090210", "code39", module_px=2.0), angle=21, blur_sigma=1.2, seed=5)
    reading = pipeline.read_frame(paint_frame(scene))
    assert [r.stage for r in reading.reads if r.text == "IT-090210"] == ["level+sharpen"]


@pytest.mark.parametrize("symbology", ["qr", "datamatrix"])
@pytest.mark.parametrize("angle", [0, 33, 130, 255])
def test_2d_tags_are_read_at_any_angle(camera_pipeline, symbology, angle):
    scene = Scene(Label("IT-777001", symbology, module_px=5), Label(SERIAL), angle=angle, seed=7)
    reading = camera_pipeline.read_frame(paint_frame(scene))
    assert "IT-777001" in reading.texts
    _assert_only(reading, "IT-777001", SERIAL)


def test_positions_are_in_frame_pixels_even_for_levelled_regions(camera_pipeline):
    scene = Scene(Label("IT-004217"), angle=40, centre=(0.3, 0.6), clutter=False, seed=1)
    reading = camera_pipeline.read_frame(paint_frame(scene))
    (read,) = [r for r in reading.reads if r.text == "IT-004217"]
    x, y = read.centre
    assert abs(x - 0.3 * 1280) < 40 and abs(y - 0.6 * 720) < 60


def test_an_empty_desk_gives_no_reads(camera_pipeline):
    scene = Scene(Label("IT-000000"), seed=2)
    frame = paint_frame(scene)
    desk = cv2.GaussianBlur(frame, (0, 0), 12)  # everything smeared: nothing readable
    assert camera_pipeline.read_frame(desk).reads == ()


def test_serial_alone_keeps_the_pipeline_looking_for_the_tag(camera_pipeline):
    scene = Scene(Label(SERIAL, caption="S/N"), angle=0, seed=4)
    reading = camera_pipeline.read_frame(paint_frame(scene))
    assert reading.texts == [SERIAL]
    assert "locate" in reading.stages


def test_without_a_tag_pattern_the_first_read_ends_the_search():
    pipeline = DecodePipeline(DecodeSettings.for_still())
    reading = pipeline.read_frame(paint_frame(Scene(Label(SERIAL), angle=0, seed=4)))
    assert reading.texts == [SERIAL] and reading.stages == ("frame",)


def test_with_no_time_left_only_the_first_decoder_runs():
    pipeline = DecodePipeline(DecodeSettings(budget_ms=0.0, tag_pattern=STATION_PATTERN))
    scene = Scene(Label("IT-004217"), angle=45, seed=6)
    reading = pipeline.read_frame(paint_frame(scene))
    assert reading.stages == ("frame",)
    assert reading.out_of_time


def test_pyzbar_runs_only_when_zxing_finds_nothing(monkeypatch):
    monkeypatch.setattr(decoders.ZxingDecoder, "read", lambda self, gray, **options: [])
    pipeline = DecodePipeline(DecodeSettings.for_still())
    reading = pipeline.read_frame(paint_frame(Scene(Label("IT-004217"), angle=0, seed=8)))
    assert [(r.text, r.decoder) for r in reading.reads] == [("IT-004217", "pyzbar")]


def test_ean13_is_read_only_when_configured():
    frame = paint_frame(Scene(Label("978020137962", "ean13"), angle=0, seed=9))
    assert DecodePipeline(DecodeSettings.for_still()).read_frame(frame).reads == ()
    reads = DecodePipeline(DecodeSettings.for_still(with_ean13=True)).read_frame(frame).reads
    assert [(r.symbology, r.text) for r in reads] == [(Symbology.EAN13, "9780201379624")]


@pytest.mark.parametrize("symbology,data,expected", [
    (Symbology.QR, b"IT-004217", "IT-004217"),
    (Symbology.QR, "\u30a2\u30bb\u30c3\u30c8".encode(), None),  # zbar guesses charsets
    (Symbology.CODE39, b"12+A+B", None),  # full-ASCII Code 39 returned raw
    (Symbology.CODE39, b"IT-004217", "IT-004217"),
    (Symbology.CODE128, b"\xff\xfe", None),
])
def test_pyzbar_texts_it_is_known_to_get_wrong_are_refused(symbology, data, expected):
    assert decoders._trusted_zbar_text(symbology, data) == expected


def test_an_image_file_is_read_like_a_frame(tmp_path):
    path = tmp_path / "label.png"
    cv2.imwrite(str(path), paint_frame(Scene(Label("IT-004217"), angle=80, seed=10)))
    reading = DecodePipeline(DecodeSettings.for_still(STATION_PATTERN)).read_file(path)
    assert reading.texts[:1] == ["IT-004217"]


def test_scanning_never_imports_qt():
    code = ("import sys, app.scanning.pipeline, app.scanning.live_camera, "
            "app.scanning.decode_command, app.scanning.label_scenes; "
            "sys.exit(any(m.split('.')[0] in ('PySide6', 'shiboken6') for m in sys.modules))")
    repository = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=repository).returncode == 0
