"""Find where a linear barcode is in a frame, and turn that region level.

Used only to locate: nothing here decodes. A linear barcode is a patch where the image gradient is
strong and points the same way everywhere (the bars are parallel), which printed text and plain
edges are not. The local structure tensor measures exactly that: its coherence is near 1 across a
barcode and its main direction is the barcode's tilt. Each strong, coherent patch becomes a
`Region`; `Region.level()` cuts it out of the full-resolution frame rotated so the bars stand
upright, with a quiet zone, ready for the decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

_LOCATE_SIDE = 1000  # the locator works at half resolution on pictures larger than this
_WINDOW = 7  # structure-tensor window at locator scale
_MIN_COHERENCE = 0.55
_MIN_AREA = 120  # pixels at locator scale
_MIN_ACROSS = 30  # extent across the bars at locator scale: more than one edge's width


@dataclass(frozen=True)
class Region:
    """A candidate barcode: its tilt, and its extent along and across the bars (frame pixels).

    `angle` is the direction across the bars (the gradient), in radians. `u0..u1` is the extent
    across the bars and `v0..v1` along them, both measured in a frame turned by `angle`.
    """

    angle: float
    u0: float
    u1: float
    v0: float
    v1: float
    score: float

    @property
    def centre(self) -> tuple[float, float]:
        u, v = (self.u0 + self.u1) / 2, (self.v0 + self.v1) / 2
        c, s = math.cos(self.angle), math.sin(self.angle)
        return u * c - v * s, u * s + v * c

    def level(self, gray: np.ndarray, limit: int = 1600) -> tuple[np.ndarray, np.ndarray]:
        """The region cut out and turned so its bars are vertical, and the frame->cut matrix."""
        length, height = self.u1 - self.u0, self.v1 - self.v0
        pad_u = max(14.0, 0.1 * length)  # quiet zone either side of the bars
        pad_v = max(6.0, 0.1 * height)
        u0, v0 = self.u0 - pad_u, self.v0 - pad_v
        width = min(limit, int(length + 2 * pad_u))
        rows = min(limit, int(height + 2 * pad_v))
        c, s = math.cos(self.angle), math.sin(self.angle)
        matrix = np.array([[c, s, -u0], [-s, c, -v0]], np.float64)
        cut = cv2.warpAffine(gray, matrix, (width, rows), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
        return cut, matrix


def find_regions(gray: np.ndarray, max_regions: int = 4) -> list[Region]:
    """Up to `max_regions` candidate linear-barcode regions, strongest first."""
    jxx, jyy, jxy, scale = _structure_tensor(gray)
    oriented = cv2.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy)  # energy x coherence
    coherence = oriented / (jxx + jyy + 1e-3)
    strength = cv2.sqrt(oriented)
    threshold = max(30.0, 0.35 * float(np.percentile(strength[::2, ::2], 99)))
    mask = ((strength > threshold) & (coherence > _MIN_COHERENCE)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    regions = []
    for index in range(1, count):
        if stats[index, cv2.CC_STAT_AREA] >= _MIN_AREA:
            region = _region(index, labels, stats[index], (jxx, jyy, jxy, oriented), scale)
            if region is not None:
                regions.append(region)
    regions.sort(key=lambda r: -r.score)
    return regions[:max_regions]


def _structure_tensor(gray: np.ndarray):
    """The tensor's three terms at locator scale, and that scale.

    Fine bars would vanish if the picture were shrunk first, so the gradients are taken at full
    resolution and only every other sample is kept: the 3x3 gradient of an edge spans two pixels,
    so no edge is lost.
    """
    longer = max(gray.shape)
    step = 1 if longer <= _LOCATE_SIDE else 2 if longer <= 2 * _LOCATE_SIDE else longer // 1000
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)[::step, ::step]
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)[::step, ::step]
    window = (_WINDOW, _WINDOW)
    terms = [cv2.boxFilter(product, -1, window) for product in (gx * gx, gy * gy, gx * gy)]
    return (*terms, 1.0 / step)


def _region(index, labels, stat, tensor, scale) -> Region | None:
    left, top, width, height = stat[:4]
    window = (slice(top, top + height), slice(left, left + width))
    ys, xs = np.nonzero(labels[window] == index)
    jxx, jyy, jxy, oriented = (t[window][ys, xs] for t in tensor)
    sxx, syy, sxy = float(jxx.sum()), float(jyy.sum()), float(jxy.sum())
    if math.hypot(sxx - syy, 2 * sxy) < 0.5 * (sxx + syy):
        return None  # the patch as a whole has no single direction: text, a photo, a 2D code
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
    c, s = math.cos(angle), math.sin(angle)
    xs, ys = (xs + left + 0.5) / scale, (ys + top + 0.5) / scale
    u, v = xs * c + ys * s, -xs * s + ys * c
    if (u.max() - u.min()) * scale < _MIN_ACROSS:
        return None
    return Region(angle, float(u.min()), float(u.max()), float(v.min()), float(v.max()),
                  float(oriented.sum()) / scale**2)
