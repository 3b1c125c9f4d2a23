"""The events that record every change: append-only, one per action, carried by sync.

A service builds a `DomainEvent` (what happened, as plain JSON-able data); the unit of work
stamps it with a UUID, the station, its gap-free sequence number, the operator and the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

STATION_INITIALISED = "station.initialised"
OPERATOR_ADDED = "operator.added"
PEOPLE_IMPORTED = "people.imported"
DEVICES_IMPORTED = "devices.imported"
STOCK_IMPORTED = "stock.imported"
DEVICE_RECEIVED = "device.received"
EXCHANGE_RECORDED = "exchange.recorded"
COURIER_COLLECTED = "courier.collected"
DESKTOP_RECLAIMED = "desktop.reclaimed"
DISKS_RECORDED = "device.disks_recorded"
SANITISATION_CERTIFIED = "sanitisation.certified"
SANITISATION_REVIEW_QUEUED = "sanitisation.review_queued"
DEVICE_RELEASED = "device.released"
CONFLICT_RESOLVED = "conflict.resolved"  # a site lead's decision on a sync conflict
ESCROW_RELEASED = "escrow.released"  # courier allowance units given back to central's pool

ALL_TYPES = frozenset({
    STATION_INITIALISED, OPERATOR_ADDED, PEOPLE_IMPORTED, DEVICES_IMPORTED, STOCK_IMPORTED,
    DEVICE_RECEIVED, EXCHANGE_RECORDED, COURIER_COLLECTED, DESKTOP_RECLAIMED,
    DISKS_RECORDED, SANITISATION_CERTIFIED, SANITISATION_REVIEW_QUEUED, DEVICE_RELEASED,
    CONFLICT_RESOLVED, ESCROW_RELEASED,
})


@dataclass(frozen=True)
class DomainEvent:
    type: str
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in ALL_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored in the station's outbox."""

    event_id: str
    station_id: str
    seq: int
    type: str
    payload: dict[str, Any]
    operator: str | None
    occurred_at: str
    schema_v: int = SCHEMA_VERSION
