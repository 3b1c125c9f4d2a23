"""Choose the asset tag among everything read in one frame.

A laptop held up to the camera shows its asset-tag label and, often beside it, the manufacturer's
serial barcode. A text is the device's serial when `lookup_serial` knows it (the caller looks it
up in the register; this module has no database); otherwise it is a label tag when it matches the
station's tag pattern. A wrong tag is worse than none, so the choice is refused, with a message,
when two different tags are in view or the label and the serial name different devices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from app.domain.tags import DEFAULT_TAG_PATTERN, AssetTag, clean_scan, normalise_serial
from app.scanning.reads import BarcodeRead

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Given a scanned text, the asset tag of the device whose manufacturer serial it is, or None.
SerialLookup = Callable[[str], "str | None"]


@dataclass(frozen=True)
class TagChoice:
    """The asset tag chosen from one frame's reads, and how it was found.

    `label` is the read of an asset-tag label; `serial` the read of a known manufacturer serial
    and `serial_tag` the tag of the device it belongs to. `asset_tag` is set only when what was
    read points to one device; otherwise `problem` says why none was chosen.
    """

    asset_tag: AssetTag | None
    label: BarcodeRead | None = None
    serial: BarcodeRead | None = None
    serial_tag: AssetTag | None = None
    others: tuple[BarcodeRead, ...] = ()
    problem: str | None = None

    @property
    def via(self) -> str | None:
        """'label and serial', 'label', 'serial', or None when no tag was chosen."""
        if self.asset_tag is None:
            return None
        if self.label is not None and self.serial is not None:
            return "label and serial"
        return "label" if self.label is not None else "serial"


def choose_tag(reads: Iterable[BarcodeRead], tag_pattern: str = DEFAULT_TAG_PATTERN,
               lookup_serial: SerialLookup | None = None) -> TagChoice:
    """The asset tag among `reads`; `lookup_serial` is called with each text that may be a serial."""
    labels: dict[str, BarcodeRead] = {}
    serials: dict[str, tuple[BarcodeRead, AssetTag]] = {}
    others: list[BarcodeRead] = []
    for read in reads:
        device_tag = _device_of(read.text, lookup_serial)
        if device_tag is not None:
            serials.setdefault(device_tag.value, (read, device_tag))
        elif _is_tag(read.text, tag_pattern):
            labels.setdefault(clean_scan(read.text), read)
        else:
            others.append(read)
    return _decide(labels, serials, others)


def _is_tag(text: str, tag_pattern: str) -> bool:
    """A tag label's text: the pattern, once cleaned, and no line breaks or tabs inside.

    `clean_scan` drops control characters anywhere, as a wedge scanner's noise; a camera read has
    no such noise, and a QR code of several lines is not a tag once its breaks are removed.
    """
    return not _CONTROL.search(text.strip()) and AssetTag.matches(text, tag_pattern)


def _device_of(text: str, lookup_serial: SerialLookup | None) -> AssetTag | None:
    if lookup_serial is None:
        return None
    serial = normalise_serial(text)
    tag = lookup_serial(serial) if serial else None
    return AssetTag(clean_scan(tag)) if tag else None


def _decide(labels: dict[str, BarcodeRead], serials: dict[str, tuple[BarcodeRead, AssetTag]],
            others: list[BarcodeRead]) -> TagChoice:
    rest = tuple(others)
    if len(labels) > 1:
        return TagChoice(None, others=_all(labels, serials, rest),
                         problem=f"Two asset tags in view ({_listed(labels)}): show one device.")
    if len(serials) > 1:
        return TagChoice(None, others=_all(labels, serials, rest),
                         problem=f"Serials of two devices in view ({_listed(serials)}): "
                         "show one device.")
    label = next(iter(labels.items()), None)
    serial = next(iter(serials.values()), None)
    if label and serial and label[0] != serial[1].value:
        return TagChoice(None, label[1], serial[0], serial[1], rest,
                         problem=f"The label says {label[0]} but serial {serial[0].text} belongs "
                         f"to {serial[1].value}: check the label before going on.")
    if label:
        return TagChoice(AssetTag(label[0]), label[1], serial and serial[0],
                         serial and serial[1], rest)
    if serial:
        return TagChoice(serial[1], None, serial[0], serial[1], rest)
    return TagChoice(None, others=rest)


def _all(labels, serials, rest) -> tuple[BarcodeRead, ...]:
    return tuple(labels.values()) + tuple(read for read, _ in serials.values()) + rest


def _listed(found: dict) -> str:
    return " and ".join(sorted(found))
