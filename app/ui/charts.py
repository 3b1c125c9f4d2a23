"""Charts for reports, painted with QPainter (Qt Charts is deprecated since Qt 6.10)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen


def refresh_chart(series: list[tuple[str, int, int]], width: int = 900,
                  height: int = 300) -> QImage:
    """Devices refreshed per day (bars) and in total (line), from (date, day, running total)."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPixelSize(12)
    painter.setFont(font)
    plot = QRectF(60, 20, width - 120, height - 60)
    painter.setPen(QPen(QColor("black"), 1))
    painter.drawRect(plot)
    if series:
        _bars_and_line(painter, plot, series)
    else:
        painter.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), "No devices refreshed yet")
    painter.end()
    return image


def _bars_and_line(painter: QPainter, plot: QRectF, series: list[tuple[str, int, int]]) -> None:
    top_day = max(day for _d, day, _t in series) or 1
    top_total = series[-1][2] or 1
    step = plot.width() / len(series)
    bar_colour, line_colour = QColor("#4a78b0"), QColor("#c0392b")
    points = []
    width = min(step * 0.7, 40.0)
    for i, (_date, day, total) in enumerate(series):
        bar = plot.height() * day / top_day
        painter.fillRect(QRectF(plot.left() + (i + 0.5) * step - width / 2, plot.bottom() - bar,
                                width, bar), bar_colour)
        points.append(QPointF(plot.left() + (i + 0.5) * step,
                              plot.bottom() - plot.height() * total / top_total))
    painter.setPen(QPen(line_colour, 2))
    for a, b in zip(points, points[1:]):
        painter.drawLine(a, b)
    painter.setPen(QPen(QColor("black"), 1))
    painter.drawText(QRectF(0, plot.top() - 4, plot.left() - 6, 16),
                     int(Qt.AlignmentFlag.AlignRight), str(top_day))
    painter.drawText(QRectF(plot.right() + 6, plot.top() - 4, 60, 16),
                     int(Qt.AlignmentFlag.AlignLeft), f"{top_total:,}")
    painter.drawText(QRectF(plot.left(), plot.bottom() + 4, 120, 16),
                     int(Qt.AlignmentFlag.AlignLeft), series[0][0])
    painter.drawText(QRectF(plot.right() - 120, plot.bottom() + 4, 120, 16),
                     int(Qt.AlignmentFlag.AlignRight), series[-1][0])
    painter.setPen(bar_colour)
    painter.drawText(QRectF(plot.left(), plot.bottom() + 22, 300, 16),
                     int(Qt.AlignmentFlag.AlignLeft), "bars: refreshed that day")
    painter.setPen(line_colour)
    painter.drawText(QRectF(plot.right() - 300, plot.bottom() + 22, 300, 16),
                     int(Qt.AlignmentFlag.AlignRight), "line: refreshed in total")
