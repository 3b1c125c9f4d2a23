"""R6, the release gate: a device leaves only with a sanitisation certificate that matches it.

This holds the domain's view of a certificate and the gate itself; the readers of real erasure
reports live in `app/certificates/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from app.domain.devices import Device, DeviceState
from app.domain.rules import RuleViolation

_ANONYMISED = re.compile(r"^(X+|UNKNOWN|N/?A|NONE|0+)?$")


class Route(str, Enum):
    REUSE = "reuse"
    WEEE = "weee"


def normalise_serial_for_match(serial: str | None) -> str:
    """Serials compare without case, spaces, '-' or '_'; anonymised ones become ''."""
    cleaned = re.sub(r"[\s\-_]", "", serial or "").upper()
    return "" if _ANONYMISED.match(cleaned) else cleaned


@dataclass(frozen=True)
class Certificate:
    certificate_id: str
    system_serial: str
    disk_serials: tuple[str, ...]
    passed: bool
    physical_destruction: bool = False

    def matches(self, device: Device, known_disks: tuple[str, ...] = ()) -> bool:
        system = normalise_serial_for_match(self.system_serial)
        if not system or system != normalise_serial_for_match(device.serial):
            return False
        certified = {normalise_serial_for_match(s) for s in self.disk_serials} - {""}
        return all(normalise_serial_for_match(s) in certified for s in known_disks)


def release_violations(device: Device, certificate: Certificate | None, route: Route,
                       known_disks: tuple[str, ...] = ()) -> list[RuleViolation]:
    """R6: what stops `device` leaving by `route` with `certificate`."""
    destroyed = (route is Route.WEEE and certificate is not None
                 and certificate.physical_destruction)
    if certificate is None:
        return [RuleViolation("R6", f"{device.tag} has no sanitisation certificate: record one "
                              "before it leaves")]
    if not destroyed and device.state is not DeviceState.SANITISED:
        return [RuleViolation("R6", f"{device.tag} is {device.state.value}, not sanitised: it "
                              "cannot be released")]
    if not certificate.passed:
        return [RuleViolation("R6", f"certificate {certificate.certificate_id} did not pass")]
    if not destroyed and not certificate.matches(device, known_disks):
        return [RuleViolation("R6", f"certificate {certificate.certificate_id} does not match the "
                              f"serials of {device.tag}")]
    return []
