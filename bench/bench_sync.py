"""Benchmark of sync (issue 6). Not a test: it prints figures and never fails on time.

    .venv/bin/python bench/bench_sync.py [--events 100000] [--devices 100000]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

- push of N events from one station, events per second, next to PostgreSQL's own COPY of the
  same rows into a plain table on the same server in the same run (target ratio >= 0.25). The
  events are a counter's day (`--workload day`, the default: goods-in, exchanges with one in
  eight by courier, collections, certificates, releases; see tests/sync/outbox_fill.py), so
  central checks and projects every one; `--workload received` pushes only goods-in (each
  event one new device row); both by default;
- the time of a sync with nothing to do (target <= 50 ms), median of 20;
- each push is run --repeats times (fresh database and station each), and medians quoted;
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


def push_run(pg: str, folder: Path, workload: str, n: int, batch: int, keep: bool = False):
    """One timed push of n events into a fresh central database, and the COPY baseline of the
    same rows on the same server right after. Returns (push s, COPY s, url, station)."""
    url = create_database(pg, prefix="es_bench")
    upgrade_central(url)
    st = open_station(folder, create=True)
    station_service.initialise(st.context, "BENCH-01", "Bench")
    rows = fill_outbox(st, n, workload)
    if workload == "day":
        load_people_and_old_devices(url, n)
    with connect(url) as conn:
        conn.autocommit = True
        conn.execute("ANALYZE")  # as autovacuum would have, long before a real catch-up
        started = time.perf_counter()
        result = push(StationOutbox(st.engine), conn, batch)
        push_s = time.perf_counter() - started
    assert result.pushed == n + 1 and result.conflicts == 0, result
    copy_s = copy_baseline(url, rows)
    if not keep:
        st.close()
        drop_database(pg, urlsplit(url).path.lstrip("/"))
    return push_s, copy_s, url, st


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workload", choices=("day", "received", "both"), default="both")
    parser.add_argument("--batch", type=int, default=PUSH_BATCH, help="events per push batch")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    n = args.events
    workloads = ("day", "received") if args.workload == "both" else (args.workload,)
    url = st = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for workload in workloads:
                pushes, copies, ratios = [], [], []
                for k in range(args.repeats):
                    keep = workload == workloads[0] and k == args.repeats - 1
                    push_s, copy_s, kept_url, kept_st = push_run(
                        args.pg, Path(tmp) / f"{workload}-{k}", workload, n, args.batch, keep)
                    if keep:
                        url, st = kept_url, kept_st
                    pushes.append(n / push_s)
                    copies.append(n / copy_s)
                    ratios.append(copy_s / push_s)
                print(f"push, {workload} workload: {n:,} events, median "
                      f"{statistics.median(pushes):,.0f} "
                      f"events/s (runs {', '.join(f'{x:,.0f}' for x in pushes)}; batches of "
                      f"{args.batch}, one commit each, projections included)")
                print(f"  COPY of the same rows into a plain table: median "
                      f"{statistics.median(copies):,.0f} rows/s; ratio push/COPY median "
                      f"{statistics.median(ratios):.3f} (runs "
                      f"{', '.join(f'{x:.3f}' for x in ratios)}; target >= 0.25)")
            runner = SyncRunner(st.engine)
            runner.run_once(url)  # the pull of what it pushed, not timed
            idle = []
            for _ in range(20):
                started = time.perf_counter()
                assert runner.run_once(url).ok
                idle.append(time.perf_counter() - started)
            print(f"sync with nothing to do (a station with {n:,} events, all at central): "
                  f"median {statistics.median(idle) * 1000:.1f} ms, max "
                  f"{max(idle) * 1000:.1f} ms (target <= 50 ms)")
            st.close()
            load_register(url, args.devices)
            b = open_station(Path(tmp) / "b", create=True)
            station_service.initialise(b.context, "BENCH-02", "Bench")
            started = time.perf_counter()
            report = SyncRunner(b.engine).run_once(url)
            pull_s = time.perf_counter() - started
            assert report.ok, report
            print(f"pull of the register into a new station: {report.pulled:,} rows "
                  f"({args.devices:,} registered devices, the {workloads[0]} run's devices and "
                  f"people, 50,000 more people) in {pull_s:.1f} s = "
                  f"{report.pulled / pull_s:,.0f} rows/s")
            b.close()
        finally:
            if url:
                drop_database(args.pg, urlsplit(url).path.lstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
