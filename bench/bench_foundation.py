"""Benchmark of the foundation (issue 2): import, durable exchanges, tag lookup, memory.

    .venv/bin/python bench/bench_foundation.py [--repeats 5] [--exchanges 200] [--keep]

Not a test: it prints figures and never fails on time. It loads 100,000 devices (50,000 old
laptops in the register, one per person, and 50,000 new laptops in stock) and 50,000 people into
a fresh station through the import services, then measures, repeated and quoted as medians:

- exchanges per second through `services.exchanges.record_exchange` (one old laptop back, one
  new one out, each exchange its own durable commit; the engineer signs in once, so scrypt is
  not timed), next to raw single-row SQLite INSERT+COMMIT per second with the same pragmas
  (WAL, synchronous=FULL, isolation_level None, BEGIN IMMEDIATE) on a file in the same folder,
  measured in alternation with the exchanges; and their ratio (target >= 0.3);
- tag lookup latency through `services.lookup.find_device` (a read transaction per scan, as the
  counter does it) and through the repository inside one open unit of work (target p99 < 1 ms);
- peak memory (ru_maxrss after each phase; `--tracemalloc` adds Python-heap peaks, slower).

The station lives in a temporary folder under the repository's ignored `build/` (same file
system as the working copy), removed at the end unless `--keep`. With `--profile`, or when the
ratio misses its target, one extra batch of exchanges runs under cProfile and the functions that
take the time are listed.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.bootstrap import open_station  # noqa: E402
from app.services import auth, exchanges, imports, lookup  # noqa: E402
from app.services import station as station_service  # noqa: E402

SITE = "Hutton HQ"
TARGET_RATIO = 0.3
TARGET_P99_MS = 1.0
CHUNK = 20          # exchanges, then as many raw commits, alternately


def main() -> int:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-foundation-", dir=ensure(ROOT / "build")))
    print(f"bench_foundation: {args.people:,} people, {2 * args.people:,} devices; "
          f"{args.repeats} repeats; working folder {work} (repository build/, same file system "
          f"as {ROOT}; st_dev {os.stat(work).st_dev} vs {os.stat(ROOT).st_dev})")
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at start")
    rows: list[tuple[str, str, str]] = []
    memory: list[tuple[str, float, str]] = [("start", maxrss_mb(), "")]
    started = time.perf_counter()
    try:
        opened = open_station(work / "station", create=True)
        ctx = opened.context
        station_service.initialise(ctx, "BENCH-01", SITE)
        admin = auth.add_operator(ctx, None, "A1", "Ada Admin", "admin", "1111")
        auth.add_operator(ctx, admin, "E1", "Eve Engineer", "engineer", "3333")
        engineer = auth.sign_in(ctx, "E1", "3333")

        rows += load(ctx, admin, work, args.people, args.tracemalloc, memory)
        writes = compare_writes(ctx, engineer, work, args)
        statements = count_statements(opened.engine, ctx, engineer, args)
        memory.append(("after exchanges", maxrss_mb(), ""))
        lookup_rows = lookups(ctx, args)
        memory.append(("after lookups", maxrss_mb(), ""))

        med = statistics.median
        ratio = med(writes["ratio"])
        rows += [
            ("exchanges/s, record_exchange (durable)", fmt_rates(writes["service"]), ""),
            ("  latency per exchange p50 / p99", f"{pct(writes['latency'], 50):.2f} / "
             f"{pct(writes['latency'], 99):.2f} ms", ""),
            ("  CPU per exchange", f"{med(writes['service_cpu']):.2f} ms", "process time"),
            ("  SQL statements per exchange", statements, "plus one COMMIT"),
            ("raw INSERT+COMMIT/s, same pragmas", fmt_rates(writes["raw"]), ""),
            ("  CPU per raw commit", f"{med(writes['raw_cpu']):.2f} ms", "process time"),
            ("ratio exchanges / raw commits", f"{ratio:.2f} (range {min(writes['ratio']):.2f}-"
             f"{max(writes['ratio']):.2f})", verdict(ratio >= TARGET_RATIO, f">= {TARGET_RATIO}")
             + "; median of per-repeat ratios"),
            *lookup_rows,
        ]
        rows += [(f"peak memory (ru_maxrss) {label}", f"{mb:,.0f} MB", extra)
                 for label, mb, extra in memory]
        print_table(rows)
        print(f"total {time.perf_counter() - started:.0f} s; load average "
              f"{os.getloadavg()[0]:.2f} at end")
        if args.profile or ratio < TARGET_RATIO:
            profile_exchanges(ctx, engineer, args)
        opened.close()
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50_000,
                        help="people; as many old laptops and as many new ones (default 50,000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (default 7)")
    parser.add_argument("--exchanges", type=int, default=200,
                        help="exchanges (and raw commits) per repeat (default 200)")
    parser.add_argument("--lookups", type=int, default=2000, help="lookups per repeat")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--profile", action="store_true", help="profile a batch of exchanges")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python heap peaks of the imports (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    return parser.parse_args()


# -- loading ---------------------------------------------------------------------------------

def load(ctx, admin, work: Path, people: int, trace: bool, memory: list) -> list:  # noqa: ANN001
    files = {
        "people": ("staff_id,name,site,shielding,assistive_tech",
                   (f"B{n:06d},Person {n},{SITE},no,no" for n in range(1, people + 1))),
        "devices": ("asset_tag,serial,type,model,os,holder_staff_id,sole_use",
                    (f"OLD-{n:06d},5CG{n:07d},laptop,EliteBook 840 G2,Windows 8.1,B{n:06d},no"
                     for n in range(1, people + 1))),
        "stock": ("asset_tag,serial,type,model,os,unit_cost",
                  (f"NEW-{n:06d},5CD{n:07d},laptop,Latitude 5440,Windows 11,899.00"
                   for n in range(1, people + 1))),
    }
    loaders = {"people": imports.import_people, "devices": imports.import_devices,
               "stock": imports.import_stock}
    rows = []
    for kind, (header, lines) in files.items():
        path = work / f"{kind}.csv"
        path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        if trace:
            tracemalloc.start()
        gc.collect()
        t0 = time.perf_counter()
        result = loaders[kind](ctx, admin, path)
        elapsed = time.perf_counter() - t0
        heap = ""
        if trace:
            heap = f"Python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:,.0f} MB"
            tracemalloc.stop()
        rows.append((f"import {kind} ({result.rows:,} rows, one transaction)",
                     f"{elapsed:.2f} s = {result.rows / elapsed:,.0f} rows/s", ""))
        memory.append((f"after import {kind}", maxrss_mb(), heap))
    return rows


# -- durable writes: the service layer against raw SQLite ------------------------------------

def compare_writes(ctx, engineer, work: Path, args):  # noqa: ANN001
    """Exchanges and raw commits in alternating chunks of CHUNK, so that both see the same disk
    and the same neighbours; a repeat's ratio compares its own two halves."""
    raw = RawWriter(work / "raw.sqlite3")
    next_person = iter(range(1, args.people + 1))
    run_exchanges(ctx, engineer, [next(next_person) for _ in range(20)])   # warm up
    raw.commits(20)
    result = {"service": [], "raw": [], "ratio": [], "service_cpu": [], "raw_cpu": [],
              "latency": []}
    for r in range(args.repeats):
        wall = {"service": 0.0, "raw": 0.0}
        cpu = {"service": 0.0, "raw": 0.0}
        done = 0
        while done < args.exchanges:
            chunk = min(CHUNK, args.exchanges - done)
            people = [next(next_person) for _ in range(chunk)]
            order = ("service", "raw") if (r + done // CHUNK) % 2 == 0 else ("raw", "service")
            for which in order:
                c0 = time.process_time()
                if which == "service":
                    elapsed, each = run_exchanges(ctx, engineer, people)
                    result["latency"] += each
                else:
                    elapsed = raw.commits(chunk)
                wall[which] += elapsed
                cpu[which] += time.process_time() - c0
            done += chunk
        n = args.exchanges
        result["service"].append(n / wall["service"])
        result["raw"].append(n / wall["raw"])
        result["ratio"].append(wall["raw"] / wall["service"])
        result["service_cpu"].append(cpu["service"] / n * 1000)
        result["raw_cpu"].append(cpu["raw"] / n * 1000)
        print(f"  repeat {r + 1}: {result['service'][-1]:,.0f} exchanges/s, "
              f"{result['raw'][-1]:,.0f} raw commits/s, ratio {result['ratio'][-1]:.2f}; CPU "
              f"{result['service_cpu'][-1]:.2f} vs {result['raw_cpu'][-1]:.2f} ms each",
              flush=True)
    raw.close()
    args.next_person = next_person
    return result


def run_exchanges(ctx, engineer, people: list[int]) -> tuple[float, list[float]]:  # noqa: ANN001
    each = []
    start = time.perf_counter()
    for n in people:
        t0 = time.perf_counter()
        exchanges.record_exchange(ctx, engineer, exchanges.ExchangeCommand(
            f"B{n:06d}", (f"OLD-{n:06d}",), (f"NEW-{n:06d}",)))
        each.append((time.perf_counter() - t0) * 1000)
    return time.perf_counter() - start, each


class RawWriter:
    """Single-row INSERT + COMMIT with the station's pragmas, the floor a durable write costs."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=10000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY, "
                          "tag TEXT NOT NULL, payload TEXT NOT NULL)")
        self.n = 0

    def commits(self, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            self.n += 1
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("INSERT INTO writes (tag, payload) VALUES (?, ?)",
                              (f"NEW-{self.n:06d}", '{"returned":["OLD"],"issued":["NEW"]}'))
            self.conn.execute("COMMIT")
        return time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def count_statements(engine, ctx, engineer, args) -> str:  # noqa: ANN001
    """What one exchange sends to SQLite, by kind (counted over 20 exchanges, not timed)."""
    from sqlalchemy import event

    kinds: dict[str, int] = {}

    def count(_conn, _cursor, statement, *_rest) -> None:  # noqa: ANN001
        word = statement.lstrip().split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1

    people = [next(args.next_person) for _ in range(20)]
    event.listen(engine, "before_cursor_execute", count)
    try:
        run_exchanges(ctx, engineer, people)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    total = sum(kinds.values()) / len(people)
    return f"{total:.0f} (" + ", ".join(f"{k} {v / len(people):g}" for k, v in sorted(
        kinds.items(), key=lambda kv: -kv[1])) + ")"


# -- lookups ---------------------------------------------------------------------------------

def lookups(ctx, args) -> list[tuple[str, str, str]]:  # noqa: ANN001
    rng = random.Random(args.seed)
    tags = [f"{rng.choice(('OLD', 'NEW'))}-{rng.randrange(1, args.people + 1):06d}"
            for _ in range(args.lookups)]
    for tag in tags[:200]:                      # warm up
        lookup.find_device(ctx, tag)
    service_p50, service_p99, repo_p50, repo_p99 = [], [], [], []
    for _ in range(args.repeats):
        rng.shuffle(tags)
        times = []
        for tag in tags:
            t0 = time.perf_counter_ns()
            found = lookup.find_device(ctx, tag)
            times.append((time.perf_counter_ns() - t0) / 1e6)
            assert found.device is not None
        service_p50.append(pct(times, 50))
        service_p99.append(pct(times, 99))
        times = []
        with ctx.uow_factory(write=False) as uow:
            for tag in tags:
                t0 = time.perf_counter_ns()
                device = uow.devices.get(tag)
                times.append((time.perf_counter_ns() - t0) / 1e6)
                assert device is not None
            uow.session.expunge_all()
        repo_p50.append(pct(times, 50))
        repo_p99.append(pct(times, 99))
    med = statistics.median
    target = f"< {TARGET_P99_MS} ms"
    return [
        (f"tag lookup p99, lookup.find_device ({args.lookups:,} x {args.repeats})",
         f"{med(service_p99):.3f} ms (p50 {med(service_p50):.3f}; "
         f"p99 range {min(service_p99):.3f}-{max(service_p99):.3f})",
         verdict(med(service_p99) < TARGET_P99_MS, target)),
        ("tag lookup p99, repository in one open read",
         f"{med(repo_p99):.3f} ms (p50 {med(repo_p50):.3f}; "
         f"p99 range {min(repo_p99):.3f}-{max(repo_p99):.3f})",
         verdict(med(repo_p99) < TARGET_P99_MS, target)),
    ]


# -- profile ---------------------------------------------------------------------------------

def profile_exchanges(ctx, engineer, args) -> None:  # noqa: ANN001
    people = [next(args.next_person) for _ in range(args.exchanges)]
    profiler = cProfile.Profile()
    profiler.enable()
    elapsed, _ = run_exchanges(ctx, engineer, people)
    profiler.disable()
    print(f"\ncProfile of {len(people)} exchanges ({len(people) / elapsed:,.0f}/s under the "
          "profiler); cumulative time per exchange of the main steps:")
    stats = pstats.Stats(profiler)
    per = 1000 / len(people)
    wanted = [
        ("exchanges.py", "record_exchange"), ("exchanges.py", "_request"),
        ("exchanges.py", "_store"), ("station.py", "station_site"),
        ("lookup.py", "resolve_scan"), ("repositories.py", "held_by"),
        ("repositories.py", "awaiting_collection_for"), ("repositories.py", "open_tags"),
        ("station.py", "courier_allowance"), ("repositories.py", "laptop_counts"),
        ("exchange.py", "decide_exchange"), ("repositories.py", "save"),
        ("repositories.py", "add"), ("uow.py", "record"), ("uow.py", "next_seq"),
        ("uow.py", "commit"), ("~", "<method 'commit' of 'sqlite3.Connection' objects>"),
        ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ]
    found = {}
    for (filename, line, name), (_cc, calls, _tt, cumtime, _callers) in stats.stats.items():
        for file_part, func in wanted:
            if name == func and filename.endswith(file_part):
                key = f"{Path(filename).name}:{name}"
                prev = found.get(key, (0, 0.0))
                found[key] = (prev[0] + calls, prev[1] + cumtime)
    for key, (calls, cum) in sorted(found.items(), key=lambda kv: -kv[1][1]):
        print(f"  {cum * per:8.3f} ms  {calls / len(people):5.1f} calls  {key}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("\ntop 15 by own time:\n" + "\n".join(out.getvalue().splitlines()[6:]))
    print("(cProfile inflates Python time roughly twofold; compare the shares, not the ms.)")


# -- helpers ---------------------------------------------------------------------------------

def ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def fmt_rates(rates: list[float]) -> str:
    return (f"{statistics.median(rates):,.0f}/s (median; range {min(rates):,.0f}-"
            f"{max(rates):,.0f})")


def verdict(ok: bool, target: str) -> str:
    return f"{'meets' if ok else 'MISSES'} target {target}"


def print_table(rows: list[tuple[str, str, str]]) -> None:
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    line = "-" * (w1 + w2 + 40)
    print("\n" + line)
    print(f"{'measure':<{w1}}  {'value':<{w2}}  note")
    print(line)
    for name, value, note in rows:
        print(f"{name:<{w1}}  {value:<{w2}}  {note}")
    print(line)


if __name__ == "__main__":
    raise SystemExit(main())
