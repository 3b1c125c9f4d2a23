"""What every service is given: a way to open a unit of work, and the station's config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.config import StationConfig


@dataclass(frozen=True)
class ServiceContext:
    #: `uow_factory()` opens a write transaction; `uow_factory(write=False)` a read-only one.
    uow_factory: Callable[..., Any]
    config: StationConfig
    #: makes the sync runner (app.sync) for this station; None where sync is not wired
    sync_runner: Callable[[], Any] | None = None
