"""Asset tags: what a scanner or a keyboard typed, cleaned of scanner noise and checked.

Scanners add noise: an AIM symbology identifier (`]C0` for Code 128, `]A0` Code 39, `]Q1` QR,
`]d2` Data Matrix), a CR/LF or Tab suffix, control characters, lower case from a Caps Lock.
`clean_scan()` strips all of it; `AssetTag.parse()` also checks the station's pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.rules import BadInput

#: Default station pattern: 4 to 20 of A-Z, 0-9 and '-', starting with a letter.
DEFAULT_TAG_PATTERN = r"[A-Z][A-Z0-9-]{3,19}"

_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_scan(text: str) -> str:
    """Return the scanned text without AIM prefix, control characters, spaces or lower case."""
    text = _CONTROL.sub("", text).strip()
    while _AIM_PREFIX.match(text):
        text = _AIM_PREFIX.sub("", text, count=1).strip()
    return text.upper()


@dataclass(frozen=True, order=True)
class AssetTag:
    """A normalised asset tag that matches the station's tag pattern."""

    value: str

    @classmethod
    def parse(cls, text: str, pattern: str = DEFAULT_TAG_PATTERN) -> "AssetTag":
        cleaned = clean_scan(text)
        if not re.fullmatch(pattern, cleaned):
            raise BadInput(
                f"'{printable(text)}' is not an asset tag: a tag is 4 to 20 letters, digits or '-', "
                "starting with a letter (station pattern "
                f"{pattern}). Scan the asset-tag label, not the serial barcode."
                if pattern == DEFAULT_TAG_PATTERN
                else f"'{printable(text)}' is not an asset tag: it does not match the station "
                f"pattern {pattern}."
            )
        return cls(cleaned)

    @staticmethod
    def matches(text: str, pattern: str = DEFAULT_TAG_PATTERN) -> bool:
        return re.fullmatch(pattern, clean_scan(text)) is not None

    def __str__(self) -> str:
        return self.value


def normalise_serial(text: str) -> str:
    """A manufacturer serial as stored and looked up: trimmed, upper case, no control characters."""
    return _CONTROL.sub("", text).strip().upper()


def printable(text: str, limit: int = 40) -> str:
    """Text safe to show in a message: control characters made visible, long text shortened."""
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
