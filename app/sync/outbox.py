"""The station's side of sync: its outbox of events, its acknowledgement, its pull cursor.

Reads never take SQLite's write lock; `ack` is one short write transaction. The outbox rows
are never deleted (SYNC.md 2.1): they are the copy central is rebuilt from after a restore.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app.domain.station import StationInfo
from app.faults import crash_point
from app.persistence.engine import reader
from app.persistence.models import EventRow, RecoveredEventRow, StationRow
from app.sync.recovery import Recovery, store as store_recovered


@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    event_id: str
    type: str
    schema_v: int
    payload: str
    sha256: str
    operator: str | None
    occurred_at: str
    central_seen_at: str | None = None  # the station's last sync when it was recorded

    def as_wire(self) -> dict:
        return {"seq": self.seq, "event_id": self.event_id, "type": self.type,
                "schema_v": self.schema_v, "payload": json.loads(self.payload),
                "sha256": self.sha256, "operator": self.operator,
                "occurred_at": self.occurred_at, "expected": self.expected()}

    def expected(self) -> dict | None:
        """What the station had seen of central when it recorded the event (SYNC.md 2.5):
        central keeps it in `event.expected`; the Conflicts screen shows it. None for an event
        recorded before the station kept it (local 0005 marks those '')."""
        if self.central_seen_at == "":
            return None
        return {"central_seen_at": self.central_seen_at}

    def wire_json(self) -> str:
        """`as_wire()` as JSON text, the stored payload spliced in as it is (no re-parsing)."""
        head = json.dumps({"seq": self.seq, "event_id": self.event_id, "type": self.type,
                           "schema_v": self.schema_v, "sha256": self.sha256,
                           "operator": self.operator, "occurred_at": self.occurred_at,
                           "expected": self.expected()})
        return f'{head[:-1]}, "payload": {self.payload}}}'


class StationOutbox:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._reader = reader(engine)

    def station(self) -> StationInfo:
        with Session(self._reader) as s:
            row = s.scalars(select(StationRow).limit(1)).first()
            if row is None:
                from app.domain.rules import BadInput

                raise BadInput("this station is not set up yet: run `exchange-station init "
                               "--station ID --site NAME` first")
            return StationInfo(row.station_id, row.site, row.epoch, row.acked_seq,
                               row.last_sync_at, row.granted_units, row.released_units)

    def max_seq(self, epoch: str) -> int:
        with Session(self._reader) as s:
            return s.scalar(select(func.max(EventRow.seq)).where(EventRow.epoch == epoch)) or 0

    def events_after(self, epoch: str, seq: int, limit: int) -> list[OutboxEvent]:
        with self._reader.connect() as conn:
            rows = conn.execute(
                select(EventRow.seq, EventRow.event_id, EventRow.type, EventRow.schema_v,
                       EventRow.payload, EventRow.sha256, EventRow.operator,
                       EventRow.occurred_at, EventRow.central_seen_at)
                .where(EventRow.epoch == epoch, EventRow.seq > seq)
                .order_by(EventRow.seq).limit(limit))
            return [OutboxEvent(*row) for row in rows]

    def epoch_base(self, epoch: str) -> int:
        """The seq this epoch's stream starts after (its first event's seq - 1)."""
        with Session(self._reader) as s:
            first = s.scalar(select(func.min(EventRow.seq)).where(EventRow.epoch == epoch))
            if first is not None:
                return first - 1
            return s.scalar(select(func.max(EventRow.seq))) or 0

    def start_epoch(self, verified: int, *recoveries: Recovery) -> str:
        """A new stream for events after `verified` (this station was restored from an older
        copy): the events central never accepted move into it, and `recoveries` (what central
        holds of this station's streams that it lost) are stored, all in ONE transaction.
        Returns the new epoch."""
        epoch = str(uuid.uuid4())
        with Session(self.engine) as s, s.begin():
            s.execute(update(EventRow).where(EventRow.seq > verified).values(epoch=epoch))
            now = datetime.now().astimezone().isoformat()
            for recovery in recoveries:
                store_recovered(s, recovery, now)
            crash_point("mid_recovery")
            s.execute(update(StationRow).values(epoch=epoch, acked_seq=verified))
        return epoch

    def known_upto(self, epoch: str) -> int:
        """The last seq of `epoch` this station holds, in its outbox or recovered (0: none)."""
        with Session(self._reader) as s:
            return max(s.scalar(select(func.max(EventRow.seq)).where(EventRow.epoch == epoch))
                       or 0,
                       s.scalar(select(func.max(RecoveredEventRow.seq))
                                .where(RecoveredEventRow.epoch == epoch)) or 0)

    def recovered_count(self, epoch: str | None = None, after: int = 0) -> int:
        """Events fetched back from central after a restore (of `epoch` after `after`)."""
        where = [RecoveredEventRow.seq > after]
        if epoch is not None:
            where.append(RecoveredEventRow.epoch == epoch)
        with Session(self._reader) as s:
            return s.scalar(select(func.count()).select_from(RecoveredEventRow)
                            .where(*where)) or 0

    def ack(self, hwm: int, synced: bool = False) -> None:
        """Central holds this station's events up to `hwm`: `acked_seq := hwm` (SYNC.md 2.3 step 8).
        `synced`: a whole sync (push and pull) has just succeeded, so `last_sync_at` moves too
        (the status bar's "last sync", and what each event recorded next says was seen)."""
        values: dict = {"acked_seq": hwm}
        if synced:
            values["last_sync_at"] = datetime.now().astimezone().isoformat()
        with Session(self.engine) as s, s.begin():
            s.execute(update(StationRow).values(**values))
            crash_point("mid_local_ack")
