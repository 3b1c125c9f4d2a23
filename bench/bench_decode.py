"""Benchmark: plain pyzbar, plain zxing-cpp and the decode pipeline, one row per picture set.

    python bench/bench_decode.py [--frames N] [--corpus DIR]

Sets: every folder of the public corpus (../shared/corpus/barcodes, or $EXCHANGE_BARCODE_CORPUS,
when present), and synthetic 1280x720 webcam frames of an asset-tag label beside a serial label,
tilted at any angle (app.scanning.label_scenes), plus frames with no label at all.

For each decoder: correct (pictures where the expected text was read), wrong (pictures where
some text read is neither expected nor a symbol known to be in the picture too), the median
and p95 wall-clock ms per picture, one call each, and the median CPU ms of this process (less
swayed by other work on the machine). Plain pyzbar and plain zxing-cpp are restricted to the
station's symbologies (EAN-13 only on EAN-13 sets); zxing-cpp keeps its defaults. The
pipeline runs as the station would: still-picture settings on the corpus, live-camera settings
(80 ms budget, the station tag pattern) on webcam frames. "pipeline-untimed" is the same with no
time budget: what it can read, against what it reads in time on this machine at this moment.
Not a test: it prints, never fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from pyzbar import pyzbar  # noqa: E402

from app.scanning.images import load_image, to_gray  # noqa: E402
from app.scanning.label_scenes import Label, Scene, paint_frame, random_scene  # noqa: E402
from app.scanning.pipeline import DecodePipeline, DecodeSettings  # noqa: E402

STATION_PATTERN = r"IT-\d{6}"
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "barcodes"
# Symbols genuinely in the corpus pictures besides the expected one (same list as the tests).
OTHER_SYMBOLS = {
    "ean13-2": {"9784872348880", "1920081045006"},
    "code39-3": {"001EC947D49B", "001EC9476B0A"},
    "qrcode-2": {"[内側QRコード]\r\n\r\n*ダブルQR*\r\nhttp://d-qr.net/ex/"},
}
DECODERS = ("pyzbar", "zxing-cpp", "pipeline", "pipeline-untimed")


@dataclass
class Tally:
    correct: int = 0
    wrong: int = 0
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def cell(self) -> str:
        median = statistics.median(self.ms) if self.ms else 0.0
        p95 = float(np.percentile(self.ms, 95)) if self.ms else 0.0
        cpu = statistics.median(self.cpu_ms) if self.cpu_ms else 0.0
        return f"{self.correct} ({self.wrong}) {median:.1f}/{p95:.1f} [{cpu:.1f}]"


@dataclass
class Picture:
    gray: np.ndarray
    expected: str | None
    allowed: set[str]


class Contenders:
    """The three ways to read a picture, for one set's symbologies."""

    def __init__(self, ean13: bool, camera: bool):
        formats = [zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.Code39,
                   zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix]
        symbols = [pyzbar.ZBarSymbol.CODE128, pyzbar.ZBarSymbol.CODE39, pyzbar.ZBarSymbol.QRCODE]
        if ean13:
            formats.append(zxingcpp.BarcodeFormat.EAN13)
            symbols.append(pyzbar.ZBarSymbol.EAN13)
        self.formats, self.symbols = formats, symbols
        settings = (DecodeSettings.for_camera(STATION_PATTERN, ean13) if camera
                    else DecodeSettings.for_still(None, ean13))
        self.pipeline = DecodePipeline(settings)
        self.untimed = DecodePipeline(replace(settings, budget_ms=60_000.0))

    def read(self, decoder: str, gray: np.ndarray) -> list[str]:
        if decoder == "pyzbar":
            return [_zbar_text(r.data) for r in pyzbar.decode(gray, symbols=self.symbols)]
        if decoder == "zxing-cpp":
            return [r.text for r in zxingcpp.read_barcodes(
                gray, formats=self.formats, text_mode=zxingcpp.TextMode.Plain)]
        pipeline = self.untimed if decoder == "pipeline-untimed" else self.pipeline
        return pipeline.read_frame(gray).texts


def _zbar_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def run_set(pictures: list[Picture], contenders: Contenders) -> dict[str, Tally]:
    tallies = {decoder: Tally() for decoder in DECODERS}
    warm = pictures[0].gray
    for decoder in DECODERS:
        contenders.read(decoder, warm)
    for picture in pictures:
        for decoder in DECODERS:
            started, cpu_started = time.perf_counter(), time.process_time()
            texts = contenders.read(decoder, picture.gray)
            tally = tallies[decoder]
            tally.ms.append((time.perf_counter() - started) * 1000)
            tally.cpu_ms.append((time.process_time() - cpu_started) * 1000)
            tally.correct += picture.expected is not None and picture.expected in texts
            tally.wrong += any(t != picture.expected and t not in picture.allowed for t in texts)
    return tallies


def corpus_sets(root: Path):
    if not root.is_dir():
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        pictures = []
        for image in sorted(folder.glob("*.png")):
            text = image.with_name(image.name.split(".")[0] + ".txt").read_bytes().decode("utf-8")
            pictures.append(Picture(load_image(image), text, OTHER_SYMBOLS.get(folder.name, set())))
        if pictures:
            yield folder.name, pictures, Contenders(folder.name.startswith("ean13"), camera=False)


def webcam_sets(frames: int):
    rng = np.random.default_rng(2026)
    for symbology, count in (("code128", frames), ("code39", frames), ("qr", frames // 2),
                             ("datamatrix", frames // 2)):
        pictures = []
        for _ in range(count):
            tag = f"IT-{rng.integers(0, 999999):06d}"
            serial = f"5CG{rng.integers(0, 9999999):07d}"
            overrides = {"tag": Label(tag, symbology, module_px=float(rng.uniform(4.5, 6)))} \
                if symbology in ("qr", "datamatrix") else {}
            scene = random_scene(rng, tag, serial, symbology, **overrides)
            pictures.append(Picture(to_gray(paint_frame(scene)), tag, {serial}))
        yield f"webcam-{symbology}", pictures, Contenders(False, camera=True)
    empty = [Picture(to_gray(_empty_frame(rng)), None, set()) for _ in range(frames // 2)]
    yield "webcam-no-label", empty, Contenders(False, camera=True)


def _empty_frame(rng: np.random.Generator) -> np.ndarray:
    scene = random_scene(rng, "IT-000000", None)
    frame = paint_frame(Scene(**{**scene.__dict__, "tag": Label("IT-000000", module_px=0.3)}))
    return frame  # a label too small to hold a readable symbol: desk, lid, text, vent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="webcam frames per 1D set")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("EXCHANGE_BARCODE_CORPUS") or DEFAULT_CORPUS))
    options = parser.parse_args()
    print(f"# decode benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, Python "
          f"{platform.python_version()}, OpenCV {cv2.__version__}, zxing-cpp "
          f"{metadata.version('zxing-cpp')}, pyzbar {metadata.version('pyzbar')}")
    print("cells: correct (wrong) median/p95 wall-clock ms per picture [median CPU ms of this "
          "process]; pipeline-untimed is the pipeline with no time budget\n")
    print("| set | pictures | " + " | ".join(DECODERS) + " |")
    print("|---|---|" + "---|" * len(DECODERS))
    sources = [corpus_sets(options.corpus), webcam_sets(options.frames)]
    for source in sources:
        for name, pictures, contenders in source:
            tallies = run_set(pictures, contenders)
            cells = " | ".join(tallies[d].cell() for d in DECODERS)
            print(f"| {name} | {len(pictures)} | {cells} |", flush=True)
    if not options.corpus.is_dir():
        print(f"\n(no corpus at {options.corpus}: webcam sets only)")


if __name__ == "__main__":
    main()
