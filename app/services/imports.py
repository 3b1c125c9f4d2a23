"""CSV imports of people, the device register and new stock: all or nothing.

Every row is checked first; a file with any bad row imports nothing and the error names every
bad row by its line in the file (the header is line 1), as `line N: ...`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from app.domain import events
from app.domain.devices import Device, DeviceState, DeviceType
from app.domain.people import Operator, Permission, Person
from app.domain.rules import BadInput
from app.domain.tags import AssetTag, normalise_serial
from app.services.context import ServiceContext
from app.services.station import station_site

MAX_BYTES = 64 * 1024 * 1024
PEOPLE_COLUMNS = ("staff_id", "name", "site", "shielding", "assistive_tech")
DEVICE_COLUMNS = ("asset_tag", "serial", "type", "model", "os", "holder_staff_id", "sole_use")
STOCK_COLUMNS = ("asset_tag", "serial", "type", "model", "os", "unit_cost")
_BOOLEANS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


class ImportRejected(BadInput):
    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        super().__init__(f"{path.name}: nothing was imported; fix these and import the whole "
                         "file again:\n  " + "\n  ".join(shown))


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    sha256: str

    def as_json(self) -> dict:
        return {"imported": self.kind, "rows": self.rows, "sha256": self.sha256}


def import_people(ctx: ServiceContext, actor: Operator, path: Path) -> ImportResult:
    def convert(row: dict, line: int, problems: list[str], seen: set[str]) -> Person | None:
        staff_id = row["staff_id"].strip().upper()
        ok = _unique(staff_id, "staff_id", line, problems, seen)
        ok &= _required(row, ("name", "site"), line, problems)
        shielding = _boolean(row, "shielding", line, problems)
        at = _boolean(row, "assistive_tech", line, problems)
        if not ok or shielding is None or at is None:
            return None
        return Person(staff_id, row["name"].strip(), row["site"].strip(), shielding, at)

    return _import(ctx, actor, Path(path), "people", PEOPLE_COLUMNS, convert, _store_people)


def import_devices(ctx: ServiceContext, actor: Operator, path: Path) -> ImportResult:
    with ctx.uow_factory(write=False) as uow:
        site = station_site(uow)

    def convert(row: dict, line: int, problems: list[str], seen: set[str]) -> Device | None:
        base = _device_fields(ctx, row, line, problems, seen)
        sole_use = _boolean(row, "sole_use", line, problems, default=False)
        holder = row["holder_staff_id"].strip().upper() or None
        if base is None or sole_use is None:
            return None
        if sole_use and (holder is None or base["type"] is not DeviceType.DESKTOP):
            problems.append(f"line {line}: sole_use is for a desktop with a holder")
            return None
        state = DeviceState.ISSUED if holder else DeviceState.IN_SERVICE
        return Device(**base, state=state, holder=holder, sole_use=sole_use, site=site)

    return _import(ctx, actor, Path(path), "devices", DEVICE_COLUMNS, convert, _store_devices)


def import_stock(ctx: ServiceContext, actor: Operator, path: Path) -> ImportResult:
    with ctx.uow_factory(write=False) as uow:
        site = station_site(uow)

    def convert(row: dict, line: int, problems: list[str], seen: set[str]):
        base = _device_fields(ctx, row, line, problems, seen)
        cost = _pence(row["unit_cost"], line, problems)
        if base is None or cost is False:
            return None
        return Device(**base, state=DeviceState.IN_STOCK, site=site), cost

    return _import(ctx, actor, Path(path), "stock", STOCK_COLUMNS, convert, _store_stock)


# -- the shared machinery --------------------------------------------------------------------

def _import(ctx: ServiceContext, actor: Operator, path: Path, kind: str, columns: tuple[str, ...],
            convert: Callable, store: Callable) -> ImportResult:
    actor.require(Permission.IMPORT)
    raw = _read(path)
    rows, problems, seen = [], [], set()
    for line, row in _rows(path, raw, columns):
        if isinstance(row, str):
            problems.append(f"line {line}: {row}")
            continue
        item = convert(row, line, problems, seen)
        if item is not None:
            rows.append((line, item))
    if not rows and not problems:
        problems.append("line 2: the file has a header but no rows")
    with ctx.uow_factory() as uow:
        problems += store(uow, rows, dry_run=True)
        if problems:
            raise ImportRejected(path, sorted(problems, key=_line_number))
        digest = hashlib.sha256(raw).hexdigest()
        seq = uow.next_seq()
        payload = store(uow, rows, dry_run=False, seq=seq)
        uow.record(events.DomainEvent(f"{kind}.imported", {
            "file": path.name, "sha256": digest, "rows": payload}), actor.staff_id)
        uow.commit()
    return ImportResult(kind, len(rows), digest)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise BadInput(f"{path.name} is larger than {MAX_BYTES // 2**20} MB: split it")
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None


def _rows(path: Path, raw: bytes, columns: tuple[str, ...]):
    bad_lines = {n for n, chunk in enumerate(raw.split(b"\n"), start=1) if not _utf8(chunk)}
    if 1 in bad_lines:
        raise ImportRejected(path, ["line 1: the header is not UTF-8 text (save as CSV UTF-8)"])
    text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportRejected(path, [f"line 1: missing column{'s' * (len(missing) > 1)} "
                                    f"{', '.join(missing)} (expected {','.join(columns)})"])
    reader.fieldnames = header
    for row in reader:
        line = reader.line_num
        if line in bad_lines:
            yield line, "not UTF-8 text (save the file as CSV UTF-8)"
            continue
        if None in row or any(v is None for v in row.values()):
            yield line, f"wrong number of fields (expected {','.join(columns)})"
            continue
        yield line, {k: (v or "") for k, v in row.items()}


def _utf8(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _line_number(problem: str) -> int:
    return int(problem.split(":")[0].split()[1]) if problem.startswith("line ") else 0


def _unique(value: str, column: str, line: int, problems: list[str], seen: set[str]) -> bool:
    if not value:
        problems.append(f"line {line}: {column} is empty")
        return False
    if value in seen:
        problems.append(f"line {line}: duplicate {column} {value} (already earlier in the file)")
        return False
    seen.add(value)
    return True


def _required(row: dict, names: tuple[str, ...], line: int, problems: list[str]) -> bool:
    empty = [n for n in names if not row[n].strip()]
    for name in empty:
        problems.append(f"line {line}: {name} is empty")
    return not empty


def _boolean(row: dict, name: str, line: int, problems: list[str],
             default: bool | None = None) -> bool | None:
    text = row[name].strip().lower()
    if not text and default is not None:
        return default
    if text not in _BOOLEANS:
        problems.append(f"line {line}: {name} '{row[name]}' is not yes/no, true/false or 1/0")
        return None
    return _BOOLEANS[text]


def _device_fields(ctx: ServiceContext, row: dict, line: int, problems: list[str],
                   seen: set[str]) -> dict | None:
    if not _required(row, ("asset_tag", "serial", "type", "model", "os"), line, problems):
        return None
    try:
        tag = AssetTag.parse(row["asset_tag"], ctx.config.tag_pattern).value
    except BadInput as exc:
        problems.append(f"line {line}: {exc.user_message}")
        return None
    if not _unique(tag, "asset_tag", line, problems, seen):
        return None
    try:
        kind = DeviceType.parse(row["type"])
    except BadInput as exc:
        problems.append(f"line {line}: {exc.user_message}")
        return None
    return {"tag": tag, "serial": normalise_serial(row["serial"]), "type": kind,
            "model": row["model"].strip(), "os": row["os"].strip()}


def _pence(text: str, line: int, problems: list[str]) -> int | None | bool:
    text = text.strip().lstrip("£")
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        value = Decimal(-1)
    if value < 0 or value != value.quantize(Decimal("0.01")) or value > 100000:
        problems.append(f"line {line}: unit_cost '{text}' is not an amount in pounds")
        return False
    return int(value * 100)


def _store_people(uow, rows: list, dry_run: bool, seq: int = 0):  # noqa: ANN001
    if dry_run:
        return []
    people = [p for _line, p in rows]
    existing = uow.people.existing(p.staff_id for p in people)
    uow.people.upsert_many(people, existing)
    return [[p.staff_id, p.name, p.site, p.shielding, p.assistive_tech] for p in people]


def _store_devices(uow, rows: list, dry_run: bool, seq: int = 0):  # noqa: ANN001
    devices = [d for _line, d in rows]
    if dry_run:
        problems = _already_registered(uow, rows)
        holders = {d.holder for d in devices if d.holder}
        known = uow.people.existing(holders)
        problems += [f"line {line}: holder {d.holder} is not a known person (import people first)"
                     for line, d in rows if d.holder and d.holder not in known]
        return problems
    uow.devices.add_many(devices, seq)
    return [[d.tag, d.serial, d.type.value, d.model, d.os, d.holder, d.sole_use] for d in devices]


def _store_stock(uow, rows: list, dry_run: bool, seq: int = 0):  # noqa: ANN001
    if dry_run:
        return _already_registered(uow, [(line, d) for line, (d, _c) in rows])
    devices = [d for _line, (d, _cost) in rows]
    uow.devices.add_many(devices, seq, costs={d.tag: c for _l, (d, c) in rows})
    return [[d.tag, d.serial, d.type.value, d.model, d.os, c] for _l, (d, c) in rows]


def _already_registered(uow, rows: list) -> list[str]:  # noqa: ANN001
    existing = uow.devices.existing(d.tag for _line, d in rows)
    return [f"line {line}: asset_tag {d.tag} is already registered" for line, d in rows
            if d.tag in existing]
