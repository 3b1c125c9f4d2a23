"""What the counter window asks between scans: who is this, where does a scan go, may it complete.

Thin read-only helpers over the lookup and exchange services, so that the window never decides a
rule: `place_scan` says whether a scanned device is handed back or issued, `check_draft` lists
the rules (R1-R8, from the domain) that still stop an exchange being completed. Completing is
`exchanges.record_exchange(ctx, operator, draft.command())`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from app.domain.courier import CourierAllowance
from app.domain.devices import Device, DeviceState
from app.domain.exchange import check_exchange
from app.domain.people import Operator, Person
from app.domain.rules import BadInput, RuleViolation
from app.domain.tags import clean_scan, normalise_serial, printable
from app.services import auth, demo, exchanges, station
from app.services.context import ServiceContext
from app.services.exchanges import ExchangeCommand, OverrideRequest
from app.services.lookup import resolve_scan

#: States in which a device sits at the station, not with a person: scanning one means the
#: engineer means to issue it (R2 then says whether it may be).
_AT_STATION = frozenset({DeviceState.IN_STOCK, DeviceState.RETURNED, DeviceState.SANITISED,
                         DeviceState.REDISTRIBUTED, DeviceState.DISPOSED})


class Side(str, Enum):
    RETURNED = "returned"
    ISSUED = "issued"

    @property
    def words(self) -> str:
        return "Returned" if self is Side.RETURNED else "Issued"


@dataclass(frozen=True)
class Identified:
    """A person found by staff number (with what they hold), or the people a name search found."""

    person: Person | None
    holdings: tuple[Device, ...] = ()
    awaiting_collection: tuple[str, ...] = ()
    candidates: tuple[Person, ...] = ()


@dataclass(frozen=True)
class Placement:
    """Where a scanned text goes in the exchange being drafted (or that it is a staff badge)."""

    tag: str
    side: Side | None
    device: Device | None = None
    badge: Person | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class Draft:
    """The exchange on the counter before it is completed."""

    staff_id: str = ""
    returned: tuple[str, ...] = ()
    issued: tuple[str, ...] = ()
    courier: bool = False
    at_confirmed: bool = False
    override: OverrideRequest | None = None

    @property
    def empty(self) -> bool:
        return not (self.returned or self.issued)

    def side_of(self, tag: str) -> Side | None:
        if tag in self.returned:
            return Side.RETURNED
        return Side.ISSUED if tag in self.issued else None

    def with_scan(self, placement: Placement) -> "Draft":
        """The draft with a placed scan added; a change of devices needs a new override."""
        if placement.side is None or placement.duplicate:
            return self
        if placement.side is Side.RETURNED:
            return replace(self, returned=self.returned + (placement.tag,), override=None)
        return replace(self, issued=self.issued + (placement.tag,), override=None)

    def without(self, tag: str) -> "Draft":
        return replace(self, returned=tuple(t for t in self.returned if t != tag),
                       issued=tuple(t for t in self.issued if t != tag), override=None)

    def command(self) -> ExchangeCommand:
        return ExchangeCommand(self.staff_id, self.returned, self.issued, self.courier,
                               self.at_confirmed, self.override)


@dataclass(frozen=True)
class DraftCheck:
    """What stops the draft from being completed: rule violations, or a problem with the input."""

    violations: tuple[RuleViolation, ...] = ()
    problem: str | None = None
    empty: bool = False

    @property
    def needs_override(self) -> bool:
        """True when every rule still broken is one a site lead may set aside (R1, R3)."""
        return bool(self.violations) and all(v.overridable for v in self.violations)

    def can_complete(self, overridden: bool) -> bool:
        if self.empty or self.problem:
            return False
        return not self.violations or (overridden and self.needs_override)


def identify(ctx: ServiceContext, text: str, limit: int = 20) -> Identified:
    """A person by staff number or badge scan; else the people whose name matches `text`."""
    with ctx.uow_factory(write=False) as uow:
        person = uow.people.get(clean_scan(text)) if clean_scan(text) else None
        if person is not None:
            return Identified(person, tuple(uow.devices.held_by(person.staff_id)),
                              uow.exchanges.awaiting_collection_for(person.staff_id))
        found = uow.people.search(text, limit) if len(text.strip()) >= 2 else []
    if not found:
        raise BadInput(f"no person with staff number or name '{printable(text.strip())}': check "
                       "the number, or type part of their name")
    return Identified(None, candidates=tuple(found))


def place_scan(ctx: ServiceContext, draft: Draft, text: str) -> Placement:
    """Where a scan goes: a device the person holds (or unknown to the register) is handed back;
    a device at the station is issued. A staff badge is reported as such, not as a device."""
    with ctx.uow_factory(write=False) as uow:
        scan = resolve_scan(uow, text, ctx.config.tag_pattern)
        if scan.device is None:
            badge = uow.people.get(scan.tag)
            if badge is not None:
                return Placement(scan.tag, None, badge=badge)
    side = draft.side_of(scan.tag)
    if side is not None:
        return Placement(scan.tag, side, scan.device, duplicate=True)
    return Placement(scan.tag, _side(scan.device, draft.staff_id), scan.device)


def check_draft(ctx: ServiceContext, draft: Draft) -> DraftCheck:
    """The rules that the draft still breaks, as the domain sees them (no override applied)."""
    if not draft.staff_id or draft.empty:
        return DraftCheck(empty=True)
    try:
        request = exchanges.preview_exchange(ctx, draft.command())
        return DraftCheck(tuple(check_exchange(request)))
    except BadInput as exc:
        return DraftCheck(problem=exc.user_message)


def courier_allowance(ctx: ServiceContext) -> CourierAllowance:
    """This station's courier allowance now (R5)."""
    with ctx.uow_factory(write=False) as uow:
        return station.courier_allowance(uow)


def awaiting_collection(ctx: ServiceContext, staff_id: str) -> tuple[str, ...]:
    """The old devices a person's open courier exchange still waits for."""
    with ctx.uow_factory(write=False) as uow:
        return uow.exchanges.awaiting_collection_for(clean_scan(staff_id))


def station_is_empty(ctx: ServiceContext) -> bool:
    """True when no person and no device is known yet (a new station: offer demo data)."""
    with ctx.uow_factory(write=False) as uow:
        return uow.people.count() == 0 and not any(uow.devices.counts_by_state().values())


def serial_lookup(ctx: ServiceContext):  # noqa: ANN201 - Callable[[str], str | None]
    """A function from a scanned text to the tag of the device with that manufacturer serial.

    Each call opens its own read-only unit of work, so the camera's decode thread may call it.
    """
    def lookup(text: str) -> str | None:
        with ctx.uow_factory(write=False) as uow:
            device = uow.devices.by_serial(normalise_serial(text))
        return device.tag if device else None
    return lookup


def _side(device: Device | None, staff_id: str) -> Side:
    if device is None or device.holder == staff_id:
        return Side.RETURNED
    return Side.ISSUED if device.state in _AT_STATION else Side.RETURNED


def needs_first_run(ctx: ServiceContext) -> bool:
    """True when the station has no station id and site yet, or no operator to sign in."""
    with ctx.uow_factory(write=False) as uow:
        return uow.station.get() is None or uow.operators.count() == 0


def first_run(ctx: ServiceContext, station_id: str, site: str, admin_staff_id: str,
              admin_name: str, pin: str, with_demo: bool, central_url: str = "") -> Operator:
    """Set up a new station: its id and site, its first admin, the central database it syncs
    with (optional; saved in station.toml), and demo data if asked for."""
    auth.check_staff_id(admin_staff_id)
    auth.check_new_pin(pin)
    if central_url.strip():
        from app.config import save_setting
        from app.sync.central import libpq_url

        libpq_url(central_url.strip())  # a PostgreSQL URL, and never one with a password
        save_setting(ctx.config.data_dir, "central_url", central_url.strip())
    station.initialise(ctx, station_id, site)
    admin = auth.add_operator(ctx, None, admin_staff_id, admin_name, "admin", pin)
    if with_demo:
        demo.load_demo(ctx, admin, site.strip())
    return admin
