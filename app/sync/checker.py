"""The sync invariant checker (SYNC.md 3.4), for the fault-injection tests and by hand:

    python -m app.sync.checker --central URL [--drained] [--replay] [DATA_DIR...]

exits 1 and prints each violation when one is found. Checked here:
  I1 no loss        every outbox event of every station is in central's `event` (quarantined
                    ones too: stored, not applied, never lost)
  I2 no duplicates  event ids unique; each stream's seqs run 1..hwm without a gap
  I3 integrity      central's sha256 and payload hash equal the station's
  I4 cursors        acked_seq <= hwm; with --drained, acked_seq = hwm = the station's last seq
  I5 projections    with --replay: device_state, person_state, conflicts, event statuses,
                    courier counters and escrow equal a replay of `event` in central_seq order
                    on the per-event path, in a scratch database (app/sync/replay.py; needs
                    CREATEDB, about a second for a few thousand events)
  I6 conflicts      (the part one database shows) every event marked `conflict` is a member of
                    a conflict, and every member of one is an event central holds; that the set
                    is the same for every arrival order is tests/sync/test_arrival_order.py
  I7 non-disputed   a device has a holder exactly when it is issued or awaiting a courier; a
                    device that is not disputed is held only by someone a recorded handover
                    gave it to (an exchange, an import, a goods-in, a decision); each open
                    conflict's device or person is disputed and nothing is disputed without an
                    open conflict; a conflict is resolved only by a `conflict.resolved` event
                    for that very conflict (same id, kind and subject), and every such event
                    closed its conflict
  I8 courier cap    4 x courier laptops <= laptops issued, at every prefix of central's order;
                    per station B = N - 3C + G - R >= 0 and no courier overrun open; the pool
                    is what was released less what was granted
  I9 convergence    with --drained: each station's people and devices (every column the pull
                    copies: state, holder, disputed...) hash the same as central's; the devices
                    and people named by one of the station's own quarantined events are left
                    out (central cannot apply that event yet) and listed on stderr
  I11 hygiene       SQLite integrity_check is ok
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg

from app.persistence.engine import database_path
from app.sync import central


def check(central_url: str, data_dirs: list[Path], drained: bool = False,
          replay: bool = False) -> list[str]:
    problems: list[str] = []
    # what each station had acknowledged, read BEFORE central: a sync that runs meanwhile can
    # only raise central's hwm past it, never the other way round (I4 sampled during runs)
    acked_before = {Path(d): _acked(Path(d)) for d in data_dirs}
    with central.connect(central_url, application_name="checker") as conn:
        # central read in one snapshot: pushes committing meanwhile are wholly in or out
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        stored = {str(r[0]): r[1:] for r in conn.execute(
            "SELECT event_id, station_id, epoch::text, seq, sha256, payload::text FROM event")}
        streams = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
            "SELECT station_id, epoch::text, hwm, base FROM station_stream")}
        problems += _gap_free(conn, streams)
        problems += _conflicts_recorded(conn)
        problems += _non_disputed_state(conn)
        problems += _courier_cap(conn)
        problems += _escrow(conn)
        reference = _reference(conn) if drained else None
    for data_dir in data_dirs:
        problems += _station(Path(data_dir), stored, streams, drained, reference,
                             acked_before[Path(data_dir)])
    if replay:
        from app.sync.replay import replay_differences

        problems += replay_differences(central_url)
    return problems


def quarantined(central_url: str) -> list[tuple[str, int, str, int]]:
    """Central's quarantined events: (station, seq, type, schema_v), for the checker's notes."""
    with central.connect(central_url, application_name="checker") as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT station_id, seq, type, schema_v FROM event WHERE status = 'quarantined' "
            "ORDER BY station_id, epoch, seq")]


def _gap_free(conn, streams: dict) -> list[str]:  # noqa: ANN001
    problems = []
    for (station_id, epoch), (hwm, base) in streams.items():
        count, low, high = conn.execute(
            "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM event "
            "WHERE station_id = %s AND epoch = %s", (station_id, epoch)).fetchone()
        if count != hwm - base or (count and (low, high) != (base + 1, hwm)):
            problems.append(f"I2 stream {station_id}/{epoch}: {count} events, seqs "
                            f"{low}..{high}, base {base}, hwm {hwm}")
    return problems


def _conflicts_recorded(conn) -> list[str]:  # noqa: ANN001
    """I6, as one database shows it: conflicts and the events' status agree."""
    problems = [f"I6 {station_id} seq {seq}: marked conflict but in no conflict"
                for station_id, seq in conn.execute(
                    "SELECT e.station_id, e.seq FROM event e WHERE e.status = 'conflict' "
                    "AND NOT EXISTS (SELECT 1 FROM sync_conflict_member m "
                    "WHERE m.event_id = e.event_id) ORDER BY e.central_seq")]
    problems += [f"I6 conflict {cid} ({kind} {subject}): member {event_id} is no event "
                 "central holds" for cid, kind, subject, event_id in conn.execute(
                     "SELECT c.id, c.kind, c.subject, m.event_id FROM sync_conflict c "
                     "JOIN sync_conflict_member m ON m.conflict_id = c.id "
                     "WHERE c.kind <> 'PAYLOAD_MISMATCH' AND NOT EXISTS "
                     "(SELECT 1 FROM event e WHERE e.event_id = m.event_id) ORDER BY c.id")]
    return problems


# Who a device may be held by: someone a recorded handover gave it to.
_HANDOVERS = """
SELECT t.tag, e.payload ->> 'person' FROM event e
 CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(e.payload -> 'issued', '[]')
                                              || coalesce(e.payload -> 'registered', '[]')) t(tag)
 WHERE e.type = 'exchange.recorded' AND e.status <> 'quarantined'
UNION
SELECT r ->> 0, r ->> 5 FROM event e CROSS JOIN LATERAL jsonb_array_elements(e.payload -> 'rows') r
 WHERE e.type = 'devices.imported' AND e.status <> 'quarantined'
UNION
SELECT e.payload ->> 'tag', e.payload ->> 'holder' FROM event e
 WHERE e.type = 'device.received' AND e.status <> 'quarantined'
UNION
SELECT r ->> 'asset_tag', r ->> 'holder' FROM central_import j
 CROSS JOIN LATERAL jsonb_array_elements(j.rows) r WHERE j.kind = 'devices'
UNION
SELECT substr(c.subject, 8), c.decision ->> 'holder' FROM sync_conflict c
 WHERE c.status = 'resolved' AND c.subject LIKE 'device:%' AND c.decision ? 'holder'
"""

_CONFLICT_ID = ("CASE WHEN e.payload ->> 'conflict_id' ~ '^[0-9]{1,18}$' "
                "THEN (e.payload ->> 'conflict_id')::bigint END")
# a decision is on conflict c when it names c's kind and subject and every record it saw is
# one of c's members (central c0012: ids are reused after a restore, so the id does not count)
_DECIDES = ("e.payload ->> 'kind' = c.kind AND e.payload ->> 'subject' = c.subject "
            "AND jsonb_typeof(coalesce(e.payload -> 'records', '[]')) = 'array' "
            "AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text("
            "coalesce(e.payload -> 'records', '[]')) r WHERE NOT EXISTS (SELECT 1 FROM "
            "sync_conflict_member m WHERE m.conflict_id = c.id AND m.event_id::text = r))")


def _non_disputed_state(conn) -> list[str]:  # noqa: ANN001
    """I7: holders match states, holders come from handovers, disputes match open conflicts,
    and only a decision closes a conflict."""
    problems = [f"I7 device {tag} is {state} with holder {holder}" for tag, state, holder in
                conn.execute(
                    "SELECT asset_tag, state, holder FROM device_state "
                    "WHERE (holder IS NULL) = (state IN ('issued', 'courier_pending')) "
                    "ORDER BY asset_tag")]
    problems += [f"I7 device {tag} is held by {holder}, not disputed, and no recorded handover "
                 "gave it to them" for tag, holder in conn.execute(
                     f"WITH handover(tag, holder) AS ({_HANDOVERS}) "
                     "SELECT d.asset_tag, d.holder FROM device_state d "
                     "WHERE d.holder IS NOT NULL AND NOT d.disputed AND NOT EXISTS ("
                     "SELECT 1 FROM handover h WHERE h.tag = d.asset_tag AND h.holder = d.holder) "
                     "ORDER BY d.asset_tag")]
    problems += [f"I7 conflict {cid} ({kind}) is open but {subject} is not disputed"
                 for cid, kind, subject in conn.execute(
                     "SELECT c.id, c.kind, c.subject FROM sync_conflict c WHERE c.status = 'open' "
                     "AND ((c.kind IN ('DEVICE_DOUBLE_ISSUE', 'HANDOVER_MISMATCH') AND EXISTS ("
                     "SELECT 1 FROM device_state d WHERE c.subject = 'device:' || d.asset_tag "
                     "AND NOT d.disputed)) OR (c.kind = 'PERSON_DOUBLE_EXCHANGE' AND EXISTS ("
                     "SELECT 1 FROM person_state p WHERE c.subject = 'person:' || p.staff_id "
                     "AND NOT p.disputed))) ORDER BY c.id")]
    problems += [f"I7 {subject} is disputed with no open conflict on it" for (subject,) in
                 conn.execute(
                     "SELECT s FROM (SELECT 'device:' || asset_tag FROM device_state "
                     "WHERE disputed UNION ALL SELECT 'person:' || staff_id FROM person_state "
                     "WHERE disputed) AS d(s) WHERE NOT EXISTS (SELECT 1 FROM sync_conflict c "
                     "WHERE c.status = 'open' AND c.subject = d.s) ORDER BY s")]
    problems += [f"I7 conflict {cid} ({kind} {subject}) is {status} but {why}"
                 for cid, kind, subject, status, why in conn.execute(
                     "SELECT c.id, c.kind, c.subject, c.status, CASE "
                     "WHEN c.status = 'open' THEN 'names a deciding event' "
                     "WHEN e.event_id IS NULL THEN 'its deciding event is not at central' "
                     "WHEN e.type <> 'conflict.resolved' OR e.status <> 'applied' "
                     "THEN 'it was closed by a ' || e.status || ' ' || e.type || ' event' "
                     f"ELSE 'the decision that closed it was made on conflict ' || "
                     f"coalesce(({_CONFLICT_ID})::text, '?') || ' (' || "
                     "coalesce(e.payload ->> 'kind', '?') || ' ' || "
                     "coalesce(e.payload ->> 'subject', '?') || ')' END "
                     "FROM sync_conflict c LEFT JOIN event e "
                     "ON e.event_id = c.resolution_event_id "
                     "WHERE (c.status = 'open' AND c.resolution_event_id IS NOT NULL) OR "
                     "(c.status = 'resolved' AND (e.event_id IS NULL "
                     "OR e.type <> 'conflict.resolved' OR e.status <> 'applied' "
                     f"OR NOT ({_DECIDES}))) ORDER BY c.id")]
    problems += [f"I7 conflict {cid} ({kind} {subject}) is still open after the decision "
                 f"{event_id} on it" for cid, kind, subject, event_id in conn.execute(
                     "SELECT c.id, c.kind, c.subject, e.event_id FROM event e "
                     f"JOIN sync_conflict c ON {_DECIDES} "
                     "WHERE e.type = 'conflict.resolved' AND e.status = 'applied' "
                     "AND c.status = 'open' ORDER BY c.id")]
    return problems


_PEOPLE = ("SELECT staff_id, name, site, shielding, assistive_tech, disputed FROM {}")
_DEVICES = ("SELECT asset_tag, serial, type, model, os, state, {}, sole_use, site, "
            "unit_cost_pence, disputed FROM {}")


def _reference(conn) -> dict:  # noqa: ANN001
    """Central's reference data as stations pull it, and each station's quarantined events'
    subjects (I9)."""
    held: dict[str, set[str]] = {}
    for station_id, payload in conn.execute(
            "SELECT station_id, payload FROM event WHERE status = 'quarantined'"):
        held.setdefault(station_id, set()).update(_strings(payload))
    return {"people": _rows(conn.execute(_PEOPLE.format("person_state"))),
            "devices": _rows(conn.execute(_DEVICES.format("holder", "device_state"))),
            "quarantined": held}


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _rows(cursor) -> dict[str, str]:  # noqa: ANN001
    """key -> a hash of the row, booleans as 0/1 (SQLite and PostgreSQL alike)."""
    return {row[0]: hashlib.sha256(json.dumps(
                [int(v) if isinstance(v, bool) else v for v in row]).encode()).hexdigest()
            for row in cursor}


def _converged(station_id: str, db: sqlite3.Connection, reference: dict) -> list[str]:
    """I9: the station's people and devices hash the same as central's."""
    problems = []
    skipped = reference["quarantined"].get(station_id, set())
    for table, sql, theirs in (
            ("people", _PEOPLE.format("people"), reference["people"]),
            ("devices", _DEVICES.format("holder_staff_id", "devices"), reference["devices"])):
        ours = _rows(db.execute(sql))
        if _digest(ours, skipped) == _digest(theirs, skipped):
            continue
        keys = sorted(k for k in ours.keys() | theirs.keys()
                      if k not in skipped and ours.get(k) != theirs.get(k))
        problems.append(f"I9 {station_id} {table} differ from central's: "
                        f"{', '.join(keys[:10])}{' ...' if len(keys) > 10 else ''}")
    return problems


def _digest(rows: dict[str, str], skipped: set[str]) -> str:
    return hashlib.sha256("".join(sorted(h for k, h in rows.items() if k not in skipped))
                          .encode()).hexdigest()


def _escrow(conn) -> list[str]:  # noqa: ANN001
    """I8 per station (SYNC.md 2.6): the pool is what was released less what was granted, and
    no station's balance B = N - 3C + G - R is below 0 or has a courier overrun left open."""
    problems = []
    pool, ledger = conn.execute("SELECT (SELECT balance FROM escrow_pool), "
                                "(SELECT coalesce(-sum(delta), 0) FROM escrow_ledger)").fetchone()
    if pool != ledger:
        problems.append(f"I8 the pool holds {pool} units; releases less grants make {ledger}")
    for station_id, balance in conn.execute(
            "SELECT s.station_id, sum(s.counter_laptops - 3 * s.courier_laptops "
            "- s.released_units) + coalesce((SELECT sum(g.delta) FROM escrow_ledger g "
            "WHERE g.account = s.station_id AND g.kind = 'grant'), 0) "
            "FROM station_stream s GROUP BY s.station_id ORDER BY 1"):
        if balance < 0:
            problems.append(f"I8 station {station_id}: courier balance {balance} (below 0)")
    for (subject,) in conn.execute("SELECT subject FROM sync_conflict WHERE kind = "
                                   "'COURIER_OVERRUN' AND status = 'open' ORDER BY 1"):
        problems.append(f"I8 {subject}: a courier overrun is open")
    return problems


def _courier_cap(conn) -> list[str]:  # noqa: ANN001
    types = dict(conn.execute("SELECT asset_tag, type FROM device_state").fetchall())
    laptops = courier = 0
    for central_seq, payload in conn.execute(
            "SELECT central_seq, payload FROM event WHERE type = 'exchange.recorded' "
            "AND status <> 'quarantined' ORDER BY central_seq"):  # never applied, not counted
        tags = payload.get("issued") if isinstance(payload, dict) else None
        issued = sum(isinstance(t, str) and types.get(t) == "laptop"
                     for t in (tags if isinstance(tags, list) else []))
        laptops += issued
        courier += issued if payload.get("courier") else 0
        if 4 * courier > laptops:
            return [f"I8 at central_seq {central_seq}: {courier} courier of {laptops} laptops"]
    return []


def _acked(data_dir: Path) -> int:
    db = sqlite3.connect(f"file:{database_path(data_dir)}?mode=ro", uri=True)
    try:
        return db.execute("SELECT acked_seq FROM station").fetchone()[0]
    finally:
        db.close()


def _station(data_dir: Path, stored: dict, streams: dict, drained: bool,
             reference: dict | None = None, acked_before: int | None = None) -> list[str]:
    db = sqlite3.connect(f"file:{database_path(data_dir)}?mode=ro", uri=True)
    try:
        problems = []
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append(f"I11 {data_dir}: SQLite integrity_check failed")
        station_id, epoch, acked = db.execute(
            "SELECT station_id, epoch, acked_seq FROM station").fetchone()
        if acked_before is not None and not drained:
            acked = acked_before  # (drained: nothing runs, the last word is the station's)
        rows = db.execute("SELECT event_id, seq, sha256, payload, epoch FROM events "
                          "ORDER BY seq").fetchall()
        if reference is not None:
            problems += _converged(station_id, db, reference)
    finally:
        db.close()
    hwm = streams.get((station_id, epoch), (0, 0))[0]
    for event_id, seq, sha, payload, event_epoch in rows:  # every epoch of this station
        if hashlib.sha256(payload.encode()).hexdigest() != sha:
            problems.append(f"I3 {station_id} seq {seq}: the outbox hash does not match")
        theirs = stored.get(event_id)
        if theirs is None:
            if event_epoch != epoch or seq <= hwm or drained:
                problems.append(f"I1 {station_id} seq {seq} ({event_id}) is not at central")
            continue
        if theirs[:4] != (station_id, event_epoch, seq, sha) or \
                json.loads(theirs[4]) != json.loads(payload):
            problems.append(f"I3 {station_id} seq {seq}: central holds {theirs[:4]}")
    last = rows[-1][1] if rows else 0
    if acked > hwm:
        problems.append(f"I4 {station_id}: acked_seq {acked} > hwm {hwm}")
    if drained and not acked == hwm == last:
        problems.append(f"I4 {station_id}: acked_seq {acked}, hwm {hwm}, last seq {last}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.sync.checker")
    parser.add_argument("--central", required=True)
    parser.add_argument("--drained", action="store_true",
                        help="every station has synced since the last change: I4 and I9 in "
                             "full")
    parser.add_argument("--replay", action="store_true",
                        help="I5: replay central's events into a scratch database on the same "
                             "server and compare (needs CREATEDB)")
    parser.add_argument("data_dirs", nargs="*", type=Path)
    args = parser.parse_args(argv)
    problems = check(args.central, args.data_dirs, args.drained, args.replay)
    for problem in problems:
        print(problem)
    held = quarantined(args.central)
    if held:
        print(f"{len(held)} events quarantined at central (stored, not applied; their "
              "subjects are left out of I9): " + ", ".join(
                  f"{station} seq {seq} {type_} v{v}" for station, seq, type_, v in held[:10]),
              file=sys.stderr)
    print("ok" if not problems else f"{len(problems)} violations", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
