"""The original report files, kept unmodified under the data directory.

`<data dir>/certificates/<first two hex digits>/<sha256><suffix>`: content-addressed, so the
same file is stored once, a stored file is never overwritten, and its name proves its content.
A file is written (atomically: temporary name, fsync, rename) before the database transaction
that records it commits; a failed transaction leaves at most an unreferenced copy.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from app.certificates.files import ReportFile
from app.domain.rules import BadInput

FOLDER = "certificates"


class ReportArchive:
    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / FOLDER

    def keep(self, report: ReportFile) -> str:
        """Store `report` (once); return its path relative to the archive."""
        sha = report.sha256
        suffix = Path(report.name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"
        relative = f"{sha[:2]}/{sha}{suffix}"
        target = self.root / relative
        if target.exists():
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            handle.write(report.content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        return relative

    def read(self, relative: str) -> bytes:
        """The stored bytes, checked against the hash in their name."""
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents:
            raise BadInput(f"{relative} is not in the certificate archive")
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != path.stem:
            raise BadInput(f"the stored report {relative} has been altered: its SHA-256 no "
                           "longer matches")
        return content
