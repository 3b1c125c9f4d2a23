"""Fill a station's outbox with N synthetic events fast (for the fault tests and bench_sync)."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.persistence.models import EventRow
from app.sync.outbox import StationOutbox


def outbox_rows(station, n: int, start_seq: int) -> list[dict]:
    rows = []
    for k in range(n):
        payload = json.dumps({"tag": f"BENCH-{k:07d}", "serial": f"S{k}", "type": "laptop",
                              "model": "Latitude 5440", "os": "Windows 11", "state": "in_stock",
                              "holder": None, "sole_use": False, "site": station.site},
                             sort_keys=True, separators=(",", ":"))
        rows.append({"seq": start_seq + k, "event_id": str(uuid.uuid4()),
                     "station_id": station.station_id, "epoch": station.epoch,
                     "type": "device.received", "schema_v": 1, "payload": payload,
                     "sha256": hashlib.sha256(payload.encode()).hexdigest(), "operator": "A1",
                     "occurred_at": "2026-11-25T10:00:00+00:00"})
    return rows


def fill_outbox(st, n: int) -> list[dict]:  # noqa: ANN001 - an opened station
    info = StationOutbox(st.engine).station()
    with Session(st.engine) as s, s.begin():
        start = (s.scalar(select(func.max(EventRow.seq))) or 0) + 1
        rows = outbox_rows(info, n, start)
        s.execute(insert(EventRow), rows)
    return rows
