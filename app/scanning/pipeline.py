"""Read the barcodes in one frame or image file, within a time budget.

The steps, each run only while nothing wanted has been read and only if its expected cost still
fits in the budget (the first always runs):

1. zxing-cpp on the whole frame, restricted to the symbologies in use;
2. pyzbar on the whole frame, only when zxing-cpp found nothing at all and the budget leaves time
   for step 3 after it;
3. linear-barcode regions located (`regions.find_regions`), each turned level and decoded again;
4. each level region again, sharpened, then contrast-equalised, then stretched;
5. the whole frame again: sharpened, then equalised with inverted (light-on-dark) symbols allowed,
   then, for a small picture, enlarged.

Every read must hold up (`cross_checks`): one that contradicts an earlier read in the same place
is dropped, and a Code 39 or EAN-13 read found only in an enhanced picture needs a second look.

"Wanted" is any read, or, with a tag pattern, a text that matches it: a frame that shows only the
serial barcode keeps looking for the tag label. The expected costs are learned as the pipeline
runs, so the budget holds on a slow laptop as well as a fast one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from app.domain.tags import AssetTag
from app.scanning.cross_checks import (WEAK_SYMBOLOGIES, confirmed, contradicts,
                                        without_contradictions)
from app.scanning.decoders import Found, PyzbarDecoder, ZxingDecoder
from app.scanning.images import load_image, to_gray
from app.scanning.reads import TAG_SYMBOLOGIES, BarcodeRead, FrameReading, Symbology
from app.scanning.regions import Region, find_regions


@dataclass(frozen=True)
class DecodeSettings:
    """How hard to look: the symbologies in use, the time budget, and what counts as found."""

    symbologies: frozenset[Symbology] = TAG_SYMBOLOGIES
    budget_ms: float = 1000.0
    tag_pattern: str | None = None
    use_pyzbar: bool = True
    max_regions: int = 4

    @classmethod
    def for_camera(cls, tag_pattern: str | None, with_ean13: bool = False) -> "DecodeSettings":
        """Live frames: at most 80 ms each, so 10-12 decodes a second fit on one core.

        Most frames end well before that, once the tag is read; the budget bounds the frames that
        show no tag. (At 60 ms, a busy 2-core machine often ran out of time before levelling.)
        """
        return cls(_with_ean13(with_ean13), budget_ms=80.0, tag_pattern=tag_pattern)

    @classmethod
    def for_still(cls, tag_pattern: str | None = None, with_ean13: bool = False) -> "DecodeSettings":
        """An image file or a still capture: up to a second."""
        return cls(_with_ean13(with_ean13), budget_ms=1000.0, tag_pattern=tag_pattern)


def _with_ean13(with_ean13: bool) -> frozenset[Symbology]:
    return TAG_SYMBOLOGIES | {Symbology.EAN13} if with_ean13 else TAG_SYMBOLOGIES


# Starting guesses of each step's cost in ms per megapixel (2-core VM); refined as the pipeline runs.
_FIRST_COSTS = {"zxing": 24.0, "zxing-level": 10.0, "pyzbar": 70.0, "locate": 10.0}
_SMALL_PICTURE = 200_000  # pixels: below this (about 500x400), an enlarged copy is worth a try


class DecodePipeline:
    """Reads frames with one `DecodeSettings`. One instance per thread: it learns step costs."""

    def __init__(self, settings: DecodeSettings | None = None):
        self.settings = settings or DecodeSettings()
        self._zxing = ZxingDecoder(self.settings.symbologies)
        self._pyzbar = PyzbarDecoder(self.settings.symbologies) if self.settings.use_pyzbar else None
        self._costs = dict(_FIRST_COSTS)

    def read_file(self, path: str | os.PathLike) -> FrameReading:
        """Decode an image file; raises `images.UnreadableImage` if it is not a readable picture."""
        return self.read_frame(load_image(path))

    def read_frame(self, frame: np.ndarray) -> FrameReading:
        """Decode one frame (grey, BGR or BGRA numpy array)."""
        run = _Run(self.settings, time.perf_counter())
        gray = to_gray(frame)
        self._whole_frame(run, gray)
        levelled = self._level_regions(run, gray) if not run.done else []
        if not run.done:
            self._retry_regions(run, levelled)
        if not run.done:
            self._retry_frame(run, gray)
        return run.reading()

    def _whole_frame(self, run: "_Run", gray: np.ndarray) -> None:
        self._step(run, "zxing", gray, "frame", self._zxing.read, force=True)
        if run.reads or self._pyzbar is None or not self._pyzbar.available:
            return
        # pyzbar is slow on a large frame: run it only if the levelling step still fits after it,
        # since a tilted label, the usual reason zxing-cpp found nothing, needs that step.
        after = self._estimate("locate", gray.size) * 2
        if run.allows(self._estimate("pyzbar", gray.size) + after):
            self._step(run, "pyzbar", gray, "frame", self._pyzbar.read, decoder=self._pyzbar.name)

    def _level_regions(self, run: "_Run", gray: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        if not run.allows(self._estimate("locate", gray.size)):
            return []
        started = time.perf_counter()
        regions = find_regions(gray, self.settings.max_regions)
        self._learn("locate", gray.size, started)
        run.stages.append("locate")
        levelled = []
        for region in regions:
            if run.done or _already_read(region, run.reads):
                continue
            cut, matrix = region.level(gray)
            levelled.append((cut, matrix))
            self._step(run, "zxing-level", cut, "level", _upright(self._zxing), matrix)
        return levelled

    def _retry_regions(self, run: "_Run", levelled: list[tuple[np.ndarray, np.ndarray]]) -> None:
        for name, enhance in _ENHANCEMENTS:
            for cut, matrix in levelled:
                if run.done or not run.allows(self._estimate("zxing-level", cut.size) * 1.5):
                    return
                self._step(run, "zxing-level", enhance(cut), f"level+{name}",
                           _upright(self._zxing), matrix)

    def _retry_frame(self, run: "_Run", gray: np.ndarray) -> None:
        retries = [("sharpen", _sharpen, False), ("equalise", _equalise, True)]
        if gray.size < _SMALL_PICTURE:
            retries.append(("enlarge", _enlarge, False))
        for name, enhance, invert in retries:
            if run.done or not run.allows(self._estimate("zxing", gray.size) * 1.5):
                return
            matrix = _ENLARGE_MATRIX if enhance is _enlarge else None
            self._step(run, "zxing", enhance(gray), f"frame+{name}",
                       lambda image, invert=invert: self._zxing.read(image, try_invert=invert),
                       matrix)

    def _step(self, run: "_Run", cost: str, image: np.ndarray, stage: str,
              read: Callable[[np.ndarray], list[Found]], matrix: np.ndarray | None = None,
              force: bool = False, decoder: str = ZxingDecoder.name) -> None:
        """Run one decoder pass on `image` (frame -> image by `matrix`) and keep what holds up."""
        if not force and not run.allows(self._estimate(cost, image.size)):
            return
        started = time.perf_counter()
        found = without_contradictions(read(image))
        self._learn(cost, image.size, started)
        run.stages.append(stage)
        enhanced = "+" in stage
        for item in found:
            if enhanced and item.symbology in WEAK_SYMBOLOGIES and not confirmed(
                    item, self._second_looks(run, image)):
                continue
            run.add(item, matrix, decoder, stage)

    def _second_looks(self, run: "_Run", image: np.ndarray):
        """Independent looks at an enhanced picture, each only if there is time for it."""
        def by_pyzbar():
            if self._pyzbar is None or not self._pyzbar.available:
                return None
            return self._timed(run, "pyzbar", image, self._pyzbar.read)

        def by_other_sharpening():
            return self._timed(run, "zxing", image, lambda i: self._zxing.read(_sharpen_more(i)))

        def by_equalising():
            return self._timed(run, "zxing", image, lambda i: self._zxing.read(_equalise(i)))

        return (by_pyzbar, by_other_sharpening, by_equalising)

    def _timed(self, run: "_Run", cost: str, image: np.ndarray, read) -> list[Found] | None:
        if not run.allows(self._estimate(cost, image.size)):
            return None
        started = time.perf_counter()
        found = read(image)
        self._learn(cost, image.size, started)
        return found

    def _estimate(self, cost: str, pixels: int) -> float:
        return self._costs[cost] * pixels / 1e6

    def _learn(self, cost: str, pixels: int, started: float) -> None:
        per_megapixel = (time.perf_counter() - started) * 1000 / max(pixels, 1) * 1e6
        self._costs[cost] = 0.8 * self._costs[cost] + 0.2 * per_megapixel


class _Run:
    """One frame's decode in progress: the clock, the reads so far, and whether to stop."""

    def __init__(self, settings: DecodeSettings, started: float):
        self.settings = settings
        self.started = started
        self.reads: list[BarcodeRead] = []
        self.stages: list[str] = []
        self.out_of_time = False
        self.done = False

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def allows(self, estimate_ms: float) -> bool:
        if self.elapsed_ms() + estimate_ms <= self.settings.budget_ms:
            return True
        self.out_of_time = True
        return False

    def add(self, item: Found, matrix: np.ndarray | None, decoder: str, stage: str) -> None:
        """Keep a read unless it repeats or contradicts one already kept."""
        if any(r.symbology == item.symbology and r.text == item.text for r in self.reads):
            return
        corners = item.corners if matrix is None else _to_frame(item.corners, matrix)
        earlier = [Found(r.symbology, r.text, np.array(r.position, float)) for r in self.reads]
        if contradicts(Found(item.symbology, item.text, corners), earlier):
            return
        position = tuple((int(round(x)), int(round(y))) for x, y in corners)
        self.reads.append(BarcodeRead(item.symbology, item.text, position, decoder, stage,
                                      self.elapsed_ms()))
        pattern = self.settings.tag_pattern
        self.done = pattern is None or any(AssetTag.matches(r.text, pattern) for r in self.reads)

    def reading(self) -> FrameReading:
        return FrameReading(tuple(self.reads), self.elapsed_ms(), tuple(self.stages),
                            self.out_of_time and not self.done)


def _to_frame(corners: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    back = cv2.invertAffineTransform(matrix)
    return corners @ back[:, :2].T + back[:, 2]


def _upright(zxing: ZxingDecoder) -> Callable[[np.ndarray], list[Found]]:
    """zxing-cpp on a levelled region: its bars already stand upright."""
    return lambda image: zxing.read(image, try_rotate=False)


def _already_read(region: Region, reads: list[BarcodeRead]) -> bool:
    x, y = region.centre
    for read in reads:
        outline = np.array(read.position, np.float32)
        if cv2.pointPolygonTest(outline, (float(x), float(y)), False) >= 0:
            return True
    return False


def _sharpen(gray: np.ndarray) -> np.ndarray:
    soft = cv2.GaussianBlur(gray, (0, 0), 1.5)
    return cv2.addWeighted(gray, 2.0, soft, -1.0, 0)


def _equalise(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)


def _sharpen_more(gray: np.ndarray) -> np.ndarray:
    soft = cv2.GaussianBlur(gray, (0, 0), 2.5)
    return cv2.addWeighted(gray, 2.5, soft, -1.5, 0)


def _stretch(gray: np.ndarray) -> np.ndarray:
    return cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX)


def _enlarge(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


_ENLARGE_MATRIX = np.array([[2.0, 0, 0], [0, 2.0, 0]])
_ENHANCEMENTS = (("sharpen", _sharpen), ("equalise", _equalise), ("stretch", _stretch))
