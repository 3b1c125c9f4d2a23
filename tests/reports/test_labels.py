"""Labels scan: every label printed in every format is decoded back by our own decoder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.domain.rules import BadInput
from app.reports import labels
from app.scanning.pipeline import DecodePipeline, DecodeSettings
from tests.reports import zpl_render

TAGS = ["LT-000123", "TB-004567", "DT-9", "LT-2026-1125"]


def decoded(images: list[np.ndarray]) -> list[str]:
    pipeline = DecodePipeline(DecodeSettings.for_still())
    found = []
    for image in images:
        found += sorted(read.text for read in pipeline.read_frame(image).reads)
    return found


def pdf_pages(path: Path, dpi: int, tmp_path: Path) -> list[np.ndarray]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path),
                    str(tmp_path / "page")], check=True)
    import cv2

    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(tmp_path.glob("page*.png"))]


@pytest.mark.parametrize("size", list(labels.STOCKS))
def test_bars_land_on_whole_printer_dots(size):
    stock = labels.stock(size)
    for tag in TAGS:
        lay = labels.layout(tag, stock)
        assert lay.module >= 2
        assert all(isinstance(x, int) and w % lay.module == 0 for x, w in lay.bars)
        assert lay.bars[0][0] >= 10 * lay.module, "quiet zone before the first bar"
        assert lay.bars[-1][0] + lay.bars[-1][1] <= lay.width - 10 * lay.module


@pytest.mark.parametrize("size", list(labels.STOCKS))
def test_pdf_labels_decode_back(size, tmp_path, capsys):
    out = tmp_path / "labels.pdf"
    assert main(["--json", "label", *TAGS, "--format", "pdf", "--size", size,
                 "--out", str(out)]) == 0
    stock = labels.stock(size)
    pages = pdf_pages(out, stock.dpi, tmp_path)
    assert len(pages) == (len(TAGS) if stock.page_mm is None else 1)
    assert sorted(decoded(pages)) == sorted(TAGS)


def test_a4_sheet_puts_21_labels_on_a_page(tmp_path):
    from app.ui.printing import write_labels_pdf

    tags = [f"LT-{n:06d}" for n in range(23)]
    assert write_labels_pdf(tags, labels.stock("a4-21"), tmp_path / "s.pdf") == 2
    pages = pdf_pages(tmp_path / "s.pdf", 300, tmp_path)
    assert [len(decoded([p])) for p in pages] == [21, 2]


def test_svg_labels_decode_back(tmp_path, qapp):
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    stock = labels.stock("a4-21")
    svg = labels.to_svg(TAGS, stock)
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    assert renderer.isValid()
    size = renderer.viewBox().size()  # one viewBox unit per printer dot
    image = QImage(size.width(), size.height(), QImage.Format.Format_Grayscale8)
    image.fill(255)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(size.height(),
                                                                image.bytesPerLine())
    cells = []
    for index in range(len(TAGS)):
        x, y = (stock.dots(v) for v in stock.label_origin_mm(index))
        cells.append(pixels[y:y + stock.dots(stock.height_mm), x:x + stock.dots(stock.width_mm)])
    assert decoded([np.pad(c, 20, constant_values=255) for c in cells]) == TAGS
    assert 'viewBox="0 0 2480 3508"' in svg and 'width="209.97mm"' in svg  # A4 in 300-dpi dots


def test_zpl_labels_use_code128_on_whole_dots_and_decode_back():
    stock = labels.stock("roll-50x25")
    zpl = labels.to_zpl(TAGS, stock)
    assert zpl.count("^XA") == len(TAGS) == zpl.count("^XZ")
    first = labels.layout(TAGS[0], stock)
    assert f"^BY{first.module}" in zpl and "^BCN," in zpl and "^FDLT-000123^FS" in zpl
    assert "^PW400" in zpl and "^LL200" in zpl  # 50 x 25 mm at 203 dpi
    assert decoded(zpl_render.render(zpl)) == TAGS


def test_tags_that_cannot_be_labelled_get_a_clear_message(tmp_path, capsys):
    with pytest.raises(BadInput, match="too long"):
        labels.layout("LT-" + "X" * 17, labels.stock("a4-65"))
    with pytest.raises(BadInput, match="unknown label size"):
        labels.stock("a5")
    assert main(["label", "12", "--format", "zpl", "--out", str(tmp_path / "x.zpl")]) == 4
    assert "not an asset tag" in capsys.readouterr().err
    assert main(["label", "LT-0001", "--format", "svg", "--out",
                 str(tmp_path / "missing" / "x.svg")]) == 4
    assert "cannot write" in capsys.readouterr().err


def test_zpl_is_sent_raw_to_a_network_printer(capsys):
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def accept() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(4096):
                received.extend(chunk)

    thread = threading.Thread(target=accept)
    thread.start()
    port = server.getsockname()[1]
    assert main(["label", "LT-000123", "--format", "zpl", "--printer", f"127.0.0.1:{port}"]) == 0
    thread.join(5)
    server.close()
    assert received.decode() == labels.to_zpl(["LT-000123"], labels.stock("roll-50x25"))
    assert "sent to 127.0.0.1" in capsys.readouterr().out


def test_an_unreachable_printer_is_a_clear_message(capsys):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["label", "LT-000123", "--format", "zpl", "--printer", f"127.0.0.1:{port}"]) == 4
    assert "cannot reach the label printer" in capsys.readouterr().err
    assert main(["label", "LT-000123", "--format", "pdf", "--printer", "127.0.0.1"]) == 2


def test_labels_painted_on_a_printer_decode_back(tmp_path, qapp):
    from PySide6.QtPrintSupport import QPrinter

    from app.ui.printing import paint_labels

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert paint_labels(printer, TAGS[:2], labels.stock("roll-50x25")) == 2
    assert decoded(pdf_pages(tmp_path / "printed.pdf", 203, tmp_path)) == TAGS[:2]
