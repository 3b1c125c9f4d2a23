"""The station and its reclamation tasks, as the services see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StationInfo:
    station_id: str
    site: str
    epoch: str
    acked_seq: int = 0
    last_sync_at: str | None = None
    granted_units: int = 0
    released_units: int = 0
    counter_laptops: int = 0
    courier_laptops: int = 0


@dataclass(frozen=True)
class ReclamationTask:
    """R4: a sole-use desktop to bring back after its user received a laptop."""

    task_id: int
    tag: str
    staff_id: str
    exchange_id: str
    status: str
    created_at: str
