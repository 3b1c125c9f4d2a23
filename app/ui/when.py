"""Stored times as the screens show them.

Times are stored as ISO 8601 with their offset (`2026-11-26T01:04:08.114842+00:00`); people read
`26 Nov 01:04`, in this computer's time zone.
"""

from __future__ import annotations

from datetime import datetime


def short_time(iso: str | None, never: str = "never") -> str:
    """`iso` as `26 Nov 01:04` (local time); `never` for None; the text itself if it is not a
    time (nothing a screen shows should fail on an odd value)."""
    if not iso:
        return never
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return f"{moment.day} {moment:%b %H:%M}"
