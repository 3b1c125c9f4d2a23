"""Pull: people, the device register, holdings, courier grants and disputed flags (SYNC.md 2.4).

Central's triggers log every change of `person_state`, `device_state` and `escrow_ledger` in
`ref_change`, stamped with the writing transaction's id (xid8). The station reads

    WHERE (xid, id) > cursor AND xid < pg_snapshot_xmin(pg_current_snapshot())   -- the fence

so a transaction that commits late is never skipped (a plain id cursor would skip it). The
fence actually used, `sync_pull_fence()`, leaves out transactions of other databases on the
same server (central migration c0003). It then fetches the current rows of the keys it saw,
and applies rows and the new cursor in ONE SQLite transaction (moving the cursor first is PouchDB#1240). The cursor carries central's
`db_epoch`: after a central restore the xids mean nothing, so the station reloads everything.

A restore must change that epoch, and `meta.db_epoch` alone does not: a dump restores it with
the rest. So the epoch the cursor carries (`central_epoch`) also folds in what a restore cannot
keep: the database's oid (a restore into a newly created database), the server's system
identifier (another cluster) and its timeline (a point-in-time recovery, a promoted standby).
A restore into the same database (`pg_restore --clean`) keeps all three: it shows as the
cursor's own change being gone (`_cursor_lost`), or as push finding central holding fewer of
this station's events than it acknowledged (`pull(reload=True)`). A copy of the data directory
put back on the same server shows as a cursor ahead of every xid central has handed out; for
anything else the admin starts a new epoch by hand (`exchange-station init --central URL
--restored`, db/central/README.md).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.faults import crash_point
from app.persistence.engine import reader
from app.persistence.models import DeviceRow, PersonRow, StationRow
from app.sync.outbox import StationOutbox

PAGE = 1000
RELOAD_CHUNK = 5000
FENCE_WAIT_S = 1.0
_END = 2**63 - 1
_PERSON = "staff_id, name, site, shielding, assistive_tech, disputed"
_DEVICE = ("asset_tag, serial, type, model, os, state, holder, sole_use, site, unit_cost_pence, "
           "disputed")


@dataclass(frozen=True)
class Cursor:
    db_epoch: str
    xid: int
    id: int

    def __str__(self) -> str:
        return f"{self.db_epoch}:{self.xid}:{self.id}"

    @classmethod
    def parse(cls, text_: str | None) -> "Cursor | None":
        try:
            epoch, xid, id_ = (text_ or "").split(":")
            return cls(epoch, int(xid), int(id_))
        except ValueError:
            return None


@dataclass(frozen=True)
class PullResult:
    changes: int
    reloaded: bool


def pull(outbox: StationOutbox, conn, wait_s: float = FENCE_WAIT_S,  # noqa: ANN001
         reload: bool = False) -> PullResult:
    """Apply central's reference changes since the cursor. Changes committed but still behind
    the fence (an older transaction of central is running) are waited for up to `wait_s`;
    after that they simply come with the next sync. `reload`: everything again (push found
    central holding less of this station than it had acknowledged: central was restored).
    Central's errors come back as the operator's exit-5 message (a dropped line, a refusal)."""
    import psycopg

    from app.sync.push import central_error

    try:
        return _pull(outbox, conn, wait_s, reload)
    except psycopg.Error as exc:
        raise central_error("the pull", exc) from None


def _pull(outbox: StationOutbox, conn, wait_s: float, reload: bool) -> PullResult:  # noqa: ANN001
    station = outbox.station()
    db_epoch, next_xid = central_epoch(conn)
    cursor = Cursor.parse(read_cursor(outbox))
    if reload or cursor is None or cursor.db_epoch != db_epoch or cursor.xid >= next_xid \
            or _cursor_lost(conn, cursor):
        return PullResult(_reload(outbox, conn, station.station_id, db_epoch), True)
    changes, deadline = 0, time.monotonic() + wait_s
    while True:
        page = _page(conn, station.station_id, cursor)
        if page is None:
            if not _fenced(conn, cursor) or time.monotonic() >= deadline:
                return PullResult(changes, False)
            time.sleep(0.05)
            continue
        rows, people, devices, granted = page
        cursor = Cursor(db_epoch, rows[-1][0], rows[-1][1])
        people += _holders_missing(conn, outbox, people, devices)
        apply_reference(outbox, people, devices, granted, cursor)
        changes += len(rows)


_EPOCH = uuid.UUID("6f0c3d52-8d3b-4c55-9a1e-0e7a2f5b9c11")  # names the derived epochs


def _cursor_lost(conn, cursor: Cursor) -> bool:  # noqa: ANN001
    """The change the cursor stands on is no longer central's: central was restored into the
    same database (`pg_restore --clean`), which keeps its oid, system and timeline, and reuses
    change ids with other xids. (A cursor set by a reload stands on no change.)"""
    if cursor.id == _END:
        return False
    return not conn.execute("SELECT EXISTS (SELECT 1 FROM ref_change WHERE id = %s AND "
                            "xid = %s::text::xid8)", (cursor.id, cursor.xid)).fetchone()[0]


def central_epoch(conn) -> tuple[str, int]:  # noqa: ANN001
    """(the db_epoch pull cursors carry, the next xid central will hand out). The epoch is
    `meta.db_epoch` combined with the database's oid, the server's system identifier and its
    timeline, so that it changes with any restore (see the module's docstring)."""
    import psycopg

    try:
        with conn.transaction():  # (a savepoint when the caller holds a transaction)
            row = conn.execute(
                "SELECT m.db_epoch::text, d.oid::text || ':' || s.system_identifier::text || ':'"
                " || c.timeline_id::text, pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
                " FROM meta m, pg_database d, pg_control_system() s, pg_control_checkpoint() c"
                " WHERE d.datname = current_database()").fetchone()
    except psycopg.errors.InsufficientPrivilege:  # a service that hides pg_control_*()
        row = conn.execute(
            "SELECT m.db_epoch::text, d.oid::text, "
            "pg_snapshot_xmax(pg_current_snapshot())::text::bigint "
            "FROM meta m, pg_database d WHERE d.datname = current_database()").fetchone()
    meta_epoch, instance, next_xid = row
    return str(uuid.uuid5(_EPOCH, f"{meta_epoch}:{instance}")), next_xid


def _page(conn, station_id: str, cursor: Cursor):  # noqa: ANN001, ANN202
    """The next changes below the fence, with the current rows of their keys; None if none.
    (The rows are read after the changes: newer rows are fine, their changes come later.)"""
    rows = conn.execute(
        "SELECT xid::text::bigint, id, tbl, pk FROM ref_change "
        "WHERE (xid, id) > (%s::text::xid8, %s) AND xid < sync_pull_fence() "
        "ORDER BY xid, id LIMIT %s", (str(cursor.xid), cursor.id, PAGE)).fetchall()
    if not rows:
        return None
    with conn.transaction():
        keys: dict[str, set] = {"person": set(), "device": set(), "escrow": set()}
        for _xid, _id, tbl, pk in rows:
            keys.setdefault(tbl, set()).add(pk)
        granted = _granted(conn, station_id) if station_id in keys["escrow"] else None
        return rows, _people(conn, keys["person"]), _devices(conn, keys["device"]), granted


def _fenced(conn, cursor: Cursor) -> bool:  # noqa: ANN001
    """Committed changes after the cursor that the fence still holds back."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM ref_change WHERE (xid, id) > "
                        "(%s::text::xid8, %s))", (str(cursor.xid), cursor.id)).fetchone()[0]


def _reload(outbox: StationOutbox, conn, station_id: str, db_epoch: str) -> int:  # noqa: ANN001
    """Everything, from one snapshot; the cursor starts at that snapshot's fence."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        xmin = conn.execute("SELECT sync_pull_fence()::text::bigint").fetchone()[0]
        people = conn.execute(f"SELECT {_PERSON} FROM person_state").fetchall()
        devices = conn.execute(f"SELECT {_DEVICE} FROM device_state").fetchall()
        granted = _granted(conn, station_id)
    # Applied in chunks, so the counter never waits long for SQLite's write lock. The cursor
    # moves with the last chunk only: a crash half-way means a whole reload again (upserts).
    chunks = ([(people[i:i + RELOAD_CHUNK], []) for i in range(0, len(people), RELOAD_CHUNK)]
              + [([], devices[i:i + RELOAD_CHUNK]) for i in range(0, len(devices), RELOAD_CHUNK)]
              or [([], [])])
    for k, (some_people, some_devices) in enumerate(chunks):
        last = k == len(chunks) - 1
        apply_reference(outbox, some_people, some_devices, granted if last else None,
                        Cursor(db_epoch, xmin - 1, _END) if last else None)
    return len(people) + len(devices)


def _people(conn, keys: set[str]) -> list:  # noqa: ANN001
    if not keys:
        return []
    return conn.execute(f"SELECT {_PERSON} FROM person_state WHERE staff_id = ANY(%s)",
                        (list(keys),)).fetchall()


def _devices(conn, keys: set[str]) -> list:  # noqa: ANN001
    if not keys:
        return []
    return conn.execute(f"SELECT {_DEVICE} FROM device_state WHERE asset_tag = ANY(%s)",
                        (list(keys),)).fetchall()


def _granted(conn, station_id: str) -> int:  # noqa: ANN001
    return conn.execute("SELECT coalesce(sum(delta), 0) FROM escrow_ledger "
                        "WHERE account = %s AND kind = 'grant'", (station_id,)).fetchone()[0]


def _holders_missing(conn, outbox: StationOutbox, people: list, devices: list) -> list:  # noqa: ANN001
    """Holders of pulled devices the station does not know yet (a device row needs its holder)."""
    wanted = {d[6] for d in devices if d[6]} - {p[0] for p in people}
    if not wanted:
        return []
    with Session(reader(outbox.engine)) as s:
        known = set(s.scalars(select(PersonRow.staff_id).where(PersonRow.staff_id.in_(wanted))))
    found = _people(conn, wanted - known)
    # a holder central does not know either (written there by hand?): a placeholder, so
    # that the pull never sticks on it; the next people import fills it in
    unknown = wanted - known - {p[0] for p in found}
    return found + [(staff_id, f"unknown person {staff_id}", "", False, False, True)
                    for staff_id in sorted(unknown)]


# -- the local side: one SQLite transaction ----------------------------------------------------

def read_cursor(outbox: StationOutbox) -> str | None:
    with Session(reader(outbox.engine)) as s:
        return s.scalar(select(StationRow.ref_cursor).limit(1))


def apply_reference(outbox: StationOutbox, people: list, devices: list, granted: int | None,
                    cursor: Cursor | None) -> None:
    """Rows, grants and the cursor together, or nothing. A device this station changed in an
    event central has not acknowledged keeps its local state (only `disputed` is taken): the
    event is on its way, and central's answer to it comes back as a later change."""
    with Session(outbox.engine) as s, s.begin():
        _upsert_people(s, people)
        acked = s.scalar(select(StationRow.acked_seq)) or 0
        _upsert_devices(s, devices, acked)
        crash_point("mid_pull_apply")
        values: dict = {} if cursor is None else {"ref_cursor": str(cursor)}
        if granted is not None:
            values["granted_units"] = granted
        if values:
            s.execute(update(StationRow).values(**values))


def _upsert_people(s: Session, people: list) -> None:
    rows = [dict(zip(("staff_id", "name", "site", "shielding", "assistive_tech", "disputed"), p))
            for p in people]
    known = _known(s, PersonRow.staff_id, [r["staff_id"] for r in rows])
    new = [r for r in rows if r["staff_id"] not in known]
    old = [{**_without(r, "staff_id"), "key": r["staff_id"]} for r in rows
           if r["staff_id"] in known]
    if new:
        s.connection().execute(insert(PersonRow), new)
    if old:
        s.connection().execute(
            update(PersonRow).where(PersonRow.staff_id == bindparam("key")), old)


_DEVICE_FIELDS = ("asset_tag", "serial", "type", "model", "os", "state", "holder_staff_id",
                  "sole_use", "site", "unit_cost_pence", "disputed")


def _upsert_devices(s: Session, devices: list, acked_seq: int) -> None:
    rows = [dict(zip(_DEVICE_FIELDS, d)) for d in devices]
    tags = [r["asset_tag"] for r in rows]
    local: dict[str, int] = {}
    for start in range(0, len(tags), 500):
        local.update(s.execute(select(DeviceRow.asset_tag, DeviceRow.updated_seq).where(
            DeviceRow.asset_tag.in_(tags[start:start + 500]))).all())
    new = [{**r, "updated_seq": 0} for r in rows if r["asset_tag"] not in local]
    central_wins = [{**_without(r, "asset_tag"), "key": r["asset_tag"]} for r in rows
                    if r["asset_tag"] in local and local[r["asset_tag"]] <= acked_seq]
    pending = [{"key": r["asset_tag"], "disputed": r["disputed"]} for r in rows
               if r["asset_tag"] in local and local[r["asset_tag"]] > acked_seq]
    if new:
        s.connection().execute(insert(DeviceRow), new)
    for batch in (central_wins, pending):
        if batch:
            s.connection().execute(
                update(DeviceRow).where(DeviceRow.asset_tag == bindparam("key")), batch)


def _without(row: dict, key: str) -> dict:
    return {k: v for k, v in row.items() if k != key}


def _known(s: Session, column, keys: list[str]) -> set[str]:  # noqa: ANN001
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(s.scalars(select(column).where(column.in_(keys[start:start + 500]))))
    return found
