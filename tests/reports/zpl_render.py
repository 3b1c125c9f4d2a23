"""A small ZPL-to-image step for the tests: enough of ZPL II to print our Code 128 labels.

It reads ^PW/^LL (label size), ^FO (field origin), ^BY (module width in dots) and ^BC (Code 128,
height) with ^FD (data), and paints the bars a Zebra printer would, dot for dot. Text fields
(^A) are not drawn: only the bars matter for scanning.
"""

from __future__ import annotations

import re

import barcode
import numpy as np


def render(zpl: str) -> list[np.ndarray]:
    """One grey image (white 255, black 0) per ^XA...^XZ label."""
    return [_label(job) for job in re.findall(r"\^XA(.*?)\^XZ", zpl, re.S)]


def _label(job: str) -> np.ndarray:
    width = int(re.search(r"\^PW(\d+)", job).group(1))
    height = int(re.search(r"\^LL(\d+)", job).group(1))
    image = np.full((height, width), 255, np.uint8)
    origin, module = (0, 0), 2
    for command in re.findall(r"\^[A-Z0-9]{2}[^\^]*", job):
        name, params = command[1:3], command[3:]
        if name == "FO":
            x, y = (int(v) for v in params.split(",")[:2])
            origin = (x, y)
        elif name == "BY":
            module = int(params.split(",")[0])
        elif name == "BC":
            bar_height = int(params.split(",")[1])
            data = re.search(r"\^FD(.*?)\^FS", job[job.index(command):]).group(1)
            modules = barcode.get("code128", data).build()[0]
            for i, bit in enumerate(modules):
                if bit == "1":
                    x = origin[0] + i * module
                    image[origin[1]:origin[1] + bar_height, x:x + module] = 0
    return np.pad(image, 20, constant_values=255)
