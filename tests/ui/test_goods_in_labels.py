"""Print label at goods-in: the label of the device just received, printed or saved, scans."""

from __future__ import annotations

import subprocess

import cv2
from PySide6.QtCore import Qt

from app.scanning.pipeline import DecodePipeline, DecodeSettings
from app.ui.goods_in_panel import GoodsInPanel
from tests.ui.conftest import find, scan, type_slowly


def receive(qtbot, window, tag: str, serial: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    type_slowly(qtbot, window, find(window, "goodsModelField"), "Latitude 5450", False)
    type_slowly(qtbot, window, find(window, "goodsOsField"), "Windows 11", False)
    scan(qtbot, window, tag)
    scan(qtbot, window, serial)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_without_a_printer_the_label_is_saved_and_scans_back(qtbot, window, tmp_path,
                                                             monkeypatch):
    target = tmp_path / "label.pdf"
    monkeypatch.setattr(GoodsInPanel, "print_on_printer", staticmethod(lambda *a: False))
    monkeypatch.setattr(GoodsInPanel, "choose_save_path", staticmethod(lambda *a: str(target)))
    receive(qtbot, window, "NEW-00102", "5CD0000102")
    qtbot.mouseClick(find(window, "printLabelButton"), Qt.MouseButton.LeftButton)
    assert "label NEW-00102 saved to" in find(window, "statusBanner").text()
    subprocess.run(["pdftoppm", "-r", "203", "-gray", "-png", str(target),
                    str(tmp_path / "page")], check=True)
    page = cv2.imread(str(next(tmp_path.glob("page*.png"))), cv2.IMREAD_GRAYSCALE)
    reads = DecodePipeline(DecodeSettings.for_still()).read_frame(page).reads
    assert [r.text for r in reads] == ["NEW-00102"]


def test_with_a_printer_the_label_goes_to_it(qtbot, window, monkeypatch):
    printed = []
    monkeypatch.setattr(GoodsInPanel, "print_on_printer",
                        staticmethod(lambda tags, stock, parent: printed.append((tags, stock.name))
                                     or True))
    receive(qtbot, window, "NEW-00103", "5CD0000103")
    combo = find(window, "labelSizeCombo")
    combo.setCurrentIndex(combo.findData("a4-21"))
    qtbot.mouseClick(find(window, "printLabelButton"), Qt.MouseButton.LeftButton)
    assert printed == [(["NEW-00103"], "a4-21")]
    assert "Label NEW-00103 sent to the printer" in find(window, "statusBanner").text()


def test_nothing_received_yet_says_so(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(find(window, "printLabelButton"), Qt.MouseButton.LeftButton)
    assert "Receive a device first" in find(window, "statusBanner").text()
