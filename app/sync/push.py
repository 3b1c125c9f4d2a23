"""Push: the station's outbox to central, one PostgreSQL transaction per batch (SYNC.md 2.3).

    hwm = handshake()                       # central's word, never the local `acked_seq`
    while events after hwm:
        BEGIN; sync_push_batch(...)         # lock stream, compare, contiguity, insert, apply
        COMMIT                              # an error here: outcome unknown, the next
        acked_seq := hwm                    #   handshake decides; a kill here is harmless
                                            #   (written while the next batch goes: it may
                                            #   lag two batches, and the handshake compares)

Business clashes come back as conflict rows, never as errors, so the queue never stalls.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.domain.rules import CentralUnreachable
from app.faults import crash_point
from app.sync import recovery
from app.sync.central import SyncFailed
from app.sync.outbox import StationOutbox

log = logging.getLogger(__name__)

BATCH_SIZE = 1000  # SYNC.md says 200; see db/central/versions/c0008 and the README
RETRIES = 5
_RETRY_STATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock_not_available


@dataclass(frozen=True)
class PushResult:
    pushed: int
    conflicts: int
    hwm: int
    new_epoch: str | None = None  # set when this station had to start a new stream
    recovered: int = 0  # its own events of the old stream fetched back from central
    central_behind: bool = False  # central held less than it had acknowledged: restored


@dataclass(frozen=True)
class _Batch:
    status: str
    hwm: int
    inserted: int
    conflicts: int


def push(outbox: StationOutbox, conn, batch_size: int = BATCH_SIZE) -> PushResult:  # noqa: ANN001
    """Send every event central lacks; returns what was sent. `conn` is autocommit psycopg."""
    station = outbox.station()
    hwm = handshake(conn, station.station_id, station.epoch, station.site,
                    outbox.epoch_base(station.epoch))
    local_max = outbox.max_seq(station.epoch) or outbox.epoch_base(station.epoch)
    parted = _parting(outbox, conn, station, hwm, local_max)
    new_epoch, recovered = None, 0
    if hwm > local_max or parted is not None:
        # restored from an older copy (SYNC.md 2.3 step 0): what central holds beyond the
        # common part stays there; this station's own events after it go in a new stream
        common = parted if parted is not None else local_max
        # central's events of the old stream after the common part are this station's own
        # (recorded after the copy was taken): fetched first, stored with the new epoch
        lost = [recovery.fetch(conn, station.station_id, station.epoch, common)]
        # and every other stream of this station central holds beyond what is here (a
        # station restored twice from one copy lost the stream the first restore started)
        for epoch, base, epoch_hwm in recovery.epochs(conn, station.station_id):
            after = max(base, outbox.known_upto(epoch))
            if epoch != station.epoch and epoch_hwm > after:
                lost.append(recovery.fetch(conn, station.station_id, epoch, after))
        before = outbox.recovered_count()
        new_epoch = outbox.start_epoch(common, *lost)
        recovered = outbox.recovered_count() - before
        log.warning("station %s was restored from an older copy: central holds its events up "
                    "to %s, this station agrees up to %s; new epoch %s; %s events recovered "
                    "from central", station.station_id, hwm, common, new_epoch, recovered)
        station = outbox.station()
        hwm = handshake(conn, station.station_id, station.epoch, station.site, common)
        local_max = outbox.max_seq(station.epoch) or common
    # Send from what this station believes central has: anything central has beyond that is
    # compared again in the batch (step 2), so nothing different slips past.
    start = min(hwm, outbox.station().acked_seq)
    central_behind = hwm < station.acked_seq
    if central_behind:
        outbox.ack(hwm)  # central was restored: resend from its hwm + 1
    pushed = conflicts = stalled = 0
    # The next batch is read and encoded while central works on this one (psycopg waits for
    # the server without holding the GIL); it is thrown away if central's answer differs. The
    # local ack (a SQLite commit, an fsync) is written by the same thread while central works
    # on the next batch: an ack that is late or lost costs only a longer handshake next time.
    acking = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="push-read") as reader:
        def read(after: int):  # noqa: ANN202
            return reader.submit(_prepared, outbox, station.epoch, after, batch_size)

        try:
            ahead = read(start)
            while start < local_max:
                events, wire = ahead.result()
                crash_point("after_outbox_read")
                last = events[-1].seq if events else start
                ahead = read(last)
                batch = _send_wire(conn, station.station_id, station.epoch, wire)
                crash_point("after_pg_commit")
                pushed, conflicts = pushed + batch.inserted, conflicts + batch.conflicts
                if batch.status == "mismatch":
                    raise SyncFailed(
                        f"central holds a different event than this station at a position of "
                        f"station {station.station_id} ({events[0].seq}..{events[-1].seq}): "
                        "recorded as a PAYLOAD_MISMATCH conflict; sync is stopped until the "
                        "central admin looks at it. Nothing is lost here.")
                if acking is not None:
                    done, acking = acking, None
                    done.result()  # the previous ack's error, if any, stops the push here
                acking = reader.submit(outbox.ack, batch.hwm)
                stalled = stalled + 1 if batch.hwm <= start else 0
                if stalled > 2:
                    raise SyncFailed(f"central keeps answering hwm {batch.hwm} ({batch.status}); "
                                     "sync stopped")
                if batch.hwm != last:
                    ahead = read(batch.hwm)  # central answered otherwise: read again from its hwm
                start = hwm = batch.hwm
                local_max = max(local_max, outbox.max_seq(station.epoch))
            if acking is not None:
                done, acking = acking, None
                done.result()
        except BaseException:
            _unread_ack(acking)  # an ack still pending when the push stopped for another reason
            raise
    return PushResult(pushed, conflicts, hwm, new_epoch, recovered, central_behind)


def _unread_ack(pending) -> None:  # noqa: ANN001 - a Future of outbox.ack, or None
    """Wait for an ack nobody will read now, and log its error (the push's own error is the
    one raised)."""
    if pending is not None and pending.exception() is not None:
        log.error("writing the local ack failed too (%s); central has the events, the next "
                  "sync's handshake finds them there", pending.exception())


def handshake(conn, station_id: str, epoch: str, site: str, base: int = 0) -> int:  # noqa: ANN001
    """Central's high-water mark of this station's stream (made on first use, after `base`)."""
    import psycopg

    try:  # one statement in autocommit: one round trip, atomic on its own
        return conn.execute("SELECT sync_handshake(%s, %s, %s, %s)",
                            (station_id, epoch, site, base)).fetchone()[0]
    except psycopg.Error as exc:
        raise central_error("the handshake", exc) from None


def _parting(outbox: StationOutbox, conn, station, hwm: int,  # noqa: ANN001
             local_max: int) -> int | None:
    """Where this station's outbox and central's copy of its stream part, when central holds
    events this station has not seen acknowledged: the last seq they agree on, else None."""
    low, high = min(station.acked_seq, hwm), min(hwm, local_max)
    if high <= low:
        return None
    import psycopg

    try:  # by event id as well as hash: two actions can write the same payload
        theirs = {seq: (event_id, sha) for seq, event_id, sha in conn.execute(
            "SELECT seq, event_id::text, sha256 FROM sync_stream_events(%s, %s, %s, %s)",
            (station.station_id, station.epoch, low, high - low)).fetchall()}
    except psycopg.Error as exc:
        raise central_error("the handshake", exc) from None
    agreed = low
    for event in outbox.events_after(station.epoch, low, high - low):
        if theirs.get(event.seq) != (event.event_id, event.sha256):
            return agreed
        agreed = event.seq
    return None


def _prepared(outbox: StationOutbox, epoch: str, after: int, limit: int) -> tuple[list, str]:
    events = outbox.events_after(epoch, after, limit)
    return events, _wire(events)


def _wire(events: list) -> str:
    return "[" + ",".join(e.wire_json() for e in events) + "]"


def _send(conn, station_id: str, epoch: str, events: list) -> _Batch:  # noqa: ANN001
    return _send_wire(conn, station_id, epoch, _wire(events))


def _send_wire(conn, station_id: str, epoch: str, wire: str) -> _Batch:  # noqa: ANN001
    import psycopg

    for attempt in range(RETRIES):
        try:
            with conn.transaction():
                row = conn.execute("SELECT * FROM sync_push_batch(%s, %s, %s::jsonb)",
                                   (station_id, epoch, wire)).fetchone()
                crash_point("before_pg_commit")
            return _Batch(*row)
        except psycopg.Error as exc:
            if exc.sqlstate in _RETRY_STATES and attempt < RETRIES - 1:
                time.sleep(random.uniform(0.05, 0.2) * 2 ** attempt)
                continue
            raise central_error("a push", exc) from None
    raise AssertionError("unreachable")


def central_error(step: str, exc: BaseException) -> CentralUnreachable:
    """A psycopg error as the exit-5 error the operator sees."""
    import psycopg

    diag = getattr(exc, "diag", None)
    detail = " ".join(((diag and diag.message_primary) or str(exc)).split())
    detail = detail or exc.__class__.__name__
    if isinstance(exc, psycopg.OperationalError):
        return CentralUnreachable(
            f"the connection to central failed during {step} ({detail}); nothing is lost: "
            "the next sync checks what central kept")
    return SyncFailed(f"central refused {step} ({detail}); nothing is lost locally")
