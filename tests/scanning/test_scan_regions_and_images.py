"""Locating and levelling barcode regions; loading pictures as grey."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from app.scanning.decoders import ZxingDecoder
from app.scanning.images import UnreadableImage, load_image, to_gray
from app.scanning.label_scenes import Label, Scene, paint_frame
from app.scanning.reads import TAG_SYMBOLOGIES
from app.scanning.regions import find_regions


def angle_between_lines(a: float, b: float) -> float:
    """Difference of two line directions in degrees, ignoring which way each points."""
    difference = (a - b) % 180
    return min(difference, 180 - difference)


@pytest.mark.parametrize("tilt", [8, 52, 97, 163, 241, 330])
def test_the_strongest_region_is_the_barcode_at_its_tilt(tilt):
    scene = Scene(Label("IT-004217", module_px=3), angle=tilt, seed=tilt)
    regions = find_regions(to_gray(paint_frame(scene)))
    best = regions[0]
    assert angle_between_lines(math.degrees(best.angle), tilt) < 3
    x, y = best.centre
    assert abs(x - 640) < 60 and abs(y - 360) < 60  # on the label, not the printed text


@pytest.mark.parametrize("tilt", [23, 144, 285])
def test_a_levelled_region_reads_without_turning(tilt):
    gray = to_gray(paint_frame(Scene(Label("IT-004217", "code39"), angle=tilt, seed=1)))
    cut, _ = find_regions(gray)[0].level(gray)
    texts = [found.text for found in ZxingDecoder(TAG_SYMBOLOGIES).read(cut, try_rotate=False)]
    assert texts == ["IT-004217"]


def test_a_plain_wall_has_no_regions():
    wall = np.full((720, 1280), 128, np.uint8)
    wall += np.random.default_rng(0).integers(0, 6, wall.shape, dtype=np.uint8)
    assert find_regions(wall) == []


def test_printed_text_alone_is_not_taken_for_a_barcode():
    page = np.full((720, 1280), 235, np.uint8)
    for row in range(60, 700, 40):
        cv2.putText(page, "Intel Core i5 - Windows 11 Pro - 19V 3.42A", (40, row),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2, cv2.LINE_AA)
    assert find_regions(page) == []


def test_transparent_pixels_are_laid_on_white(tmp_path):
    picture = np.zeros((20, 20, 4), np.uint8)  # black, fully transparent
    picture[:10, :, 3] = 255  # top half opaque
    cv2.imwrite(str(tmp_path / "clear.png"), picture)
    gray = load_image(tmp_path / "clear.png")
    assert gray.dtype == np.uint8 and gray.shape == (20, 20)
    assert gray[0, 0] == 0 and gray[19, 19] == 255


def test_sixteen_bit_and_colour_pictures_become_8_bit_grey():
    deep = np.full((4, 4), 65535, np.uint16)
    assert to_gray(deep).dtype == np.uint8 and to_gray(deep)[0, 0] == 255
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[..., 2] = 255  # red in BGR
    assert to_gray(colour)[0, 0] == 76


@pytest.mark.parametrize("content,message", [
    (b"", "not an image"),
    (b"hello", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image"),  # a PNG cut short
])
def test_what_is_not_a_picture_is_unreadable_with_exit_code_4(tmp_path, content, message):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(UnreadableImage, match=message) as raised:
        load_image(path)
    assert raised.value.exit_code == 4 and str(path) in raised.value.user_message


def test_a_folder_or_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableImage, match="is a folder"):
        load_image(tmp_path)
    with pytest.raises(UnreadableImage, match="no such file"):
        load_image(tmp_path / "absent.png")
