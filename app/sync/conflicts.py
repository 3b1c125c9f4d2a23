"""Sync conflicts a person must settle: the Conflicts screen's data, and the decision.

Central keeps every conflict as a row with both (or all) records that clash (SYNC.md 2.5):
`open_conflicts(url)` returns them for the screen, side by side, each with what its station had
seen of central when it acted (its last whole sync, `expected`). A site lead settles one with
`resolve_conflict(...)`, which records a `conflict.resolved` event in this station's outbox;
it syncs like any other event, and central closes the conflict, applies the decision and
clears `disputed` when no other conflict is open on that device or person. The first decision
central receives stands; a later one for the same conflict changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import events
from app.domain.devices import DeviceState
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput
from app.services.context import ServiceContext
from app.sync import central

KINDS = {
    "DEVICE_DOUBLE_ISSUE": "the same device was issued at two stations",
    "PERSON_DOUBLE_EXCHANGE": "the same person handed back the same device twice",
    "HANDOVER_MISSING": "a device handed over or issued that the register does not know",
    "HANDOVER_MISMATCH": "a device handed back that the register gives to someone else",
    "PAYLOAD_MISMATCH": "a station sent two different events at one position",
    "COURIER_OVERRUN": ("a station's courier laptops, or the units it gave back, passed its "
                        "allowance"),
}


@dataclass(frozen=True)
class ConflictRecord:
    """One side of a conflict: what a station recorded, and when, by whom."""

    event_id: str
    station_id: str | None
    seq: int | None
    type: str | None
    operator: str | None
    occurred_at: str | None
    payload: dict | None
    #: what the station had seen of central when it recorded this (SYNC.md 2.5): `expected`
    #: as central keeps it; None for an older station's event
    expected: dict | None = None

    @property
    def says_when_synced(self) -> bool:
        """Whether the station said when it had last synced (older stations do not)."""
        return isinstance(self.expected, dict) and "central_seen_at" in self.expected

    @property
    def central_seen_at(self) -> str | None:
        """The station's last sync when it recorded this (ISO); None: never, or not said."""
        return self.expected.get("central_seen_at") if self.says_when_synced else None


@dataclass(frozen=True)
class Conflict:
    conflict_id: int
    kind: str
    subject: str          # "device:TAG", "person:STAFF_ID", "station:ID" or "stream:..."
    status: str
    opened_at: str
    records: tuple[ConflictRecord, ...]

    @property
    def description(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def subject_key(self) -> str:
        return self.subject.split(":", 1)[1]


def open_conflicts(central_url: str, include_resolved: bool = False) -> list[Conflict]:
    """The conflicts for the Conflicts screen, oldest first, each with its records."""
    import psycopg

    conn = central.connect(central_url, application_name="conflicts")
    try:
        rows = conn.execute(
            "SELECT conflict_id, kind, subject, status, opened_at::text, event_id::text, "
            "station_id, seq, type, operator, occurred_at, payload, "
            "to_jsonb(d) -> 'expected' "  # (NULL from a central older than c0019)
            "FROM conflict_detail d "
            "WHERE status = 'open' OR %s ORDER BY conflict_id, station_id, seq",
            (include_resolved,)).fetchall()
    except psycopg.Error as exc:
        from app.sync.push import central_error

        raise central_error("reading the conflicts", exc) from None
    finally:
        conn.close()
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [Conflict(cid, rs[0][1], rs[0][2], rs[0][3], rs[0][4],
                     tuple(ConflictRecord(*r[5:]) for r in rs)) for cid, rs in grouped.items()]


def resolve_conflict(ctx: ServiceContext, actor: Operator, conflict: Conflict, note: str,
                     holder: str | None = None, state: str | None = None,
                     keep_holder: bool = True) -> dict:
    """A site lead's decision, recorded as an event that syncs. For a device: who holds it
    now (`holder`, or nobody with `keep_holder=False`) and its `state`; `note` says why. A
    holder means the device is issued; returned, lost or in stock means nobody holds it; a
    decision that would leave it otherwise is refused (BadInput)."""
    actor.require(Permission.OVERRIDE)
    note = (note or "").strip()
    if len(note) < 5:
        raise BadInput("a decision needs a note saying what was found (at least 5 characters)")
    decision: dict = {}
    if state is not None:
        decision["state"] = DeviceState(state).value
    if holder is not None or not keep_holder:
        decision["holder"] = holder.strip().upper() if holder else None
    if conflict.subject.startswith("device:"):
        _consistent(decision)
    payload = {"conflict_id": conflict.conflict_id, "kind": conflict.kind,
               "subject": conflict.subject, "decision": decision, "note": note,
               "records": [r.event_id for r in conflict.records]}
    with ctx.uow_factory() as uow:
        if decision.get("holder") and uow.people.get(decision["holder"]) is None:
            raise BadInput(f"no person with staff number {decision['holder']}")
        recorded = uow.record(events.DomainEvent(events.CONFLICT_RESOLVED, payload),
                              actor.staff_id)
        uow.commit()
    return payload | {"event_id": recorded.event_id}


#: The states in which a device has a holder (SYNC.md I7: exactly these).
HELD = (DeviceState.ISSUED.value, DeviceState.COURIER_PENDING.value)


def _consistent(decision: dict) -> None:
    """A decision never leaves a device held while returned, lost or in stock, nor issued to
    nobody: someone named as holder has it issued (unless a state says otherwise, which is
    refused); a state without a holder clears the holder; nobody with no such state is
    refused."""
    state, holder = decision.get("state"), decision.get("holder")
    if holder:
        if decision.setdefault("state", DeviceState.ISSUED.value) not in HELD:
            raise BadInput(f"a device {decision['state'].replace('_', ' ')} has no holder: "
                           "leave the holder empty, or set the state to issued")
    elif state is not None and state not in HELD:
        decision["holder"] = None
    elif "holder" in decision:
        raise BadInput("nobody holds the device now: say which state it is in (returned, lost "
                       "or in stock)")
