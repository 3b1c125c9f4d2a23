"""Synthetic webcam pictures of asset-tag labels, for the tests, the benchmark and demos.

A `Label` is drawn from the symbol's own module pattern (python-barcode for 1D codes, zxing-cpp
for QR and Data Matrix), scaled to a given number of pixels per module. A `Scene` places the
asset-tag label and, beside it, the manufacturer's serial label on a laptop lid in a 1280x720
frame, tilted at any angle, then blurs it like a defocused webcam and adds sensor noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

_FINE = 8  # pixels per module of the sharp master before it is scaled down


@dataclass(frozen=True)
class Label:
    """One printed label: a symbol of `text`, drawn at `module_px` pixels per narrow bar."""

    text: str
    symbology: str = "code128"  # code128, code39, ean13, qr or datamatrix
    module_px: float = 3.0
    caption: str = ""
    bar_height_modules: int = 40


@dataclass(frozen=True)
class Scene:
    """A webcam frame: the tag label (and a serial label beside it) tilted by `angle` degrees."""

    tag: Label
    serial: Label | None = None
    angle: float = 0.0
    centre: tuple[float, float] = (0.5, 0.5)  # of the tag label, as fractions of the frame
    blur_sigma: float = 0.6
    noise_sigma: float = 5.0
    gain: float = 1.0
    size: tuple[int, int] = (1280, 720)
    seed: int = 0
    clutter: bool = True
    extra: dict = field(default_factory=dict, compare=False)


def symbol_modules(text: str, symbology: str) -> np.ndarray:
    """The symbol as a 2D array of 0 (dark) and 1 (light) modules, quiet zone included."""
    if symbology in ("code128", "code39", "ean13"):
        import barcode

        options = {"add_checksum": False} if symbology == "code39" else None
        row = barcode.get(symbology, text, options=options).build()[0]
        bars = np.array([0 if c == "1" else 1 for c in row], np.uint8)
        return np.pad(bars, 10, constant_values=1)[None, :]
    import zxingcpp

    fmt = {"qr": zxingcpp.BarcodeFormat.QRCode, "datamatrix": zxingcpp.BarcodeFormat.DataMatrix}
    image = np.asarray(zxingcpp.create_barcode(text, fmt[symbology]).to_image(scale=1))
    return (image > 127).astype(np.uint8)


def render_label(label: Label) -> np.ndarray:
    """The label as a grey image: white paper, the symbol, and a caption line under it."""
    modules = symbol_modules(label.text, label.symbology)
    if modules.shape[0] == 1:
        modules = np.repeat(modules, label.bar_height_modules, axis=0)
    master = np.kron(modules, np.ones((_FINE, _FINE), np.uint8)) * 255
    scale = label.module_px / _FINE
    width = max(1, round(master.shape[1] * scale))
    height = max(1, round(master.shape[0] * scale))
    symbol = cv2.resize(master, (width, height), interpolation=cv2.INTER_AREA)
    caption = label.caption or label.text
    text_px = max(12, int(height * 0.22)) if modules.shape[0] > 1 and label.symbology in (
        "code128", "code39", "ean13") else max(12, int(width * 0.12))
    font_scale = text_px / 30
    margin = max(6, int(4 * label.module_px))
    paper = np.full((height + text_px + 3 * margin, width + 2 * margin), 250, np.uint8)
    paper[margin : margin + height, margin : margin + width] = symbol
    baseline = margin + height + margin + text_px
    cv2.putText(paper, caption, (margin, baseline), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                30, max(1, int(font_scale * 2)), cv2.LINE_AA)
    return paper


def paint_frame(scene: Scene) -> np.ndarray:
    """The scene as a BGR webcam frame (uint8, height x width x 3)."""
    rng = np.random.default_rng(scene.seed)
    width, height = scene.size
    frame = _desk(width, height, rng)
    tag = render_label(scene.tag)
    cx, cy = scene.centre[0] * width, scene.centre[1] * height
    lid = _lid_box(cx, cy, tag.shape, scene.angle, width, height)
    cv2.fillConvexPoly(frame, lid, 58)
    if scene.clutter:
        _clutter(frame, lid, rng)
    _place(frame, tag, cx, cy, scene.angle)
    if scene.serial is not None:
        serial = render_label(scene.serial)
        gap = tag.shape[0] / 2 + serial.shape[0] / 2 + 14
        rad = math.radians(scene.angle)
        # beside the tag label, below it in the label's own frame of reference
        sx, sy = cx - gap * math.sin(rad), cy + gap * math.cos(rad)
        _place(frame, serial, sx, sy, scene.angle)
    return _camera(frame, scene, rng)


def random_scene(rng: np.random.Generator, tag_text: str, serial_text: str | None = None,
                 symbology: str = "code128", **overrides) -> Scene:
    """A plausible counter scene: any angle, 2.6-3.6 px per module, mild defocus and noise."""
    values = dict(
        tag=Label(tag_text, symbology, module_px=float(rng.uniform(2.6, 3.6))),
        serial=Label(serial_text, "code128", module_px=float(rng.uniform(2.4, 3.2)),
                     caption=f"S/N {serial_text}") if serial_text else None,
        angle=float(rng.uniform(0, 360)),
        centre=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.4, 0.6))),
        blur_sigma=float(rng.uniform(0.3, 0.9)),
        noise_sigma=float(rng.uniform(2, 7)),
        gain=float(rng.uniform(0.75, 1.1)),
        seed=int(rng.integers(0, 2**31)),
    )
    values.update(overrides)
    return Scene(**values)


def _desk(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    grey = 95 + 60 * x + 25 * y + 3 * rng.standard_normal((height, width), np.float32)
    return np.clip(grey, 0, 255).astype(np.uint8)


def _lid_box(cx, cy, label_shape, angle, width, height) -> np.ndarray:
    half = max(label_shape) * 1.4 + 60
    box = cv2.boxPoints(((cx, cy + half * 0.3), (2.2 * half, 2 * half), angle))
    return np.clip(box, [-50, -50], [width + 50, height + 50]).astype(np.int32)


def _clutter(frame: np.ndarray, lid: np.ndarray, rng: np.random.Generator) -> None:
    """Printed text and a vent grille near the label, the things a locator must not chase."""
    x0, y0 = lid.min(axis=0)
    x1, y1 = lid.max(axis=0)
    words = ["Intel Core i5", "Windows 11 Pro", "Model TP00123A", "Made in China", "19V 3.42A"]
    for i, word in enumerate(words):
        x = int(rng.uniform(x0, max(x0 + 1, x1 - 200)))
        y = int(rng.uniform(y0 + 20, max(y0 + 21, y1)))
        cv2.putText(frame, word, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 150, 1, cv2.LINE_AA)
    gx = int(rng.uniform(0, frame.shape[1] - 300))
    for k in range(12):
        cv2.rectangle(frame, (gx + k * 14, 40), (gx + k * 14 + 6, 110), 35, -1)


def _place(frame: np.ndarray, label: np.ndarray, cx: float, cy: float, angle: float) -> None:
    h, w = label.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    matrix[:, 2] += (cx - w / 2, cy - h / 2)
    size = (frame.shape[1], frame.shape[0])
    paper = cv2.warpAffine(label, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpAffine(np.full_like(label, 255), matrix, size, flags=cv2.INTER_LINEAR)
    alpha = mask.astype(np.float32) / 255
    blended = frame * (1 - alpha) + paper * alpha
    frame[:] = np.clip(blended, 0, 255).astype(np.uint8)


def _camera(frame: np.ndarray, scene: Scene, rng: np.random.Generator) -> np.ndarray:
    image = frame.astype(np.float32)
    if scene.blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), scene.blur_sigma)
    height, width = image.shape
    y, x = np.ogrid[:height, :width]
    vignette = 1 - 0.25 * (((x - width / 2) / width) ** 2 + ((y - height / 2) / height) ** 2)
    noise = scene.noise_sigma * rng.standard_normal(image.shape, np.float32)
    image = image * (vignette * scene.gain).astype(np.float32) + noise
    grey = np.clip(image, 0, 255).astype(np.uint8)
    tint = np.array([1.0, 0.98, 0.94], np.float32)  # warm office light, B G R
    return np.clip(grey[:, :, None] * tint, 0, 255).astype(np.uint8)
