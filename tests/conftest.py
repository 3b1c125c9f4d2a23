"""Shared fixtures: a real station database in a temporary folder, and PostgreSQL (plugin)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.pg_plugin"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ADMIN, LEAD, ENGINEER = "A1", "L1", "E1"
PINS = {ADMIN: "1111", LEAD: "2222", ENGINEER: "3333"}
SITE = "Hutton HQ"


@pytest.fixture
def station(tmp_path: Path):
    """A new station with an admin, a site lead and an engineer, and no people or devices."""
    from app.bootstrap import open_station
    from app.services import auth
    from app.services import station as station_service

    opened = open_station(tmp_path / "station", create=True)
    station_service.initialise(opened.context, "HQ-01", SITE)
    admin = auth.add_operator(opened.context, None, ADMIN, "Ada Admin", "admin", PINS[ADMIN])
    auth.add_operator(opened.context, admin, LEAD, "Lee Lead", "site_lead", PINS[LEAD])
    auth.add_operator(opened.context, admin, ENGINEER, "Eve Engineer", "engineer", PINS[ENGINEER])
    yield opened
    opened.close()


def write_csv(folder: Path, name: str, header: str, *rows: str) -> Path:
    path = folder / name
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path
