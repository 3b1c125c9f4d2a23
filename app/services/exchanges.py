"""Counter exchanges and courier collections: gather the facts, let the domain decide, store.

One exchange is one transaction: device states, the exchange rows, reclamation tasks and the
event commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.domain import events
from app.domain.devices import Device, DeviceState, DeviceType
from app.domain.exchange import ExchangeOutcome, ExchangeRequest, Override, decide_exchange
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput
from app.domain.tags import clean_scan, printable
from app.faults import crash_point
from app.services import auth
from app.services.context import ServiceContext
from app.services.lookup import resolve_scan
from app.services.station import courier_allowance, station_site


@dataclass(frozen=True)
class OverrideRequest:
    """A site lead's override as asked for at the counter: who, their PIN, and why."""

    reason: str
    lead_staff_id: str
    lead_pin: str


@dataclass(frozen=True)
class ExchangeCommand:
    staff_id: str
    returned: tuple[str, ...] = ()
    issued: tuple[str, ...] = ()
    courier: bool = False
    at_confirmed: bool = False
    override: OverrideRequest | None = None


@dataclass(frozen=True)
class ExchangeReceipt:
    exchange_id: str
    outcome: ExchangeOutcome
    seq: int
    person_name: str = ""
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        o = self.outcome
        return {
            "exchange_id": self.exchange_id, "returned": list(o.returned),
            "issued": list(o.issued), "courier": o.courier,
            "awaiting_collection": list(o.awaiting_collection),
            "exceptions": [{"rule": e.rule, "reason": e.reason, "authorised_by": e.authorised_by}
                           for e in o.exceptions],
            "reclamation_tasks": list(o.reclamation_tasks),
        }


def record_exchange(ctx: ServiceContext, actor: Operator, cmd: ExchangeCommand) -> ExchangeReceipt:
    actor.require(Permission.EXCHANGE)
    override = _authorised_override(ctx, cmd.override)
    with ctx.uow_factory() as uow:
        request = _request(uow, ctx, cmd, override)
        outcome = decide_exchange(request)
        receipt = _store(uow, actor, request, outcome)
        uow.commit()
    return receipt


def preview_exchange(ctx: ServiceContext, cmd: ExchangeCommand) -> ExchangeRequest:
    """The request as the rules will see it, for the counter to show what stops completion."""
    with ctx.uow_factory(write=False) as uow:
        return _request(uow, ctx, cmd, None)


def collect(ctx: ServiceContext, actor: Operator, text: str) -> dict:
    """The old device of a courier exchange is back: it is returned, and when the last one is
    in, the new device counts as issued."""
    actor.require(Permission.COLLECT)
    with ctx.uow_factory() as uow:
        device = resolve_scan(uow, text, ctx.config.tag_pattern).device
        exchange_id = uow.exchanges.courier_exchange_awaiting(device.tag) if device else None
        if device is None or exchange_id is None:
            raise BadInput(f"{printable(clean_scan(text))} is not awaited from a courier "
                           "exchange: use Exchange, or Reclaim for a desktop")
        seq = uow.next_seq()
        uow.devices.save(device.moved_to(DeviceState.RETURNED, None), seq)
        if uow.tasks.open_task(device.tag) is not None:  # a desktop back settles its task (R4)
            uow.tasks.close(device.tag, uow.now().isoformat(), actor.staff_id)
        waiting = uow.exchanges.mark_collected(exchange_id, device.tag)
        now_issued = [] if waiting else _release_courier_devices(uow, exchange_id, seq)
        payload = {"exchange_id": exchange_id, "collected": device.tag,
                   "still_awaited": list(waiting), "issued": now_issued}
        uow.record(events.DomainEvent(events.COURIER_COLLECTED, payload), actor.staff_id)
        uow.commit()
    return payload


def _authorised_override(ctx: ServiceContext, asked: OverrideRequest | None) -> Override | None:
    if asked is None:
        return None
    reason = asked.reason.strip()
    if len(reason) < 5:
        raise BadInput("an override needs a reason (for example the lost or stolen reference)")
    lead = auth.authorise(ctx, asked.lead_staff_id, asked.lead_pin, Permission.OVERRIDE)
    return Override(reason=reason, authorised_by=lead.staff_id)


def _request(uow, ctx: ServiceContext, cmd: ExchangeCommand,  # noqa: ANN001 - unit of work
             override: Override | None) -> ExchangeRequest:
    site = station_site(uow)
    person = uow.people.get(clean_scan(cmd.staff_id))
    if person is None:
        raise BadInput(f"no person with staff number '{printable(cmd.staff_id)}': check the "
                       "number, or import the people list")
    returned, unknown = [], []
    for text in cmd.returned:
        scan = resolve_scan(uow, text, ctx.config.tag_pattern)
        (returned.append(scan.device) if scan.device else unknown.append(scan.tag))
    issued = [_issuable(uow, ctx, text) for text in cmd.issued]
    holdings = tuple(uow.devices.held_by(person.staff_id))
    return ExchangeRequest(
        person=person, holdings=holdings, returned=tuple(returned), issued=tuple(issued),
        site=site, unknown_returns=tuple(unknown), courier=cmd.courier,
        at_confirmed=cmd.at_confirmed, override=override,
        awaiting_collection=uow.exchanges.awaiting_collection_for(person.staff_id),
        awaited_by_courier=uow.exchanges.awaited_of(d.tag for d in returned),
        open_reclamations=uow.tasks.open_tags(d.tag for d in holdings),
        allowance=courier_allowance(uow), policy=ctx.config.build_policy)


def _issuable(uow, ctx: ServiceContext, text: str) -> Device:  # noqa: ANN001 - unit of work
    scan = resolve_scan(uow, text, ctx.config.tag_pattern)
    if scan.device is None:
        raise BadInput(f"{scan.tag} is not a known device: receive it into stock (goods-in) "
                       "before issuing it")
    return scan.device


def _store(uow, actor: Operator, req: ExchangeRequest,  # noqa: ANN001 - unit of work
           outcome: ExchangeOutcome) -> ExchangeReceipt:
    exchange_id, seq, now = str(uuid.uuid4()), uow.next_seq(), uow.now()
    uow.devices.add_many(list(outcome.registered), seq)
    for device in outcome.changed:
        uow.devices.save(device, seq)
    crash_point("exchange_devices_written")
    types = {d.tag: d.type.value for d in req.returned + req.issued + req.holdings
             + outcome.registered}
    uow.exchanges.add(exchange_id, req.person.staff_id, actor.staff_id, req.site,
                      req.at_confirmed, now, seq, outcome, types)
    for tag in outcome.reclamation_tasks:
        uow.tasks.add(tag, req.person.staff_id, exchange_id, now.isoformat())
    desktops = [d.tag for d in req.returned if d.type is DeviceType.DESKTOP]
    if desktops and not req.courier:  # a desktop handed back at the counter settles its task
        for tag in uow.tasks.open_tags(desktops):
            uow.tasks.close(tag, now.isoformat(), actor.staff_id)
    uow.station.add_laptops(outcome.counter_laptops, outcome.courier_laptops)
    crash_point("exchange_rows_written")
    receipt = ExchangeReceipt(exchange_id, outcome, seq, req.person.name)
    payload = receipt.as_json() | {"person": req.person.staff_id, "lost": list(outcome.lost),
                                   "at_confirmed": req.at_confirmed, "site": req.site,
                                   "registered": [d.tag for d in outcome.registered]}
    uow.record(events.DomainEvent(events.EXCHANGE_RECORDED, payload), actor.staff_id)
    crash_point("exchange_event_written")
    return receipt


def _release_courier_devices(uow, exchange_id: str, seq: int) -> list[str]:  # noqa: ANN001
    issued = []
    for tag in uow.exchanges.issued_tags(exchange_id):
        device = uow.devices.get(tag)
        if device is not None and device.state is DeviceState.COURIER_PENDING:
            uow.devices.save(device.moved_to(DeviceState.ISSUED, device.holder), seq)
            issued.append(tag)
    return issued
