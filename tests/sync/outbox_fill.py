"""Fill a station's outbox with N synthetic events fast (for the fault tests and bench_sync).

Two workloads:
- `received`: N `device.received` events (new stock, one device each);
- `day`: the mix of a counter's day, in cycles of one person each (payloads shaped as the
  services write them): the new laptop received at goods-in, the exchange (old device back,
  new one out; every eighth by courier, so the 25% cap holds at every prefix), the courier
  collection when there was one, the old device's erasure certificate and its release to a
  school. People go through in blocks of 40, so a batch holds the whole life of a device and the
  push must order events that touch the same device. `register_rows` gives the people and old
  devices central must know beforehand (an admin's `import --central`).
"""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.persistence.models import EventRow
from app.sync.outbox import StationOutbox

BLOCK = 40


def _row(station, seq: int, type_: str, payload: dict) -> dict:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return {"seq": seq, "event_id": str(uuid.uuid4()), "station_id": station.station_id,
            "epoch": station.epoch, "type": type_, "schema_v": 1, "payload": text,
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "operator": "A1",
            "occurred_at": "2026-11-25T10:00:00+00:00"}


def _received(station, tag: str, k: int) -> dict:
    return {"tag": tag, "serial": f"S{k}", "type": "laptop", "model": "Latitude 5440",
            "os": "Windows 11", "state": "in_stock", "holder": None, "sole_use": False,
            "site": station.site}


def outbox_rows(station, n: int, start_seq: int) -> list[dict]:
    return [_row(station, start_seq + k, "device.received", _received(station, f"BENCH-{k:07d}", k))
            for k in range(n)]


def _day_events(station, k: int) -> list[tuple[str, dict]]:
    """The events of person k's cycle, by phase: 0 goods-in, 1 exchange, 2 collection,
    3 certificate, 4 release."""
    new, old, person = f"NEW-{k:07d}", f"OLD-{k:07d}", f"P{k:07d}"
    courier = k % 8 == 7
    exchange = {"exchange_id": str(uuid.uuid4()), "returned": [old], "issued": [new],
                "courier": courier, "awaiting_collection": [old] if courier else [],
                "exceptions": [], "reclamation_tasks": [], "person": person, "lost": [],
                "at_confirmed": False, "site": station.site, "registered": []}
    phases = [[("device.received", _received(station, new, k))],
              [("exchange.recorded", exchange)],
              [("courier.collected", {"exchange_id": exchange["exchange_id"], "collected": old,
                                      "still_awaited": [], "issued": [new]})] if courier else [],
              [("sanitisation.certified", {
                  "tag": old, "certificate": str(uuid.uuid4()), "report_id": f"R{k}",
                  "source": "blancco", "sha256": hashlib.sha256(old.encode()).hexdigest(),
                  "filename": f"{old}.xml", "passed": True, "method": "NIST 800-88 Purge",
                  "method_category": "purge", "physical_destruction": False,
                  "system_serial": f"OS{k}", "finished_at": "2026-11-25T11:00:00+00:00",
                  "disks": [{"serial": f"D{k}", "outcome": "erased", "boot": False}],
                  "validated_by": None, "reviews_resolved": 0, "reader": "blancco-xml",
                  "reader_version": 1})],
              [("device.released", {"released": old, "route": "reuse", "to": "Hill School",
                                    "collection": f"COL-{k // BLOCK}", "transfer_note": None,
                                    "certificate": None, "released_at": "2026-11-25"})]]
    return phases


def day_rows(station, n: int, start_seq: int) -> list[dict]:
    rows: list[dict] = []
    k = 0
    while len(rows) < n:
        cycles = [_day_events(station, k + j) for j in range(BLOCK)]
        for phase in range(5):
            for cycle in cycles:
                for type_, payload in cycle[phase]:
                    if len(rows) < n:
                        rows.append(_row(station, start_seq + len(rows), type_, payload))
        k += BLOCK
    return rows


def register_rows(n_events: int) -> tuple[list[tuple], list[tuple]]:
    """(people, old devices held by them) that a `day` workload of n_events refers to."""
    people = n_events // 4 + BLOCK
    return ([(f"P{k:07d}", f"Person {k}", "Bench") for k in range(people)],
            [(f"OLD-{k:07d}", f"OS{k}", "laptop", "EliteBook 840 G1", "Windows 8.1", "issued",
              f"P{k:07d}") for k in range(people)])


def fill_outbox(st, n: int, workload: str = "received") -> list[dict]:  # noqa: ANN001
    info = StationOutbox(st.engine).station()
    with Session(st.engine) as s, s.begin():
        start = (s.scalar(select(func.max(EventRow.seq))) or 0) + 1
        rows = (day_rows if workload == "day" else outbox_rows)(info, n, start)
        s.execute(insert(EventRow), rows)
    return rows
