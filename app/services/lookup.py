"""Finding what was scanned or typed: a device by tag or serial, a person by id or name."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.devices import Device
from app.domain.people import Person
from app.domain.rules import BadInput
from app.domain.tags import AssetTag, clean_scan, normalise_serial, printable
from app.services.context import ServiceContext


@dataclass(frozen=True)
class Scan:
    """What a scanned text turned out to be."""

    text: str
    tag: str
    device: Device | None


def resolve_scan(uow, text: str, pattern: str) -> Scan:  # noqa: ANN001 - a unit of work
    """A scanned text as a tag, else as a manufacturer serial; else a tag to be, or BadInput.

    PRODUCT.md: a scanned text is looked up first as a tag, then as a serial; only text that
    matches no device and not the pattern is bad input.
    """
    cleaned = clean_scan(text)
    if not cleaned:
        raise BadInput("nothing was scanned: scan the asset-tag label again")
    device = uow.devices.get(cleaned) or uow.devices.by_serial(normalise_serial(text))
    if device is not None:
        return Scan(text, device.tag, device)
    return Scan(text, AssetTag.parse(text, pattern).value, None)


def find_device(ctx: ServiceContext, text: str) -> Scan:
    with ctx.uow_factory(write=False) as uow:
        return resolve_scan(uow, text, ctx.config.tag_pattern)


def find_person(ctx: ServiceContext, staff_id: str) -> tuple[Person, list[Device]]:
    """A person by staff number (a badge scan works too), with what the register says they hold."""
    with ctx.uow_factory(write=False) as uow:
        person = uow.people.get(clean_scan(staff_id))
        if person is None:
            raise BadInput(f"no person with staff number '{printable(staff_id)}': check the "
                           "number, or search by name")
        return person, uow.devices.held_by(person.staff_id)


def search_people(ctx: ServiceContext, text: str, limit: int = 20) -> list[Person]:
    if len(text.strip()) < 2:
        return []
    with ctx.uow_factory(write=False) as uow:
        return uow.people.search(text, limit)
