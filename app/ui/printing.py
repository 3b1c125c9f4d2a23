"""Printing and PDF output through Qt: label sheets and HTML reports.

The layouts come from `app.reports` (no Qt there); this module only paints them. The painter
works in printer dots (the writer's resolution is the label stock's dpi), so each bar lands on
whole dots exactly as laid out.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.domain.rules import BadInput
from app.reports.labels import LabelLayout, LabelStock, check_tags, layout


_APPLICATION = []  # keeps the command line's QGuiApplication alive until the process ends


def ensure_gui_application():  # noqa: ANN201 - QApplication
    """A Qt application for painting; offscreen when there is no display (command line).

    A full QApplication, so that a window opened later in the same process still works."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                      or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _APPLICATION.append(QApplication(sys.argv[:1]))
    return QApplication.instance()


def write_labels_pdf(tags: list[str], stock: LabelStock, path: Path) -> int:
    """Write the labels to a PDF (one label per page on a roll, sheets of labels on A4);
    returns the number of pages."""
    ensure_gui_application()
    from PySide6.QtGui import QPdfWriter

    writer = QPdfWriter(str(path))
    writer.setTitle(f"Asset labels ({stock.description})")
    try:
        return paint_labels(writer, tags, stock)
    except BadInput:
        raise BadInput(f"cannot write {path}: check the folder exists and is writable") from None


def paint_labels(device, tags: list[str], stock: LabelStock) -> int:  # noqa: ANN001
    """Paint the labels on a paint device (a QPdfWriter or a QPrinter) at the stock's dpi, so
    every bar lands on whole printer dots; returns the number of pages."""
    from PySide6.QtCore import QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize, QPainter

    layouts = [layout(tag, stock) for tag in check_tags(tags)]
    page_mm = stock.page_mm or (stock.width_mm, stock.height_mm)
    device.setResolution(stock.dpi)
    device.setPageSize(QPageSize(QSizeF(*page_mm), QPageSize.Unit.Millimeter, stock.name))
    device.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    painter = QPainter()
    if not painter.begin(device):
        raise BadInput("the printer could not start the job")
    pages = 1
    try:
        for index, lay in enumerate(layouts):
            slot = index % stock.per_page
            if index and slot == 0:
                device.newPage()
                pages += 1
            ox, oy = (stock.dots(v) for v in stock.label_origin_mm(slot))
            _paint_label(painter, lay, ox, oy)
    finally:
        painter.end()
    return pages


def _paint_label(painter, lay: LabelLayout, ox: int, oy: int) -> None:  # noqa: ANN001
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont

    black = QColor("black")
    for x, width in lay.bars:
        painter.fillRect(QRect(ox + x, oy + lay.bar_top, width, lay.bar_height), black)
    font = QFont("DejaVu Sans Mono")
    font.setPixelSize(int(lay.text_height * 0.85))
    painter.setFont(font)
    painter.setPen(black)
    painter.drawText(QRect(ox, oy + lay.text_top, lay.width, lay.text_height),
                     int(Qt.AlignmentFlag.AlignCenter), lay.tag)


def report_document(html: str, images: dict | None = None):  # noqa: ANN201 - QTextDocument
    """An HTML report as a QTextDocument, with its images (name -> QImage) as resources."""
    ensure_gui_application()
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    for name, image in (images or {}).items():
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    document.setHtml(html)
    return document


def a4_layout():  # noqa: ANN201 - QPageLayout
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize

    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                       QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)


def write_html_pdf(html: str, path: Path, title: str, images: dict | None = None) -> None:
    """An HTML report (QTextDocument's subset) as an A4 PDF with 15 mm margins."""
    from PySide6.QtGui import QPdfWriter

    document = report_document(html, images)
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setPageLayout(a4_layout())
    document.print_(writer)
    del writer  # finish the file now
    if not Path(path).exists():
        raise BadInput(f"cannot write {path}: check the folder exists and is writable")


def send_to_printer(data: str, address: str, timeout: float = 5.0) -> int:
    """Send raw ZPL to a networked label printer (`HOST` or `HOST:PORT`, port 9100 by default);
    returns the bytes sent."""
    import socket

    host, _, port = address.rpartition(":") if ":" in address else (address, "", "9100")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as conn:
            payload = data.encode("utf-8")
            conn.sendall(payload)
            return len(payload)
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot reach the label printer at {address}: {exc}; check it is on and "
                       "its address, or write the labels to a file with --out") from None
