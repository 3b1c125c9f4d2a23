"""Events fetched back from central after this station was restored from an older copy.

SYNC.md 2.3 step 0: when central holds more of this station's stream than the station itself,
push starts a new epoch and "pulls the station's own events back from central". Those are the
events of the old epoch after the last seq both sides agree on: exchanges, goods-in,
certificates... recorded after the copy was taken. They are

  * fetched a page at a time with `sync_stream_events` (central c0010; this station's role
    may fetch only its own stream), before anything changes locally;
  * stored in `recovered_events` in the same SQLite transaction that starts the new epoch
    (`StationOutbox.start_epoch`): a crash leaves either the old epoch and nothing recovered,
    or the new epoch with everything recovered, and the next sync decides again;
  * counted by the daily summary, the dashboard and `status`, and never pushed (central has
    them). The laptops they issued and the escrow units they released go back into the
    station's courier allowance (R5), so the restored station cannot spend them twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import events
from app.persistence.models import EventRow, RecoveredEventRow, StationRow

log = logging.getLogger(__name__)

PAGE = 1000


@dataclass(frozen=True)
class LostEvent:
    seq: int
    event_id: str
    type: str
    schema_v: int
    payload: str  # the station's own encoding: sorted keys, no spaces (as `uow.record` writes)
    sha256: str
    operator: str | None
    occurred_at: str
    counter_laptops: int = 0   # what it added to the courier allowance (R5, SYNC.md 2.6)
    courier_laptops: int = 0
    released_units: int = 0


@dataclass(frozen=True)
class Recovery:
    """The events central holds of `epoch` after `after`, where this station parted from it."""

    station_id: str
    epoch: str
    after: int
    events: tuple[LostEvent, ...] = ()


def fetch(conn, station_id: str, epoch: str, after: int,  # noqa: ANN001 - psycopg
          page: int | None = None) -> Recovery:
    """Central's events of this station's `epoch` after `after` (read only; autocommit psycopg),
    `page` at a time, with what each added to the courier allowance (laptops by central's
    register)."""
    import psycopg

    from app.sync.push import central_error

    page = page or PAGE
    rows: list[tuple] = []
    try:
        while True:
            got = conn.execute(
                "SELECT seq, event_id::text, type, schema_v, payload, sha256, operator, "
                "occurred_at FROM sync_stream_events(%s, %s, %s, %s)",
                (station_id, epoch, rows[-1][0] if rows else after, page)).fetchall()
            rows += got
            if len(got) < page:
                break
        issued = sorted({t for r in rows if r[2] == events.EXCHANGE_RECORDED
                         for t in (r[4] or {}).get("issued", [])})
        laptops = {tag for (tag,) in conn.execute(
            "SELECT asset_tag FROM device_state WHERE asset_tag = ANY(%s) AND type = 'laptop'",
            (issued,))} if issued else set()
    except psycopg.Error as exc:
        raise central_error("fetching this station's own events back", exc) from None
    return Recovery(station_id, epoch, after, tuple(_lost(row, laptops) for row in rows))


def epochs(conn, station_id: str) -> list[tuple[str, int, int]]:  # noqa: ANN001 - psycopg
    """(epoch, base, hwm) of every stream of this station at central (c0015)."""
    import psycopg

    from app.sync.push import central_error

    try:
        return [(str(e), b, h) for e, b, h in conn.execute(
            "SELECT epoch, base, hwm FROM sync_stream_epochs(%s)", (station_id,))]
    except psycopg.Error as exc:
        raise central_error("listing this station's streams", exc) from None


def _lost(row: tuple, laptops: set[str]) -> LostEvent:
    seq, event_id, kind, schema_v, payload, sha256, operator, occurred_at = row
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    if hashlib.sha256(text.encode()).hexdigest() != sha256:
        log.warning("recovered event %s (seq %s): its payload re-encodes to another hash than "
                    "central's; kept as central holds it", event_id, seq)
    counter = courier = released = 0
    if kind == events.EXCHANGE_RECORDED:
        n = sum(tag in laptops for tag in payload.get("issued", []))
        courier, counter = (n, 0) if payload.get("courier") else (0, n)
    elif kind == events.ESCROW_RELEASED:
        released = int(payload.get("units", 0))
    return LostEvent(seq, event_id, kind, schema_v, text, sha256, operator, occurred_at,
                     counter, courier, released)


def store(s: Session, recovery: Recovery, now: str) -> int:
    """Add the recovered events in the caller's transaction; returns how many were new. An
    event already here, or still in the outbox, is skipped, so storing twice changes nothing."""
    ids = [e.event_id for e in recovery.events]
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        known.update(s.scalars(select(RecoveredEventRow.event_id)
                               .where(RecoveredEventRow.event_id.in_(chunk))))
        known.update(s.scalars(select(EventRow.event_id).where(EventRow.event_id.in_(chunk))))
    new = [e for e in recovery.events if e.event_id not in known]
    if not new:
        return 0
    s.execute(RecoveredEventRow.__table__.insert(), [
        {"epoch": recovery.epoch, "seq": e.seq, "event_id": e.event_id,
         "station_id": recovery.station_id, "type": e.type, "schema_v": e.schema_v,
         "payload": e.payload, "sha256": e.sha256, "operator": e.operator,
         "occurred_at": e.occurred_at, "recovered_at": now} for e in new])
    counter = sum(e.counter_laptops for e in new)
    courier = sum(e.courier_laptops for e in new)
    released = sum(e.released_units for e in new)
    if counter or courier or released:
        s.execute(update(StationRow).values(
            counter_laptops=StationRow.counter_laptops + counter,
            courier_laptops=StationRow.courier_laptops + courier,
            released_units=StationRow.released_units + released))
    return len(new)
