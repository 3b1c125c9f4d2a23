"""Devices, their types and their life cycle (PRODUCT.md, "Device life cycle")."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

from app.domain.rules import BadInput


class DeviceType(str, Enum):
    LAPTOP = "laptop"
    TABLET = "tablet"
    DESKTOP = "desktop"

    @classmethod
    def parse(cls, text: str) -> "DeviceType":
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise BadInput(
                f"unknown device type '{text}': use laptop, tablet or desktop"
            ) from None


class DeviceState(str, Enum):
    IN_STOCK = "in_stock"
    ISSUED = "issued"
    COURIER_PENDING = "courier_pending"
    RETURNED = "returned"
    SANITISED = "sanitised"
    REDISTRIBUTED = "redistributed"
    DISPOSED = "disposed"
    LOST = "lost"
    IN_SERVICE = "in_service"


#: What each state may become; anything else is a bug in a service, not a user error.
TRANSITIONS: dict[DeviceState, frozenset[DeviceState]] = {
    DeviceState.IN_STOCK: frozenset({DeviceState.ISSUED, DeviceState.COURIER_PENDING}),
    DeviceState.COURIER_PENDING: frozenset({DeviceState.ISSUED}),
    DeviceState.ISSUED: frozenset({DeviceState.RETURNED, DeviceState.LOST}),
    DeviceState.IN_SERVICE: frozenset({DeviceState.RETURNED}),
    DeviceState.RETURNED: frozenset({DeviceState.SANITISED, DeviceState.DISPOSED}),
    DeviceState.SANITISED: frozenset({DeviceState.REDISTRIBUTED, DeviceState.DISPOSED}),
    DeviceState.REDISTRIBUTED: frozenset(),
    DeviceState.DISPOSED: frozenset(),
    DeviceState.LOST: frozenset({DeviceState.RETURNED}),
}

_STATE_WORDS = {
    DeviceState.IN_STOCK: "in stock",
    DeviceState.ISSUED: "issued",
    DeviceState.COURIER_PENDING: "on its way by courier",
    DeviceState.RETURNED: "returned and awaiting sanitisation",
    DeviceState.SANITISED: "sanitised",
    DeviceState.REDISTRIBUTED: "redistributed",
    DeviceState.DISPOSED: "disposed of",
    DeviceState.LOST: "written off as lost",
    DeviceState.IN_SERVICE: "in service as a shared device",
}


def describe_state(state: DeviceState) -> str:
    return _STATE_WORDS[state]


@dataclass(frozen=True)
class Device:
    tag: str
    serial: str
    type: DeviceType
    model: str
    os: str
    state: DeviceState
    holder: str | None = None
    sole_use: bool = False
    site: str | None = None

    def moved_to(self, state: DeviceState, holder: str | None) -> "Device":
        if state not in TRANSITIONS[self.state]:
            raise ValueError(f"{self.tag}: {self.state.value} cannot become {state.value}")
        return replace(self, state=state, holder=holder)


@dataclass(frozen=True)
class BuildPolicy:
    """R7: devices issued must carry an approved build (by default Windows 10 or later)."""

    min_windows: float = 10.0

    def approves(self, os_name: str) -> bool:
        match = re.search(r"windows\s*(\d+(?:\.\d+)?)", os_name, re.IGNORECASE)
        return match is not None and float(match.group(1)) >= self.min_windows

    def describe(self) -> str:
        shown = int(self.min_windows) if float(self.min_windows).is_integer() else self.min_windows
        return f"Windows {shown} or later"
