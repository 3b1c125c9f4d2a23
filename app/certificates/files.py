"""A report file as read from disk: bounded in size, hashed, decoded carefully.

Every reader gets a `ReportFile` (the original bytes, their SHA-256) and raises
`UnreadableReport` (exit 4, nothing recorded) with a message that names the file and says what
is wrong. Also the small parsing helpers the readers share: times and method categories.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from app.domain.rules import BadInput
from app.domain.sanitisation import MethodCategory, ReportOrigin

#: No real erasure report comes near this; a bigger file is refused before it is read.
MAX_REPORT_BYTES = 16 * 1024 * 1024


class UnreadableReport(BadInput):
    """A file that is not a sanitisation report we can read (exit 4; nothing is recorded)."""


@dataclass(frozen=True)
class ReportFile:
    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def refuse(self, reason: str) -> UnreadableReport:
        return UnreadableReport(f"{self.name}: {reason}; nothing was recorded")

    def text(self) -> str:
        """The content as text: UTF-8 (with or without BOM) or UTF-16 with a BOM, else refused."""
        data = self.content
        try:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                return data.decode("utf-16")
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise self.refuse(f"the text is not UTF-8 (byte {exc.start} is invalid): export "
                              "the report again as UTF-8") from None

    def origin(self, media_type: str, reader: str, version: str) -> ReportOrigin:
        return ReportOrigin(self.name, self.sha256, len(self.content), media_type, reader,
                            version)


def load_report_file(path: Path, limit: int = MAX_REPORT_BYTES) -> ReportFile:
    """Read `path` whole, refusing a missing, special or too large file before reading it."""
    path = Path(path)
    try:
        if not path.is_file():
            raise UnreadableReport(f"{path}: no such report file; nothing was recorded")
        size = path.stat().st_size
        if size > limit:
            raise UnreadableReport(
                f"{path.name}: the file is {size / 1_048_576:.0f} MB, more than the "
                f"{limit // 1_048_576} MB a sanitisation report may be; nothing was recorded")
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
    except OSError as exc:
        raise UnreadableReport(f"{path}: cannot be read ({exc.strerror}); nothing was "
                               "recorded") from None
    if len(content) > limit:
        raise UnreadableReport(f"{path.name}: the file grew past {limit // 1_048_576} MB while "
                               "being read; nothing was recorded")
    if not content.strip():
        raise UnreadableReport(f"{path.name}: the file is empty; nothing was recorded")
    return ReportFile(path.name, content)


# -- times -----------------------------------------------------------------------------------

_LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                  "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_time(text: str | None, zone: tzinfo | None = None) -> datetime | None:
    """A report time as an aware datetime: ISO with offset as given; a local time without zone
    in `zone` (the report's own offset when it has one elsewhere), else the station's zone."""
    text = (text or "").strip()
    if not text or text.lower() in {"none", "null", "unknown"}:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = next((m for m in (_strptime(text, f) for f in _LOCAL_FORMATS) if m), None)
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone) if zone else moment.astimezone()
    return moment


def from_epoch(value: object) -> datetime | None:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


# -- method names ----------------------------------------------------------------------------

_VERIFY_ONLY = re.compile(r"^\s*verif(y|ication)\b|verify\s+(zeros|ones)", re.IGNORECASE)
_DESTRUCT = re.compile(r"destr|shredd|crush|disintegrat|pulveri|incinerat|melt|smelt|"
                       r"physical", re.IGNORECASE)
_PURGE = re.compile(r"purge|crypto|sanitize|sanitise|secure.?erase|block.?erase|firmware|"
                    r"ssd erasure|degauss|nvme format|ios erasure|android", re.IGNORECASE)


def method_category(name: str, *, overwrite_default: bool = True) -> str:
    """The NIST category a tool's method name claims: Destruct, Purge, Clear, or none for a
    verification-only method. Anything else that a wiping tool names is an overwrite (Clear)."""
    if not name.strip():
        return ""
    if _VERIFY_ONLY.search(name):
        return MethodCategory.NONE.value
    if _DESTRUCT.search(name):
        return MethodCategory.DESTRUCT.value
    if _PURGE.search(name):
        return MethodCategory.PURGE.value
    return MethodCategory.CLEAR.value if overwrite_default else ""


def first(*values: object) -> str:
    """The first value that is a non-empty string after trimming ('None' counts as empty)."""
    for value in values:
        text = str(value).strip() if value is not None else ""
        if text and text.lower() != "none":
            return text
    return ""


def as_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
