"""Guards against wrong reads: a wrong read is worse than none.

Sharpening, equalising or enlarging a picture lets a decoder read what it missed, but it can also
make bars look wider or narrower than printed. Code 128, QR and Data Matrix carry strong checks
that catch that; Code 39 (no check character) and EAN-13 (one check digit) can come out wrong yet
valid. On ZXing's EAN-13 photos a sharpened copy read `5780407014989` where the label says
`9780441014989`, in the same place as the right read. So:

- two different Code 39 or EAN-13 texts in the same place cannot both be right: a read that
  contradicts an earlier one is dropped, and two that contradict each other in one pass both are
  (QR codes may nest, and Code 128, QR and Data Matrix checks make such pairs genuine);
- a Code 39 or EAN-13 read found only in an enhanced picture must be confirmed by a second,
  independent look (pyzbar on the same picture, or zxing-cpp on a differently sharpened copy)
  that finds the same text there and nothing contradicting it.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from app.scanning.decoders import Found
from app.scanning.reads import Symbology

#: Symbologies whose checks are too weak to trust a read from an enhanced picture on its own.
WEAK_SYMBOLOGIES = frozenset({Symbology.CODE39, Symbology.EAN13})


def same_place(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two symbols' corner sets overlap, allowing for a 1D read's thin outline."""
    (ax0, ay0), (ax1, ay1) = _box(a)
    (bx0, by0), (bx1, by1) = _box(b)
    return ax0 <= bx1 and bx0 <= ax1 and ay0 <= by1 and by0 <= ay1


def contradicts(item: Found, others: Iterable[Found]) -> bool:
    """Whether `item` is a weak symbology and one of `others` has another text in its place."""
    return item.symbology in WEAK_SYMBOLOGIES and any(
        other.symbology == item.symbology and other.text != item.text
        and same_place(item.corners, other.corners) for other in others)


def without_contradictions(found: list[Found]) -> list[Found]:
    """One decoder pass's reads, less any two that contradict each other."""
    return [item for item in found if not contradicts(item, found)]


def confirmed(item: Found, looks: Iterable[Callable[[], list[Found] | None]]) -> bool:
    """Whether a second look finds `item`'s text in its place, and nothing contradicting it.

    Each look returns its reads, or None when there was no time for it. The first look that sees
    a symbol of that symbology in that place decides.
    """
    for look in looks:
        found = look()
        if found is None:
            continue
        here = [f for f in found if f.symbology == item.symbology
                and same_place(item.corners, f.corners)]
        if any(f.text != item.text for f in here):
            return False
        if here:
            return True
    return False


def _box(corners: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    low, high = corners.min(axis=0), corners.max(axis=0)
    margin = 0.1 * float(max(high - low))  # a 1D read's outline may be a single scan line
    return (low[0] - margin, low[1] - margin), (high[0] + margin, high[1] + margin)
