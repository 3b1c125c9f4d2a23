"""The sync invariant checker (SYNC.md 3.4), for the fault-injection tests and by hand:

    python -m app.sync.checker --central URL [--drained] DATA_DIR...

exits 1 and prints each violation when one is found. Checked here:
  I1 no loss        every outbox event of every station is in central's `event`
  I2 no duplicates  event ids unique; each stream's seqs run 1..hwm without a gap
  I3 integrity      central's sha256 and payload hash equal the station's
  I4 cursors        acked_seq <= hwm; with --drained, acked_seq = hwm = the station's last seq
  I8 courier cap    4 x courier laptops <= laptops issued, at every prefix of central's order
  I11 hygiene       SQLite integrity_check is ok
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

from app.persistence.engine import database_path
from app.sync import central


def check(central_url: str, data_dirs: list[Path], drained: bool = False) -> list[str]:
    problems: list[str] = []
    with central.connect(central_url, application_name="checker") as conn:
        stored = {str(r[0]): r[1:] for r in conn.execute(
            "SELECT event_id, station_id, epoch::text, seq, sha256, payload::text FROM event")}
        streams = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
            "SELECT station_id, epoch::text, hwm, base FROM station_stream")}
        problems += _gap_free(conn, streams)
        problems += _courier_cap(conn)
    for data_dir in data_dirs:
        problems += _station(Path(data_dir), stored, streams, drained)
    return problems


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


def _courier_cap(conn) -> list[str]:  # noqa: ANN001
    types = dict(conn.execute("SELECT asset_tag, type FROM device_state").fetchall())
    laptops = courier = 0
    for central_seq, payload in conn.execute(
            "SELECT central_seq, payload FROM event WHERE type = 'exchange.recorded' "
            "ORDER BY central_seq"):
        issued = sum(types.get(t) == "laptop" for t in payload.get("issued", []))
        laptops += issued
        courier += issued if payload.get("courier") else 0
        if 4 * courier > laptops:
            return [f"I8 at central_seq {central_seq}: {courier} courier of {laptops} laptops"]
    return []


def _station(data_dir: Path, stored: dict, streams: dict, drained: bool) -> list[str]:
    db = sqlite3.connect(f"file:{database_path(data_dir)}?mode=ro", uri=True)
    try:
        problems = []
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append(f"I11 {data_dir}: SQLite integrity_check failed")
        station_id, epoch, acked = db.execute(
            "SELECT station_id, epoch, acked_seq FROM station").fetchone()
        rows = db.execute("SELECT event_id, seq, sha256, payload, epoch FROM events "
                          "ORDER BY seq").fetchall()
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
    parser.add_argument("--drained", action="store_true")
    parser.add_argument("data_dirs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    problems = check(args.central, args.data_dirs, args.drained)
    for problem in problems:
        print(problem)
    print("ok" if not problems else f"{len(problems)} violations", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
