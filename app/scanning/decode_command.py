"""`exchange-station decode IMAGE... [--json]`: print the barcodes, asset tag first, of each image.

Text output is one line per image: the file, a tab, then the texts found separated by tabs, the
asset tag first; just the file when nothing was read. Control characters inside a text (a QR code
may hold line breaks) are written as `\\n`, `\\r`, `\\t` or `\\xNN` so each image stays on one
line. With `--json`, one JSON list with an object per image. A missing or unreadable file gets a
message on stderr and exit code 4, after the other images have been decoded.
"""

from __future__ import annotations

import json
import re
from typing import TextIO

from app.domain.tags import DEFAULT_TAG_PATTERN
from app.scanning.images import UnreadableImage
from app.scanning.pipeline import DecodePipeline, DecodeSettings
from app.scanning.reads import BarcodeRead, FrameReading
from app.scanning.tag_choice import TagChoice, choose_tag

EXIT_DONE = 0
EXIT_USAGE = 2
EXIT_BAD_INPUT = 4

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def run_decode(paths: list[str], as_json: bool, stdout: TextIO, stderr: TextIO,
               tag_pattern: str = DEFAULT_TAG_PATTERN, with_ean13: bool = False) -> int:
    """Decode each image in `paths` and print the results; return the exit code (0, 2 or 4)."""
    if not paths:
        stderr.write("exchange-station decode: give at least one image file.\n")
        return EXIT_USAGE
    pipeline = DecodePipeline(DecodeSettings.for_still(tag_pattern, with_ean13))
    documents, failed = [], False
    for path in paths:
        try:
            reading = pipeline.read_file(path)
        except UnreadableImage as error:
            failed = True
            stdout.flush()  # keep the message next to the lines of the images before it
            stderr.write(f"exchange-station decode: {error.user_message}\n")
            documents.append(_unreadable_document(path, error))
            continue
        choice = choose_tag(reading.reads, tag_pattern)
        documents.append(_document(path, reading, choice))
        if not as_json:
            _write(stdout, _line(path, reading, choice) + "\n")
    if as_json:
        _write(stdout, json.dumps(documents, indent=2) + "\n")
    return EXIT_BAD_INPUT if failed else EXIT_DONE


def _ordered(reading: FrameReading, choice: TagChoice) -> list[BarcodeRead]:
    """The reads with the asset-tag label first."""
    first = [choice.label] if choice.asset_tag is not None and choice.label is not None else []
    return first + [read for read in reading.reads if read is not choice.label or not first]


def _line(path: str, reading: FrameReading, choice: TagChoice) -> str:
    texts = []
    for read in _ordered(reading, choice):
        is_tag = choice.asset_tag is not None and read is choice.label
        texts.append(choice.asset_tag.value if is_tag else _one_line(read.text))
    return "\t".join([_one_line(path), *texts])


def _document(path: str, reading: FrameReading, choice: TagChoice) -> dict:
    results = []
    for read in _ordered(reading, choice):
        result = read.as_dict()
        result["asset_tag"] = choice.asset_tag is not None and read is choice.label
        results.append(result)
    return {
        "file": path,
        "asset_tag": choice.asset_tag.value if choice.asset_tag else None,
        "results": results,
        "ms": round(reading.ms, 1),
        "problem": choice.problem,
        "error": None,
    }


def _unreadable_document(path: str, error: UnreadableImage) -> dict:
    return {"file": path, "asset_tag": None, "results": [], "ms": 0.0, "problem": None,
            "error": {"code": error.error_code, "message": error.user_message}}


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def _write(stream: TextIO, text: str) -> None:
    """Write `text`, escaping what the stream's encoding cannot hold (a Windows code page)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        stream.write(text)
    except UnicodeEncodeError:
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
