"""Benchmark of the programme summary on central (issue 7) over 1,000,000 events.

    .venv/bin/python bench/bench_central_report.py [--events 1000000] [--repeats 5]

Not a test: it prints figures and never fails on time. It needs a PostgreSQL server
(EXCHANGE_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/test; `make bench` does not
start one). A throwaway database gets the central schema, 50 stations at 25 sites, 200,000
devices and 1,000,000 events over 200 days (exchanges with their issued and returned tags, one
in 50 with an override, goods-in, collections, reclamations, releases). Then the daily summary of
one day is read for the whole programme and for one site, repeatedly (medians; target <= 3 s),
next to a baseline on the same server: counting that day's events with the same index.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

from app.sync.central import upgrade_central
from app.sync.central_reports import programme_daily_summary
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' database helpers
from tests.pg_plugin import create_database, drop_database  # noqa: E402

SEED_SQL = """
INSERT INTO station_stream (station_id, epoch, site, counter_laptops, courier_laptops)
SELECT 'ST-' || s, gen_random_uuid(), 'Site ' || (s % 25), 3000, 500
FROM generate_series(1, 50) s;
INSERT INTO device_state (asset_tag, type, state, site)
SELECT 'DEV-' || d, (ARRAY['laptop','laptop','tablet','desktop'])[1 + d % 4],
       (ARRAY['issued','returned','in_stock'])[1 + d % 3], 'Site ' || (d % 25)
FROM generate_series(1, 200000) d;
INSERT INTO event (event_id, station_id, epoch, seq, type, schema_v, payload, sha256,
                   operator, occurred_at)
SELECT gen_random_uuid(), ss.station_id, ss.epoch, g.n,
       (ARRAY['exchange.recorded','exchange.recorded','exchange.recorded','device.received',
              'courier.collected','desktop.reclaimed','device.released'])[1 + g.n % 7],
       1,
       jsonb_build_object(
           'exchange_id', gen_random_uuid(), 'person', 'P' || (g.n % 50000),
           'courier', g.n % 10 = 0,
           'issued', jsonb_build_array('DEV-' || (1 + g.n % 200000)),
           'returned', jsonb_build_array('DEV-' || (1 + (g.n * 7) % 200000)),
           'lost', '[]'::jsonb, 'reclamation_tasks', '[]'::jsonb,
           'route', CASE WHEN g.n % 2 = 0 THEN 'reuse' ELSE 'weee' END,
           'exceptions', CASE WHEN g.n % 50 = 0 THEN jsonb_build_array(jsonb_build_object(
               'rule', 'R1', 'reason', 'stolen, ref ' || g.n, 'authorised_by', 'L1'))
               ELSE '[]'::jsonb END),
       'x', 'E' || (g.n % 40),
       to_char(DATE ':start' + (g.n % :days), 'YYYY-MM-DD') || 'T10:00:00+00:00'
FROM generate_series(1, :events) g(n)
JOIN station_stream ss ON ss.station_id = 'ST-' || (1 + g.n % 50);
ANALYZE;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    server = os.environ.get("EXCHANGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        url = create_database(server, prefix="es_bench")
    except psycopg.Error as exc:
        print(f"skipped: no PostgreSQL at {server} ({exc})")
        return
    name = url.rsplit("/", 1)[1]
    try:
        upgrade_central(url)
        start = date.today() - timedelta(days=args.days)
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            seed = (SEED_SQL.replace(":start", start.isoformat())  # our own numbers, not input
                    .replace(":days", str(int(args.days))).replace(":events", str(int(args.events))))
            with conn.cursor() as cur:
                cur.execute(seed.encode())  # bytes: no client-side placeholders
            total = conn.execute("SELECT count(*) FROM event").fetchone()[0]
        print(f"central seeded with {total:,} events in {time.perf_counter() - started:.0f} s")
        day = (start + timedelta(days=args.days // 2)).isoformat()
        runs = {"whole programme": [], "one site": [], "baseline (count the day)": []}
        for _ in range(args.repeats):
            for label, work in (
                    ("whole programme", lambda: programme_daily_summary(url, day)),
                    ("one site", lambda: programme_daily_summary(url, day, "Site 3")),
                    ("baseline (count the day)", lambda: _count_day(url, day))):
                t = time.perf_counter()
                result = work()
                runs[label].append(time.perf_counter() - t)
        print(f"daily summary for {day}: {result:,} events that day; "
              f"{programme_daily_summary(url, day).exchanges:,} exchanges programme-wide")
        base = statistics.median(runs["baseline (count the day)"])
        for label, times in runs.items():
            med = statistics.median(times)
            print(f"  {label:<26} median {med * 1000:7.0f} ms  ({med / base:5.1f}x baseline)"
                  + ("  target <= 3000 ms" if "baseline" not in label else ""))
    finally:
        drop_database(server, name)


def _count_day(url: str, day: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM event WHERE left(occurred_at, 10) = %s "
                            "AND type = ANY(%s)", (day, ["exchange.recorded", "device.received",
                                                         "courier.collected"])).fetchone()[0]


if __name__ == "__main__":
    main()
