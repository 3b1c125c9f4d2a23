"""One sync cycle as a plain-Python call: push, then pull (SYNC.md 2.4, "Cycle order").

    runner = SyncRunner(station.engine)
    report = runner.run_once("postgresql://station_hq01@central.example/exchange?sslmode=verify-full")
    report.ok, report.pushed, report.pulled, report.conflicts, report.error

`run_once` never raises for a central that is down or refuses: the report carries the error
(the window's `syncIndicator` shows it; the command line exits 5). It is safe to call from a
worker thread: it opens its own SQLite sessions and its own PostgreSQL connection, and closes
both before returning. Two runners for one station at once are safe too (central's stream
row lock serialises them), just wasteful.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from app.domain.rules import StationError
from app.sync import central, pull, push
from app.sync.outbox import StationOutbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncReport:
    pushed: int = 0            # events central stored in this run
    pulled: int = 0            # reference changes applied to this station
    conflicts: int = 0         # conflicts this run's events opened or joined at central
    unsynced: int = 0          # local events central does not hold yet, after the run
    last_sync_at: str | None = None
    error: str | None = None   # what went wrong, in words for the operator; None when all went
    seconds: float = 0.0
    notice: str | None = None  # something the site lead should know although all went well
    recovered: int = 0         # this station's own events fetched back from central (restore)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict:
        return {"ok": self.ok, "pushed": self.pushed, "pulled": self.pulled,
                "conflicts": self.conflicts, "unsynced_events": self.unsynced,
                "last_sync": self.last_sync_at, "error": self.error,
                "notice": self.notice, "recovered_events": self.recovered,
                "seconds": round(self.seconds, 3)}


class SyncRunner:
    def __init__(self, engine: Engine, batch_size: int = push.BATCH_SIZE):
        self.outbox = StationOutbox(engine)
        self.batch_size = batch_size

    def run_once(self, central_url: str) -> SyncReport:
        started = time.monotonic()
        pushed = pushed_conflicts = pulled = recovered = 0
        error = notice = None
        try:
            station = self.outbox.station()
            conn = central.connect(central_url, application_name=f"sync-{station.station_id}")
            try:
                conn.autocommit = True
                result = push.push(self.outbox, conn, self.batch_size)
                pushed, pushed_conflicts = result.pushed, result.conflicts
                recovered = result.recovered
                if result.new_epoch:
                    notice = ("this station was restored from an older copy: "
                              f"{recovered} event{'s' * (recovered != 1)} recorded here after "
                              "the copy was taken came back from central (the reports count "
                              "them again); its new events now go to central in a new stream; "
                              "tell the central admin")
                pulled = pull.pull(self.outbox, conn, reload=result.central_behind).changes
                self.outbox.ack(result.hwm, synced=True)  # even with nothing to send
            finally:
                conn.close()
        except StationError as exc:
            error = exc.user_message
        except Exception as exc:  # noqa: BLE001 - a bug: logged, reported, nothing lost
            log.exception("sync failed")
            error = f"sync failed unexpectedly ({exc.__class__.__name__}); nothing was lost"
        unsynced, last_sync_at = self.backlog()
        return SyncReport(pushed, pulled, pushed_conflicts, unsynced, last_sync_at, error,
                          time.monotonic() - started, notice, recovered)

    def backlog(self) -> tuple[int, str | None]:
        """(events central does not hold yet, the last successful sync) for the indicator."""
        try:
            station = self.outbox.station()
        except StationError:
            return 0, None
        return self.outbox.max_seq(station.epoch) - station.acked_seq, station.last_sync_at
