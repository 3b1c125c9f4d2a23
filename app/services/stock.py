"""Goods-in of new devices, and reclaiming sole-use desktops (R4)."""

from __future__ import annotations

from app.domain import events
from app.domain.devices import Device, DeviceState, DeviceType, describe_state
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput, RuleRefused, RuleViolation
from app.domain.tags import AssetTag, clean_scan, normalise_serial, printable
from app.services.context import ServiceContext
from app.services.lookup import resolve_scan
from app.services.station import station_site


def receive(ctx: ServiceContext, actor: Operator, tag: str, serial: str, kind: str, model: str,
            os_name: str) -> Device:
    """One new device into this site's stock."""
    actor.require(Permission.RECEIVE)
    tag_value = AssetTag.parse(tag, ctx.config.tag_pattern).value
    serial = normalise_serial(serial)
    if not serial:
        raise BadInput("a manufacturer serial is needed for goods-in")
    with ctx.uow_factory() as uow:
        device = Device(tag_value, serial, DeviceType.parse(kind), model.strip(), os_name.strip(),
                        DeviceState.IN_STOCK, site=station_site(uow))
        if uow.devices.get(tag_value) is not None:
            raise BadInput(f"{tag_value} is already registered: each asset tag is received once")
        seq = uow.next_seq()
        uow.devices.add_many([device], seq)
        uow.record(events.DomainEvent(events.DEVICE_RECEIVED, _device_payload(device)),
                   actor.staff_id)
        uow.commit()
    return device


def reclaim(ctx: ServiceContext, actor: Operator, text: str) -> dict:
    """A sole-use desktop scanned in: it is returned, and its reclamation task closes."""
    actor.require(Permission.RECLAIM)
    with ctx.uow_factory() as uow:
        device = resolve_scan(uow, text, ctx.config.tag_pattern).device
        task = uow.tasks.open_task(device.tag) if device else None
        if device is not None and uow.exchanges.courier_exchange_awaiting(device.tag):
            raise BadInput(f"{device.tag} is awaited from a courier exchange: scan it in with "
                           "Collect, which also closes its reclamation task")
        if device is None or task is None:
            raise RuleRefused([RuleViolation(
                "R4", f"{printable(clean_scan(text))} has no open reclamation task: only a "
                "sole-use desktop whose user has received a laptop is reclaimed")])
        try:
            returned = device.moved_to(DeviceState.RETURNED, None)
        except ValueError:  # e.g. reclaimed before this station was restored from a copy
            raise BadInput(f"{device.tag} is {describe_state(device.state)} already, by the "
                           "device register: its reclamation task here is out of date; a site "
                           "lead should check where the desktop is") from None
        seq, now = uow.next_seq(), uow.now().isoformat()
        uow.devices.save(returned, seq)
        uow.tasks.close(device.tag, now, actor.staff_id)
        payload = {"tag": device.tag, "from": task.staff_id, "exchange_id": task.exchange_id}
        uow.record(events.DomainEvent(events.DESKTOP_RECLAIMED, payload), actor.staff_id)
        uow.commit()
    return payload


def open_reclamation_tasks(ctx: ServiceContext) -> list:
    with ctx.uow_factory(write=False) as uow:
        return uow.tasks.list_open()


def _device_payload(d: Device) -> dict:
    return {"tag": d.tag, "serial": d.serial, "type": d.type.value, "model": d.model,
            "os": d.os, "state": d.state.value, "holder": d.holder, "sole_use": d.sole_use,
            "site": d.site}
