"""Asset-tag labels: Code 128 with the human-readable tag, laid out on whole printer dots.

A label is computed once as geometry in printer dots (`LabelLayout`): each bar starts and ends on
a dot, so the printed modules are all the same width and the label scans. The PDF renderer
(app/ui/printing.py), the SVG and the ZPL writers below all draw the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import barcode

from app.domain.rules import BadInput

MM_PER_INCH = 25.4
QUIET_MODULES = 10


@dataclass(frozen=True)
class LabelStock:
    """A label size, the printer's resolution, and how labels sit on a page."""

    name: str
    description: str
    width_mm: float
    height_mm: float
    dpi: int
    columns: int = 1
    rows: int = 1
    page_mm: tuple[float, float] | None = None  # None: one label per page (a roll)
    origin_mm: tuple[float, float] = (0.0, 0.0)
    pitch_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def dots(self, mm: float) -> int:
        return int(round(mm / MM_PER_INCH * self.dpi))

    def label_origin_mm(self, index: int) -> tuple[float, float]:
        """Top-left corner of the index-th label on its page, in mm."""
        column, row = index % self.columns, (index // self.columns) % self.rows
        return (self.origin_mm[0] + column * self.pitch_mm[0],
                self.origin_mm[1] + row * self.pitch_mm[1])


STOCKS: dict[str, LabelStock] = {s.name: s for s in (
    LabelStock("roll-50x25", "thermal roll, 50 x 25 mm, 203 dpi", 50.0, 25.0, 203),
    LabelStock("a4-21", "A4 sheet of 21 (63.5 x 38.1 mm, Avery L7160)", 63.5, 38.1, 300, 3, 7,
               (210.0, 297.0), (7.2, 15.15), (66.0, 38.1)),
    LabelStock("a4-65", "A4 sheet of 65 (38.1 x 21.2 mm, Avery L7651)", 38.1, 21.2, 300, 5, 13,
               (210.0, 297.0), (4.65, 10.7), (40.6, 21.2)),
)}
DEFAULT_STOCK = "roll-50x25"


@dataclass(frozen=True)
class LabelLayout:
    """One label in printer dots: bars as (x, width), their top and height, and the text box."""

    tag: str
    width: int
    height: int
    module: int
    bars: tuple[tuple[int, int], ...]
    bar_top: int
    bar_height: int
    text_top: int
    text_height: int


def stock(name: str) -> LabelStock:
    try:
        return STOCKS[name]
    except KeyError:
        raise BadInput(f"unknown label size '{name}': use {', '.join(STOCKS)}") from None


def code128_modules(tag: str) -> str:
    """The Code 128 symbol as a string of '1' (bar) and '0' (space) modules."""
    return barcode.get("code128", tag).build()[0]


def layout(tag: str, label: LabelStock) -> LabelLayout:
    """Fit the tag's Code 128 on the label with the widest whole-dot module that fits."""
    modules = code128_modules(tag)
    width, height = label.dots(label.width_mm), label.dots(label.height_mm)
    module = (width - 2 * label.dots(1.5)) // (len(modules) + 2 * QUIET_MODULES)
    if module < 2:
        raise BadInput(f"{tag} is too long for a {label.description} label: use a larger label")
    module = min(module, label.dots(0.5))
    left = (width - module * len(modules)) // 2
    bars, run_start = [], None
    for i, bit in enumerate(modules + "0"):
        if bit == "1" and run_start is None:
            run_start = i
        elif bit == "0" and run_start is not None:
            bars.append((left + run_start * module, (i - run_start) * module))
            run_start = None
    margin = label.dots(1.5)
    text_height = max(label.dots(2.5), height // 5)
    return LabelLayout(tag, width, height, module, tuple(bars), bar_top=margin,
                       bar_height=height - 2 * margin - text_height - label.dots(0.5),
                       text_top=height - margin - text_height, text_height=text_height)


def check_tags(tags: list[str]) -> list[str]:
    if not tags:
        raise BadInput("give at least one asset tag to label")
    for tag in tags:
        if not tag.isascii() or not tag.isprintable():
            raise BadInput(f"'{tag}' cannot be printed in Code 128: use letters, digits and '-'")
    return tags


def to_svg(tags: list[str], label: LabelStock) -> str:
    """An SVG document in millimetres (with a viewBox in dots) of the labels as laid out."""
    check_tags(tags)
    per_row = label.columns
    rows = -(-len(tags) // per_row)
    total_w = label.dots(label.page_mm[0]) if label.page_mm else label.dots(label.width_mm)
    total_h = (label.dots(label.page_mm[1]) if label.page_mm and len(tags) <= label.per_page
               else rows * label.dots(label.pitch_mm[1] or label.height_mm) + label.dots(label.origin_mm[1]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w / label.dpi * MM_PER_INCH:.2f}mm" '
             f'height="{total_h / label.dpi * MM_PER_INCH:.2f}mm" viewBox="0 0 {total_w} {total_h}" '
             'shape-rendering="crispEdges">', f'<rect width="{total_w}" height="{total_h}" fill="#fff"/>']
    for index, tag in enumerate(tags):
        ox_mm, oy_mm = label.label_origin_mm(index % label.per_page)
        oy_mm += (index // label.per_page) * label.rows * (label.pitch_mm[1] or label.height_mm)
        parts.append(_svg_label(layout(tag, label), label.dots(ox_mm), label.dots(oy_mm)))
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_label(lay: LabelLayout, ox: int, oy: int) -> str:
    bars = "".join(f'<rect x="{ox + x}" y="{oy + lay.bar_top}" width="{w}" height="{lay.bar_height}"/>'
                   for x, w in lay.bars)
    text = (f'<text x="{ox + lay.width // 2}" y="{oy + lay.text_top + lay.text_height * 0.8:.0f}" '
            f'font-family="DejaVu Sans Mono, monospace" font-size="{lay.text_height * 0.9:.0f}" '
            f'text-anchor="middle">{escape(lay.tag)}</text>')
    return f'<g fill="#000">{bars}{text}</g>'


def to_zpl(tags: list[str], label: LabelStock) -> str:
    """ZPL II for a Zebra printer: one ^XA...^XZ label per tag, Code 128 (^BC) with ^BY dots."""
    check_tags(tags)
    jobs = []
    for tag in tags:
        lay = layout(tag, label)
        jobs.append("\n".join((
            "^XA", "^CI28", f"^PW{lay.width}", f"^LL{lay.height}",
            f"^FO{lay.bars[0][0]},{lay.bar_top}^BY{lay.module}",
            f"^BCN,{lay.bar_height},N,N,N,A^FD{_zpl_text(tag)}^FS",
            f"^FO0,{lay.text_top}^A0N,{lay.text_height},{lay.text_height}"
            f"^FB{lay.width},1,0,C^FD{_zpl_text(tag)}^FS",
            "^XZ")))
    return "\n".join(jobs) + "\n"


def _zpl_text(text: str) -> str:
    if any(c in text for c in "^~"):
        raise BadInput(f"'{text}' holds a ZPL control character (^ or ~)")
    return text
