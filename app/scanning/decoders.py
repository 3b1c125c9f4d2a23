"""The two decoders behind the pipeline: zxing-cpp (primary) and pyzbar (second opinion).

Both are restricted to the symbologies in use. pyzbar's known wrong reads are refused here rather
than passed on (BARCODES.md §3c): a QR payload that is not plain ASCII (zbar guesses the character
set and turns Shift_JIS into the wrong characters) and a Code 39 text with full-ASCII shift pairs
(zbar returns them raw, `+A+B` for `ab`). zbar has no Data Matrix.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import zxingcpp

from app.scanning.reads import Symbology


class Found(NamedTuple):
    """One symbol as a decoder returned it, corners in the coordinates of the image it was given."""

    symbology: Symbology
    text: str
    corners: np.ndarray  # 4 x 2 float


_ZXING_FORMATS = {
    Symbology.CODE128: zxingcpp.BarcodeFormat.Code128,
    Symbology.CODE39: zxingcpp.BarcodeFormat.Code39,
    Symbology.QR: zxingcpp.BarcodeFormat.QRCode,
    Symbology.DATA_MATRIX: zxingcpp.BarcodeFormat.DataMatrix,
    Symbology.EAN13: zxingcpp.BarcodeFormat.EAN13,
}
_ZXING_NAMES = (  # zxing-cpp 3 reports variants ("Code39Ext", "QRCodeModel2"): match by prefix
    ("Code128", Symbology.CODE128),
    ("Code39", Symbology.CODE39),
    ("QRCode", Symbology.QR),
    ("DataMatrix", Symbology.DATA_MATRIX),
    ("EAN13", Symbology.EAN13),
)


class ZxingDecoder:
    """zxing-cpp restricted to `symbologies`; dark-on-light only unless asked to try inverted."""

    name = "zxing-cpp"

    def __init__(self, symbologies: frozenset[Symbology]):
        self.symbologies = symbologies
        self._formats = [_ZXING_FORMATS[s] for s in sorted(symbologies, key=lambda s: s.value)]

    def read(self, gray: np.ndarray, *, try_rotate: bool = True, try_downscale: bool = True,
             try_invert: bool = False) -> list[Found]:
        results = zxingcpp.read_barcodes(
            gray, formats=self._formats, try_rotate=try_rotate, try_downscale=try_downscale,
            try_invert=try_invert, text_mode=zxingcpp.TextMode.Plain,
        )
        found = []
        for result in results:
            symbology = _zxing_symbology(result.format.name)
            if symbology in self.symbologies and result.valid and result.text:
                found.append(Found(symbology, result.text, _zxing_corners(result.position)))
        return found


class PyzbarDecoder:
    """pyzbar (zbar) restricted to `symbologies`; `available` is False when libzbar is missing."""

    name = "pyzbar"

    def __init__(self, symbologies: frozenset[Symbology]):
        self.symbologies = symbologies
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError):  # no libzbar on this machine (pyzbar #93, #13)
            self._pyzbar = None
            return
        self._pyzbar = pyzbar
        kinds = {
            Symbology.CODE128: pyzbar.ZBarSymbol.CODE128,
            Symbology.CODE39: pyzbar.ZBarSymbol.CODE39,
            Symbology.QR: pyzbar.ZBarSymbol.QRCODE,
            Symbology.EAN13: pyzbar.ZBarSymbol.EAN13,
        }
        self._symbols = [kinds[s] for s in symbologies if s in kinds]
        self._names = {kind.name: s for s, kind in kinds.items()}

    @property
    def available(self) -> bool:
        return self._pyzbar is not None and bool(self._symbols)

    def read(self, gray: np.ndarray) -> list[Found]:
        if not self.available:
            return []
        found = []
        for result in self._pyzbar.decode(np.ascontiguousarray(gray), symbols=self._symbols):
            symbology = self._names.get(result.type)
            text = _trusted_zbar_text(symbology, result.data)
            if symbology in self.symbologies and text:
                left, top, width, height = result.rect
                corners = np.array([[left, top], [left + width, top],
                                    [left + width, top + height], [left, top + height]], float)
                found.append(Found(symbology, text, corners))
        return found


_FULL_ASCII_PAIR = re.compile(r"[$%+/][A-Z]")


def _trusted_zbar_text(symbology: Symbology | None, data: bytes) -> str | None:
    """The text zbar read, or None when zbar is known to get this kind of symbol wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if symbology is Symbology.QR and not data.isascii():
        return None
    if symbology is Symbology.CODE39 and _FULL_ASCII_PAIR.search(text):
        return None
    return text


def _zxing_symbology(format_name: str) -> Symbology | None:
    for prefix, symbology in _ZXING_NAMES:
        if format_name.startswith(prefix):
            return symbology
    return None


def _zxing_corners(position) -> np.ndarray:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    return np.array([[p.x, p.y] for p in corners], float)
