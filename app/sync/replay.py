"""SYNC.md I5: central's projections equal a replay of its events, for the checker (`--replay`).

    problems = replay_differences("postgresql://OWNER@HOST/exchange")

**How.** A scratch database is created on central's own server (`CREATE DATABASE`: the role
needs CREATEDB), given the schema by `upgrade_central`, fed everything central has in
central's order, compared with central, and dropped again, whatever happens.

- **Every event of `event`, in `central_seq` order**, is stored afresh and applied by the
  per-event path, `sync_apply_each` (what `SET sync.per_event = on` selects; it is called
  directly, so the replay can never end up on the set-based path of c0008 that pushes take).
  Consecutive events of one stream go in together, as a push would send them; what central
  decides is decided again: an event of a schema version this program cannot read
  (`schema_v > SCHEMA_VERSION`) is stored quarantined and not applied, as the push does.
- **Central imports.** `import people|devices|stock --central` writes `person_state` and
  `device_state` without an event, so a replay of `event` alone cannot know those rows. Three
  ways were weighed: take today's rows whose `last_event_id` is empty as the starting register
  (wrong for every row an event changed since, and for an import after such an event); make
  each import an event of a pseudo-station (it would show up as a station in the reports and
  the escrow, and the per-event path projects `devices.imported` differently from the
  central import: site from the stream, `ON CONFLICT DO NOTHING`); or journal each import with
  its position among the events. Central c0011 does the last: `central_import` holds the rows
  exactly as written, numbered from `event`'s own identity sequence, and the replay loads them
  at that point with the same function (`central_import_people` / `_devices`). An import made
  before c0011 was not journaled and shows up as a difference.
- **Grants** (`escrow_grant`: an admin's grant, a rebalance) change the courier balance every
  later exchange is checked against, so they are replayed by `escrow_grant` at their place
  (`escrow_ledger.position`, c0011; a grant from before c0011 goes first).
- **Conflict decisions** name central's conflict id, which a replay numbers differently (a
  PAYLOAD_MISMATCH takes an id and is no event; the set-based path may number the conflicts of
  one event in another order). Before each `conflict.resolved` event the replay looks up that
  conflict at central (kind, subject, members) and points the decision at its own open
  conflict of that kind and subject whose members are all among central's: the one it
  replays. A decision on a conflict that is not open there (decided before, unknown, a
  PAYLOAD_MISMATCH) decides nothing, as at central.

**Compared**, column for column: `device_state` and `person_state` (every column: none is
mere bookkeeping, since versions and the last/issuing/returning event ids are what the next
push compares against), each event's status, the conflicts as (kind, subject, status,
members, deciding event, decided by, decision), each stream's laptop and release counters,
the escrow pool and ledger. **Not compared**: conflict ids and timestamps (`opened_at`,
`resolved_at`: the clock of the day), the ledger's timestamps and the random event id
`escrow_grant` gives a grant, `ref_change` (a log of writes, not state), and PAYLOAD_MISMATCH
conflicts: they record pushes central refused, whose events are not in `event`.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from app.domain.events import CONFLICT_RESOLVED, SCHEMA_VERSION
from app.sync import central

log = logging.getLogger(__name__)

#: At most this many differences are reported for one table (then a count of the rest).
SHOWN = 12

_EVENT_COLUMNS = ("central_seq, event_id, station_id, epoch, seq, type, schema_v, payload, "
                  "sha256, operator, occurred_at, status")

_TABLES = {
    "device_state": ("SELECT asset_tag, serial, type, model, os, state, holder, sole_use, site, "
                     "unit_cost_pence, version, disputed, last_event_id::text, "
                     "issue_event_id::text, return_event_id::text FROM device_state",
                     ("asset_tag", "serial", "type", "model", "os", "state", "holder",
                      "sole_use", "site", "unit_cost_pence", "version", "disputed",
                      "last_event_id", "issue_event_id", "return_event_id")),
    "person_state": ("SELECT staff_id, name, site, shielding, assistive_tech, version, disputed, "
                     "last_event_id::text FROM person_state",
                     ("staff_id", "name", "site", "shielding", "assistive_tech", "version",
                      "disputed", "last_event_id")),
    "event status": ("SELECT station_id || ' seq ' || seq || ' (' || event_id || ')', status "
                     "FROM event", ("event", "status")),
    "station_stream": ("SELECT station_id || '/' || epoch, counter_laptops, courier_laptops, "
                       "released_units FROM station_stream",
                       ("stream", "counter_laptops", "courier_laptops", "released_units")),
    "escrow_pool": ("SELECT 'pool', balance FROM escrow_pool", ("pool", "balance")),
}
_MULTISETS = {
    "sync_conflict": (
        "SELECT c.kind, c.subject, c.status, coalesce(array_agg(m.event_id::text ORDER BY "
        "m.event_id::text) FILTER (WHERE m.event_id IS NOT NULL), '{}'), "
        "c.resolution_event_id::text, c.resolved_by, c.decision::text "
        "FROM sync_conflict c LEFT JOIN sync_conflict_member m ON m.conflict_id = c.id "
        "WHERE c.kind <> 'PAYLOAD_MISMATCH' GROUP BY c.id"),
    "escrow_ledger": ("SELECT account, kind, delta, CASE WHEN kind = 'release' THEN "
                      "event_id::text END, recorded_by FROM escrow_ledger"),
}


def replay_differences(central_url: str) -> list[str]:
    """What differs between central's projections and a replay of its events (I5)."""
    scratch_name = f"es_replay_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    maintenance = _maintenance(central_url)
    maintenance.execute(f'CREATE DATABASE "{scratch_name}" TEMPLATE template0')
    try:
        scratch_url = _with_database(central_url, scratch_name)
        with central.connect(scratch_url, application_name="checker-replay") as probe:
            if probe.execute("SELECT current_database()").fetchone()[0] != scratch_name:
                raise RuntimeError("the replay would not write into its scratch database")
        central.upgrade_central(scratch_url)
        with central.connect(central_url, application_name="checker-replay") as source, \
                central.connect(scratch_url, application_name="checker-replay") as scratch:
            import psycopg

            source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
            source.read_only = True
            scratch.autocommit = True
            scratch.execute("SET synchronous_commit = off")  # thrown away afterwards
            problems = _Replay(source, scratch).run()
            if not problems:  # a replay that broke down half-way compares nothing useful
                problems = _compare(source, scratch)
            source.rollback()
        return problems
    finally:
        _drop(central_url, maintenance, scratch_name)


def _drop(url: str, maintenance, name: str) -> None:  # noqa: ANN001
    """Drop the scratch database, on a new connection if the server dropped the first one
    (a restart mid-replay), so that no scratch database is left behind."""
    for attempt in range(3):
        try:
            if attempt:
                maintenance = _maintenance(url)
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            maintenance.close()
            return
        except Exception:  # noqa: BLE001 - the server may still be coming back
            log.warning("dropping the replay's scratch database %s failed; trying again", name)
            time.sleep(1)
    log.error("the replay's scratch database %s is left on the server: drop it by hand", name)


def _maintenance(url: str):  # noqa: ANN202
    """An autocommit connection to the server's maintenance database (postgres, template1)."""
    import psycopg

    last: Exception | None = None
    for name in ("postgres", "template1"):
        try:
            conn = central.connect(_with_database(url, name), application_name="checker-replay")
        except Exception as exc:  # noqa: BLE001 - try the next one
            last = exc
            continue
        conn.autocommit = True
        return conn
    raise last or psycopg.OperationalError("no maintenance database")


def _with_database(url: str, name: str) -> str:
    """The URL with database `name`: the path, and any `dbname=` in the query (libpq lets
    that one win over the path)."""
    parts = urlsplit(central.libpq_url(url))
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("dbname="))
    return urlunsplit(parts._replace(path="/" + name, query=query))


class _Replay:
    def __init__(self, source, scratch):  # noqa: ANN001
        self.source = source
        self.scratch = scratch
        self.problems: list[str] = []
        self.run_rows: list[tuple] = []
        self.central_conflicts = {
            cid: (kind, subject, frozenset(members or ()))
            for cid, kind, subject, members in source.execute(
                "SELECT c.id, c.kind, c.subject, array_agg(m.event_id::text) "
                "FROM sync_conflict c LEFT JOIN sync_conflict_member m ON m.conflict_id = c.id "
                "GROUP BY c.id")}

    def run(self) -> list[str]:
        self.scratch.execute(
            "INSERT INTO station_stream (station_id, epoch, site, hwm, base) "
            "SELECT * FROM jsonb_to_recordset(%s::jsonb) AS s(station_id text, epoch uuid, "
            "site text, hwm bigint, base bigint)",
            (json.dumps([dict(zip(("station_id", "epoch", "site", "hwm", "base"), r))
                         for r in self.source.execute(
                             "SELECT station_id, epoch::text, site, hwm, base "
                             "FROM station_stream")]),))
        for _position, _rank, kind, item in heapq.merge(
                self._events(), self._imports(), self._grants()):
            if kind == "event":
                self._event(item)
                continue
            self._flush()
            if kind == "import":
                self._import(*item)
            else:
                self._grant(*item)
        self._flush()
        return self.problems

    # -- what is replayed, each as (position, rank, kind, item), in central's order ------------

    def _events(self) -> Iterator[tuple]:
        with self.source.cursor(name="replay_events") as cur:
            cur.itersize = 2000
            cur.execute("SELECT central_seq, event_id::text, station_id, epoch::text, seq, type, "
                        "schema_v, payload::text, sha256, operator, occurred_at FROM event "
                        "ORDER BY central_seq")
            for row in cur:
                yield row[0], 2, "event", row

    def _imports(self) -> Iterator[tuple]:
        for position, kind, rows, by in self.source.execute(
                "SELECT position, kind, rows::text, recorded_by FROM central_import "
                "ORDER BY position").fetchall():
            yield position, 1, "import", (position, kind, rows, by)

    def _grants(self) -> Iterator[tuple]:
        for position, ledger_id, account, units, by in self.source.execute(
                "SELECT coalesce(position, 0), id, account, delta, recorded_by FROM escrow_ledger "
                "WHERE kind = 'grant' ORDER BY position NULLS FIRST, id").fetchall():
            yield position, 0, "grant", (ledger_id, account, units, by)

    # -- applying them to the scratch database -------------------------------------------------

    def _event(self, row: tuple) -> None:
        if self.run_rows and self.run_rows[-1][2:4] != row[2:4]:
            self._flush()  # another stream: the run so far goes first
        if row[5] == CONFLICT_RESOLVED:
            self._flush()  # the decision points at the conflicts as they stand before it
            payload = json.loads(row[7])
            if isinstance(payload, dict):  # (any other shape is quarantined when stored)
                payload["conflict_id"] = self._replayed_conflict(payload.get("conflict_id"))
                row = row[:7] + (json.dumps(payload),) + row[8:]
            self.run_rows.append(row)
            self._flush()
            return
        self.run_rows.append(row)

    def _flush(self) -> None:
        if not self.run_rows:
            return
        rows, self.run_rows = self.run_rows, []
        station_id, epoch = rows[0][2:4]
        with self.scratch.transaction(), self.scratch.cursor() as cur:
            # quarantined exactly as the push decides it (central c0014: a newer schema_v,
            # or a payload not shaped as its type says)
            cur.executemany(
                f"INSERT INTO event ({_EVENT_COLUMNS}) OVERRIDING SYSTEM VALUE "
                "SELECT v.*, CASE WHEN v.schema_v > %s OR sync_malformed(v.type, v.payload) "
                "THEN 'quarantined' ELSE 'applied' END "
                "FROM (VALUES (%s::bigint, %s::uuid, %s, %s::uuid, %s::bigint, %s, %s::int, "
                "%s::jsonb, %s, %s, %s)) AS v(central_seq, event_id, station_id, epoch, seq, "
                "type, schema_v, payload, sha256, operator, occurred_at)",
                [(SCHEMA_VERSION,) + tuple(row) for row in rows])
            cur.execute("SELECT sync_apply_each(%s, %s, %s)",
                        (station_id, epoch, min(r[4] for r in rows) - 1))

    def _replayed_conflict(self, central_id: object) -> int:
        """The replay's conflict that a decision on central's `central_id` decides, else 0."""
        try:
            kind, subject, members = self.central_conflicts[int(central_id)]
        except (KeyError, TypeError, ValueError):
            return 0
        if kind == "PAYLOAD_MISMATCH":
            return 0
        row = self.scratch.execute(
            "SELECT c.id, array_agg(m.event_id::text) FILTER (WHERE m.event_id IS NOT NULL) "
            "FROM sync_conflict c LEFT JOIN sync_conflict_member m ON m.conflict_id = c.id "
            "WHERE c.kind = %s AND c.subject = %s AND c.status = 'open' GROUP BY c.id",
            (kind, subject)).fetchone()
        if row is None or not set(row[1] or ()) <= members:
            return 0
        return row[0]

    def _import(self, position: int, kind: str, rows: str, by: str | None) -> None:
        import psycopg

        function = {"people": "central_import_people", "devices": "central_import_devices"}
        try:
            self.scratch.execute(f"SELECT {function[kind]}(%s::jsonb, %s)", (rows, by))
        except psycopg.Error as exc:
            self.problems.append(f"I5 the central import at position {position} ({kind}) "
                                 f"cannot be replayed there: {_first_line(exc)}")

    def _grant(self, ledger_id: int, account: str, units: int, by: str | None) -> None:
        import psycopg

        try:
            self.scratch.execute("SELECT escrow_grant(%s, %s, %s)", (account, units, by))
        except psycopg.Error as exc:
            self.problems.append(f"I5 the grant of {units} units to {account} (ledger id "
                                 f"{ledger_id}) cannot be replayed there: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def _compare(source, scratch) -> list[str]:  # noqa: ANN001
    problems: list[str] = []
    for table, (sql, columns) in _TABLES.items():
        theirs = {r[0]: r[1:] for r in source.execute(sql).fetchall()}
        ours = {r[0]: r[1:] for r in scratch.execute(sql).fetchall()}
        found = []
        for key in sorted(theirs.keys() | ours.keys(), key=str):
            a, b = theirs.get(key), ours.get(key)
            if a == b:
                continue
            if a is None or b is None:
                where = "only in the replay" if a is None else "only at central"
                found.append(f"I5 {table} {key}: {where}")
                continue
            diff = ", ".join(f"{name} {x!r} (replay {y!r})"
                             for name, x, y in zip(columns[1:], a, b) if x != y)
            found.append(f"I5 {table} {key}: central has {diff}")
        problems += _shown(found, table)
    for table, sql in _MULTISETS.items():
        theirs = Counter(_hashable(r) for r in source.execute(sql).fetchall())
        ours = Counter(_hashable(r) for r in scratch.execute(sql).fetchall())
        found = [f"I5 {table} only at central: {r}" for r in sorted(theirs - ours, key=str)]
        found += [f"I5 {table} only in the replay: {r}" for r in sorted(ours - theirs, key=str)]
        problems += _shown(found, table)
    return problems


def _hashable(row: tuple) -> tuple:
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


def _shown(found: list[str], table: str) -> list[str]:
    if len(found) <= SHOWN:
        return found
    return found[:SHOWN] + [f"I5 {table}: {len(found) - SHOWN} more differences"]
