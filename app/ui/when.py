"""Stored times as the screens show them.

Times are stored as ISO 8601 with their offset (`2026-11-26T01:04:08.114842+00:00`); people read
`26 Nov 01:04`, in this computer's time zone.
"""

from __future__ import annotations

from datetime import datetime


def short_time(iso: str | None, never: str = "never") -> str:
    """`iso` as `26 Nov 01:04` (local time), with the year when it is not this year's, and
    without the time for a date alone; `never` for None or ''; the text itself if it is not a
    time (nothing a screen shows should fail on an odd value)."""
    if not iso:
        return never
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    day = f"{moment.day} {moment:%b}"
    if moment.year != datetime.now().year:
        day += f" {moment.year}"
    return day if len(str(iso)) == 10 else f"{day} {moment:%H:%M}"
