"""StationConfig: the station's settings, loaded once; nothing else reads settings.

The data directory holds the database and an optional `station.toml` for settings IT may
change (tag pattern, approved build, scanner timing). Station id and site live in the
database, written by `init`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from app.domain.devices import BuildPolicy
from app.domain.rules import BadInput
from app.domain.tags import DEFAULT_TAG_PATTERN

APP_NAME = "ExchangeStation"
APP_AUTHOR = "ExchangeStation"
SETTINGS_FILE = "station.toml"


def default_data_dir() -> Path:
    configured = os.environ.get("EXCHANGE_DATA_DIR")
    return Path(configured) if configured else Path(user_data_dir(APP_NAME, APP_AUTHOR))


@dataclass(frozen=True)
class StationConfig:
    data_dir: Path
    tag_pattern: str = DEFAULT_TAG_PATTERN
    build_policy: BuildPolicy = field(default_factory=BuildPolicy)
    scan_max_key_gap_ms: int = 50
    scan_repeat_ignore_ms: int = 1000
    #: the central PostgreSQL database the window syncs with (no password: PGPASSWORD/.pgpass)
    central_url: str | None = None
    sync_interval_s: int = 300

    @classmethod
    def load(cls, data_dir: Path | None = None) -> "StationConfig":
        data_dir = Path(data_dir) if data_dir else default_data_dir()
        settings_path = data_dir / SETTINGS_FILE
        if not settings_path.exists():
            return cls(data_dir=data_dir)
        try:
            settings = tomllib.loads(settings_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise BadInput(f"{settings_path} is not valid TOML ({exc}): fix or remove it") from None
        return cls(
            data_dir=data_dir,
            tag_pattern=str(settings.get("tag_pattern", DEFAULT_TAG_PATTERN)),
            build_policy=BuildPolicy(float(settings.get("min_windows_version", 10))),
            scan_max_key_gap_ms=int(settings.get("scan_max_key_gap_ms", 50)),
            scan_repeat_ignore_ms=int(settings.get("scan_repeat_ignore_ms", 1000)),
            central_url=settings.get("central_url") or None,
            sync_interval_s=max(30, int(settings.get("sync_interval_s", 300))),
        )


def save_setting(data_dir: Path, key: str, value: str) -> None:
    """Set one string setting in `station.toml`, keeping the file's other lines as they are."""
    path = Path(data_dir) / SETTINGS_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    line = f"{key} = {json.dumps(value)}"  # a JSON string is a valid TOML basic string
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    lines = [line if pattern.match(old) else old for old in lines]
    if line not in lines:
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
