"""The counter exchange: what is handed back, what is issued, and R1-R8 checked as one unit.

`check_exchange()` lists every rule a request breaks; `decide_exchange()` turns a request into
the changes to make (device states, exceptions, reclamation tasks) or raises `RuleRefused`.
Both are pure: the service layer gathers the facts and stores the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.courier import CourierAllowance
from app.domain.devices import BuildPolicy, Device, DeviceState, DeviceType, describe_state
from app.domain.people import Person
from app.domain.rules import BadInput, RuleRefused, RuleViolation

#: Which returned types satisfy R1 for an issued type, best first ("like for like", and a
#: desktop may be exchanged for a laptop).
ACCEPTED_HANDOVERS: dict[DeviceType, tuple[DeviceType, ...]] = {
    DeviceType.LAPTOP: (DeviceType.LAPTOP, DeviceType.DESKTOP),
    DeviceType.TABLET: (DeviceType.TABLET,),
    DeviceType.DESKTOP: (DeviceType.DESKTOP,),
}


@dataclass(frozen=True)
class Override:
    """A site lead's authority to set aside R1 and/or R3 for one exchange, with a reason."""

    reason: str
    authorised_by: str


@dataclass(frozen=True)
class ExceptionRecord:
    """An overridden rule as recorded and shown on the daily summary."""

    rule: str
    reason: str
    authorised_by: str


@dataclass(frozen=True)
class ExchangeRequest:
    person: Person
    holdings: tuple[Device, ...]
    returned: tuple[Device, ...]
    issued: tuple[Device, ...]
    site: str
    unknown_returns: tuple[str, ...] = ()
    courier: bool = False
    at_confirmed: bool = False
    override: Override | None = None
    awaiting_collection: tuple[str, ...] = ()
    #: tags awaited by any open courier exchange (this person's or someone else's)
    awaited_by_courier: frozenset[str] = frozenset()
    open_reclamations: frozenset[str] = frozenset()
    allowance: CourierAllowance = field(default_factory=CourierAllowance)
    policy: BuildPolicy = field(default_factory=BuildPolicy)


@dataclass(frozen=True)
class ExchangeOutcome:
    changed: tuple[Device, ...]
    registered: tuple[Device, ...]
    returned: tuple[str, ...]
    issued: tuple[str, ...]
    awaiting_collection: tuple[str, ...]
    lost: tuple[str, ...]
    reclamation_tasks: tuple[str, ...]
    exceptions: tuple[ExceptionRecord, ...]
    courier: bool
    courier_laptops: int
    counter_laptops: int


def check_exchange(req: ExchangeRequest) -> list[RuleViolation]:
    """Every rule R1-R8 that the request breaks, in rule order."""
    _check_shape(req)
    return (_r1_handover(req) + _r2_in_stock(req) + _r3_register(req) + _r5_courier(req)
            + _r7_build(req) + _r8_assistive(req))


def decide_exchange(req: ExchangeRequest) -> ExchangeOutcome:
    """The changes the exchange makes, or `RuleRefused` naming every rule still broken."""
    violations = check_exchange(req)
    overridden = [v for v in violations if v.overridable] if req.override else []
    if len(overridden) < len(violations):
        raise RuleRefused(violations)
    exceptions = tuple(
        ExceptionRecord(code, req.override.reason, req.override.authorised_by)
        for code in sorted({v.code for v in overridden})
    ) if req.override else ()
    return _outcome(req, exceptions)


def unmatched_issues(req: ExchangeRequest) -> list[Device]:
    """Issued devices with no handed-back device to stand for them (R1), in scan order.

    Like for like first; a device the register did not know (allowed only under an R3
    override) stands for any type.
    """
    handed = [d.type for d in req.returned]
    unknown = len(req.unknown_returns)
    unmatched = []
    for device in req.issued:
        match = next((t for t in ACCEPTED_HANDOVERS[device.type] if t in handed), None)
        if match is not None:
            handed.remove(match)
        elif unknown:
            unknown -= 1
        else:
            unmatched.append(device)
    return unmatched


# -- the rules -------------------------------------------------------------------------------

def _check_shape(req: ExchangeRequest) -> None:
    tags = [d.tag for d in req.returned + req.issued] + list(req.unknown_returns)
    if not tags:
        raise BadInput("nothing scanned: scan the device handed back, then the new device")
    repeated = sorted({t for t in tags if tags.count(t) > 1})
    if repeated:
        raise BadInput(f"{', '.join(repeated)} scanned more than once: remove the repeat")


def _r1_handover(req: ExchangeRequest) -> list[RuleViolation]:
    return [
        RuleViolation("R1", f"no old {d.type.value} handed over for new {d.type.value} {d.tag}: "
                      f"scan the {_handover_words(d.type)} {req.person.name} hands back first, or "
                      "ask a site lead to override (for example a device reported lost or stolen)")
        for d in unmatched_issues(req)
    ]


def _r2_in_stock(req: ExchangeRequest) -> list[RuleViolation]:
    refused = []
    for d in req.issued:
        if d.state is not DeviceState.IN_STOCK:
            refused.append(RuleViolation(
                "R2", f"{d.tag} is {describe_state(d.state)}, not in stock: it cannot be issued; "
                "scan another new device"))
        elif d.site != req.site:
            refused.append(RuleViolation(
                "R2", f"{d.tag} is stock of {d.site or 'no site'}, not of {req.site}: "
                "issue a device from this site's stock"))
    return refused


#: Devices an R3 override may take back from someone other than the register's holder: one
#: issued to another person, a shared desktop, or one written off as lost that has turned up.
_RETURNABLE_BY_OVERRIDE = frozenset({DeviceState.ISSUED, DeviceState.IN_SERVICE, DeviceState.LOST})


def _r3_register(req: ExchangeRequest) -> list[RuleViolation]:
    # a courier waits for the device it collects: only one the register says the person holds
    refused = [
        RuleViolation("R3", f"{tag} is not in the register: check the tag, or ask a site lead "
                      "to override and record it", can_override=not req.courier)
        for tag in req.unknown_returns
    ]
    for d in req.returned:
        if d.tag in req.awaiting_collection or d.tag in req.awaited_by_courier:
            refused.append(RuleViolation(
                "R3", f"{d.tag} is awaited from a courier exchange: scan it in with Collect",
                can_override=False))
        elif d.state is not DeviceState.ISSUED or d.holder != req.person.staff_id:
            refused.append(RuleViolation(
                "R3", _not_held_message(d, req.person),
                can_override=d.state in _RETURNABLE_BY_OVERRIDE and not req.courier))
    return refused


def _r5_courier(req: ExchangeRequest) -> list[RuleViolation]:
    refused = []
    if req.awaiting_collection and req.issued:
        refused.append(RuleViolation(
            "R5", f"{req.person.name} has a courier exchange open until "
            f"{', '.join(req.awaiting_collection)} is collected: nothing else can be issued "
            "to them until then"))
    if not req.courier:
        return refused
    if not req.person.shielding:
        refused.append(RuleViolation(
            "R5", f"{req.person.name} is not formally shielding: courier is only for shielding "
            "staff, so hand the device over at the counter"))
    laptops = sum(d.type is DeviceType.LAPTOP for d in req.issued)
    if laptops and not req.allowance.allows(laptops):
        needed = req.allowance.counter_laptops_needed(laptops)
        refused.append(RuleViolation(
            "R5", f"courier laptops may not pass 25% of laptops issued: this station has issued "
            f"{req.allowance.counter_laptops} over the counter and {req.allowance.courier_laptops} "
            f"by courier, so {needed} more must go over the counter first (or central must "
            "grant allowance)"))
    return refused


def _r7_build(req: ExchangeRequest) -> list[RuleViolation]:
    return [
        RuleViolation("R7", f"{d.tag} carries '{d.os}', not an approved build "
                      f"({req.policy.describe()}): re-image it before issue")
        for d in req.issued if not req.policy.approves(d.os)
    ]


def _r8_assistive(req: ExchangeRequest) -> list[RuleViolation]:
    if req.person.assistive_tech and req.issued and not req.at_confirmed:
        return [RuleViolation(
            "R8", f"{req.person.name} uses assistive technology: confirm that their AT and "
            "accessibility tools work on the new device before completing")]
    return []


# -- the outcome -----------------------------------------------------------------------------

def _outcome(req: ExchangeRequest, exceptions: tuple[ExceptionRecord, ...]) -> ExchangeOutcome:
    person = req.person.staff_id
    awaited = req.courier and bool(req.returned or req.unknown_returns)
    # a courier laptop is pending until the old device is collected; with nothing to collect
    # (the old one written off under an R1 override) it is issued at once
    new_state = DeviceState.COURIER_PENDING if awaited else DeviceState.ISSUED
    issued = [d.moved_to(new_state, person) for d in req.issued]
    if req.courier:
        returned: list[Device] = []
        registered = [_registered(tag, req, DeviceState.ISSUED, person) for tag in req.unknown_returns]
    else:
        returned = [_returned(d) for d in req.returned]
        registered = [_registered(tag, req, DeviceState.RETURNED, None)
                      for tag in req.unknown_returns]
    lost = _written_off(req) if any(e.rule == "R1" for e in exceptions) else []
    laptops = sum(d.type is DeviceType.LAPTOP for d in req.issued)
    return ExchangeOutcome(
        changed=tuple(returned + lost + issued),
        registered=tuple(registered),
        returned=tuple(d.tag for d in req.returned) + req.unknown_returns,
        issued=tuple(d.tag for d in req.issued),
        awaiting_collection=(tuple(d.tag for d in req.returned) + req.unknown_returns
                             if req.courier else ()),
        lost=tuple(d.tag for d in lost),
        reclamation_tasks=_reclamations(req),
        exceptions=exceptions,
        courier=req.courier,
        courier_laptops=laptops if req.courier else 0,
        counter_laptops=0 if req.courier else laptops,
    )


def _returned(device: Device) -> Device:
    return device.moved_to(DeviceState.RETURNED, None)


def _registered(tag: str, req: ExchangeRequest, state: DeviceState, holder: str | None) -> Device:
    """A device handed back that the register did not know, recorded under an R3 override."""
    kind = req.issued[0].type if req.issued else DeviceType.LAPTOP
    return Device(tag=tag, serial="", type=kind, model="unregistered", os="", state=state,
                  holder=holder, site=req.site)


def _written_off(req: ExchangeRequest) -> list[Device]:
    """R1 override: the person's held device of each unmatched type becomes lost."""
    handed = {d.tag for d in req.returned}
    candidates = [d for d in req.holdings
                  if d.state is DeviceState.ISSUED and d.tag not in handed
                  and d.tag not in req.awaiting_collection]
    lost = []
    for issued in unmatched_issues(req):
        match = next((d for d in candidates if d.type is issued.type), None)
        if match is not None:
            candidates.remove(match)
            lost.append(match.moved_to(DeviceState.LOST, None))
    return lost


def _reclamations(req: ExchangeRequest) -> tuple[str, ...]:
    """R4: a laptop issued to the sole user of a desktop not handed back reclaims the desktop."""
    if not any(d.type is DeviceType.LAPTOP for d in req.issued):
        return ()
    handed = {d.tag for d in req.returned}
    return tuple(
        d.tag for d in req.holdings
        if d.type is DeviceType.DESKTOP and d.sole_use and d.state is DeviceState.ISSUED
        and d.tag not in handed and d.tag not in req.open_reclamations
    )


def _handover_words(kind: DeviceType) -> str:
    return {DeviceType.LAPTOP: "old laptop or desktop", DeviceType.TABLET: "old tablet",
            DeviceType.DESKTOP: "old desktop"}[kind]


def _not_held_message(device: Device, person: Person) -> str:
    if device.state is DeviceState.ISSUED and device.holder:
        return (f"{device.tag} is registered to {device.holder}, not to {person.name} "
                f"({person.staff_id}): check the tag, or ask a site lead to override")
    return (f"{device.tag} is {describe_state(device.state)}, not held by {person.name}: "
            "it cannot be handed back again; check the tag, or ask a site lead to override")
