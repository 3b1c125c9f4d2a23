"""`exchange-station decode IMAGE... [--json]`, through `run_decode`."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest

from app.scanning.decode_command import run_decode
from app.scanning.label_scenes import Label, Scene, paint_frame

STATION = r"IT-\d{6}"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decode")
    paths = {}
    scenes = {
        "laptop.png": Scene(Label("5CG8123XYZ", caption="S/N"), Label("IT-004217"), angle=15),
        "tilted.jpg": Scene(Label("IT-000777", "datamatrix", module_px=6), angle=130, seed=2),
        "blank.png": None,
    }
    for name, scene in scenes.items():
        picture = paint_frame(scene) if scene else np.full((120, 160, 3), 200, np.uint8)
        cv2.imwrite(str(folder / name), picture)
        paths[name] = str(folder / name)
    (folder / "notes.txt").write_text("not a picture\n")
    paths["notes.txt"] = str(folder / "notes.txt")
    paths["missing.png"] = str(folder / "missing.png")
    return paths


def decode(paths, as_json=False, **options):
    out, err = io.StringIO(), io.StringIO()
    code = run_decode(paths, as_json, out, err, **options)
    return code, out.getvalue(), err.getvalue()


def test_one_line_per_image_with_the_asset_tag_first(images):
    code, out, err = decode([images["laptop.png"], images["tilted.jpg"]], tag_pattern=STATION)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        f"{images['laptop.png']}\tIT-004217\t5CG8123XYZ",
        f"{images['tilted.jpg']}\tIT-000777",
    ]


def test_an_image_with_nothing_readable_prints_just_the_file(images):
    code, out, _ = decode([images["blank.png"]])
    assert code == 0 and out == f"{images['blank.png']}\n"


def test_a_non_image_file_exits_4_after_the_other_images_are_decoded(images):
    paths = [images["notes.txt"], images["laptop.png"], images["missing.png"]]
    code, out, err = decode(paths, tag_pattern=STATION)
    assert code == 4
    assert out.splitlines() == [f"{images['laptop.png']}\tIT-004217\t5CG8123XYZ"]
    assert err.splitlines() == [
        f"exchange-station decode: {images['notes.txt']}: not an image that can be read "
        "(PNG, JPEG, BMP, TIFF or WebP expected).",
        f"exchange-station decode: {images['missing.png']}: no such file.",
    ]


def test_json_gives_symbology_text_position_time_and_which_is_the_tag(images):
    code, out, err = decode([images["laptop.png"], images["notes.txt"]], as_json=True,
                            tag_pattern=STATION)
    assert code == 4 and "not an image" in err
    laptop, notes = json.loads(out)
    assert laptop["file"] == images["laptop.png"] and laptop["asset_tag"] == "IT-004217"
    first, second = laptop["results"]
    assert (first["symbology"], first["text"], first["asset_tag"]) == ("code128", "IT-004217", True)
    assert (second["text"], second["asset_tag"]) == ("5CG8123XYZ", False)
    assert len(first["position"]) == 4 and all(len(point) == 2 for point in first["position"])
    assert first["ms"] >= 0 and laptop["ms"] >= first["ms"] and laptop["error"] is None
    assert notes["results"] == [] and notes["error"]["code"] == "input"
    assert "not an image" in notes["error"]["message"]


def test_texts_with_line_breaks_stay_on_one_line(tmp_path):
    path = tmp_path / "contact.png"
    cv2.imwrite(str(path), paint_frame(Scene(Label("Ada\r\nIT\tdesk", "qr", module_px=6),
                                             clutter=False)))
    code, out, _ = decode([str(path)])
    assert code == 0 and out == f"{path}\tAda\\r\\nIT\\tdesk\n"


def test_the_default_pattern_is_the_station_default(images):
    _, out, _ = decode([images["laptop.png"]])
    assert out.split("\t")[1] == "IT-004217"  # 5CG... starts with a digit: not a tag


def test_two_tags_in_view_name_no_tag_in_json(tmp_path):
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), paint_frame(Scene(Label("IT-000001"), Label("IT-000002"), angle=0)))
    _, out, _ = decode([str(path)], as_json=True, tag_pattern=STATION)
    (document,) = json.loads(out)
    assert document["asset_tag"] is None and "Two asset tags" in document["problem"]
    assert sorted(r["text"] for r in document["results"]) == ["IT-000001", "IT-000002"]


def test_no_files_is_a_usage_error():
    code, out, err = decode([])
    assert code == 2 and out == "" and "at least one image" in err
