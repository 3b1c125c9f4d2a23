"""What a decode produced: the symbologies the station reads, one barcode read, one frame's reading."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

Point = tuple[int, int]


class Symbology(str, enum.Enum):
    """A barcode symbology the station reads; the value is the name used in JSON output."""

    CODE128 = "code128"
    CODE39 = "code39"
    QR = "qr"
    DATA_MATRIX = "datamatrix"
    EAN13 = "ean13"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_linear(self) -> bool:
        return self in (Symbology.CODE128, Symbology.CODE39, Symbology.EAN13)


_LABELS = {
    Symbology.CODE128: "Code 128",
    Symbology.CODE39: "Code 39",
    Symbology.QR: "QR Code",
    Symbology.DATA_MATRIX: "Data Matrix",
    Symbology.EAN13: "EAN-13",
}

#: Asset-tag labels and manufacturer serials; EAN-13 is added only when a station configures it.
TAG_SYMBOLOGIES = frozenset(
    {Symbology.CODE128, Symbology.CODE39, Symbology.QR, Symbology.DATA_MATRIX}
)


@dataclass(frozen=True)
class BarcodeRead:
    """One barcode read in a frame.

    `position` is the symbol's four corners in frame pixels (top-left, top-right, bottom-right,
    bottom-left as the decoder saw them). `ms` is the time from the start of the frame's decode
    until this read was found; `decoder` and `stage` say which step found it.
    """

    symbology: Symbology
    text: str
    position: tuple[Point, Point, Point, Point]
    decoder: str = "zxing-cpp"
    stage: str = "frame"
    ms: float = 0.0

    @property
    def centre(self) -> tuple[float, float]:
        xs = [p[0] for p in self.position]
        ys = [p[1] for p in self.position]
        return sum(xs) / 4, sum(ys) / 4

    def as_dict(self) -> dict:
        return {
            "symbology": self.symbology.value,
            "text": self.text,
            "position": [list(p) for p in self.position],
            "ms": round(self.ms, 1),
            "decoder": self.decoder,
            "stage": self.stage,
        }


@dataclass(frozen=True)
class FrameReading:
    """Everything one frame gave: the reads in the order found, the time taken, the steps run."""

    reads: tuple[BarcodeRead, ...]
    ms: float
    stages: tuple[str, ...] = field(default=())
    out_of_time: bool = False

    @property
    def texts(self) -> list[str]:
        return [read.text for read in self.reads]
