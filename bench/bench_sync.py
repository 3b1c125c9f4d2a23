"""Benchmark of sync (issue 6). Not a test: it prints figures and never fails on time.

    .venv/bin/python bench/bench_sync.py [--events 100000] [--devices 100000]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

- push of N events from one station, events per second, next to PostgreSQL's own COPY of the
  same rows into a plain table on the same server in the same run (target ratio >= 0.25). The
  events are a counter's day (`--workload day`, the default: goods-in, exchanges with one in
  eight by courier, collections, certificates, releases; see tests/sync/outbox_fill.py), so
  central checks and projects every one; `--workload received` pushes only goods-in;
- the time of a sync with nothing to do (target <= 50 ms), median of 20;
- pull of an M-device register into a new station (a full reload), rows per second.

It makes a fresh database on the server (dropped at the end) and a station in a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bootstrap import open_station  # noqa: E402
from app.services import station as station_service  # noqa: E402
from app.sync.central import connect, upgrade_central  # noqa: E402
from app.sync.outbox import StationOutbox  # noqa: E402
from app.sync.push import BATCH_SIZE as PUSH_BATCH, push  # noqa: E402
from app.sync.runner import SyncRunner  # noqa: E402
from tests.pg_plugin import create_database, drop_database  # noqa: E402
from tests.sync.outbox_fill import fill_outbox, register_rows  # noqa: E402


def copy_baseline(url: str, rows: list[dict]) -> float:
    with connect(url) as conn:
        conn.execute("CREATE TABLE copy_baseline (event_id uuid, station_id text, epoch uuid, "
                     "seq bigint, type text, schema_v int, payload jsonb, sha256 text, "
                     "operator text, occurred_at text)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor().copy("COPY copy_baseline FROM STDIN") as copy:
            for r in rows:
                copy.write_row((r["event_id"], r["station_id"], r["epoch"], r["seq"], r["type"],
                                r["schema_v"], r["payload"], r["sha256"], r["operator"],
                                r["occurred_at"]))
        conn.commit()
        return time.perf_counter() - started


def load_people_and_old_devices(url: str, n_events: int) -> None:
    """What an admin's `import people|devices --central` would have put at central first."""
    people, devices = register_rows(n_events)
    with connect(url) as conn:
        with conn.cursor().copy("COPY person_state (staff_id, name, site) FROM STDIN") as copy:
            for row in people:
                copy.write_row(row)
        with conn.cursor().copy("COPY device_state (asset_tag, serial, type, model, os, state, "
                                "holder) FROM STDIN") as copy:
            for row in devices:
                copy.write_row(row)
        conn.commit()


def load_register(url: str, m: int) -> None:
    with connect(url) as conn:
        buf = io.StringIO()
        for k in range(m):
            buf.write(f"REG-{k:07d}\tS{k}\tlaptop\tEliteBook\tWindows 8.1\tissued\tP{k % 50000}\n")
        with conn.cursor().copy("COPY device_state (asset_tag, serial, type, model, os, state, "
                                "holder) FROM STDIN") as copy:
            copy.write(buf.getvalue())
        conn.execute("INSERT INTO person_state (staff_id, name, site) SELECT 'P' || g, "
                     "'Person ' || g, 'Bench' FROM generate_series(0, 49999) g")
        conn.commit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--workload", choices=("day", "received"), default="day")
    parser.add_argument("--batch", type=int, default=None, help="events per push batch")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = create_database(args.pg, prefix="es_bench")
    try:
        upgrade_central(url)
        with tempfile.TemporaryDirectory() as tmp:
            st = open_station(Path(tmp) / "a", create=True)
            station_service.initialise(st.context, "BENCH-01", "Bench")
            rows = fill_outbox(st, args.events, args.workload)
            if args.workload == "day":
                load_people_and_old_devices(url, args.events)
            runner = SyncRunner(st.engine)
            batch = args.batch or PUSH_BATCH
            with connect(url) as conn:
                conn.autocommit = True
                started = time.perf_counter()
                result = push(StationOutbox(st.engine), conn, batch)
                push_s = time.perf_counter() - started
            assert result.pushed == args.events + 1, result
            assert result.conflicts == 0, result
            report = runner.run_once(url)  # the pull of what it pushed, not timed
            copy_s = copy_baseline(url, rows)
            idle = []
            for _ in range(20):
                started = time.perf_counter()
                assert runner.run_once(url).ok
                idle.append(time.perf_counter() - started)
            print(f"push: {args.events} events in {push_s:.1f} s = {args.events / push_s:,.0f}"
                  f" events/s ({args.workload} workload, batches of {batch}, one commit each, "
                  "projections included)")
            print(f"COPY: {args.events} rows in {copy_s:.2f} s = {args.events / copy_s:,.0f} "
                  f"rows/s; ratio push/COPY = {copy_s / push_s:.3f} (target >= 0.25)")
            print(f"sync with nothing to do: median {statistics.median(idle) * 1000:.1f} ms, "
                  f"max {max(idle) * 1000:.1f} ms (target <= 50 ms)")
            st.close()
            load_register(url, args.devices)
            b = open_station(Path(tmp) / "b", create=True)
            station_service.initialise(b.context, "BENCH-02", "Bench")
            started = time.perf_counter()
            report = SyncRunner(b.engine).run_once(url)
            pull_s = time.perf_counter() - started
            assert report.ok, report
            print(f"pull of the register into a new station: {report.pulled} rows "
                  f"({args.devices} + {args.events} devices, 50000 people) in {pull_s:.1f} s = "
                  f"{report.pulled / pull_s:,.0f} rows/s")
            b.close()
    finally:
        drop_database(args.pg, urlsplit(url).path.lstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
