"""Benchmark of the reports (issue 7): the daily summary of a site-day with 2,000 exchanges.

    .venv/bin/python bench/bench_reports.py [--exchanges 2000] [--repeats 5]

Not a test: it prints figures and never fails on time. A station with 2,000 people, their old
laptops and 2,000 new laptops records 2,000 exchanges in one day (one in 20 with a site lead's
override, so the exceptions table is long), then the summary is built from the database,
rendered to HTML and written to PDF through Qt, repeatedly; medians are quoted (target <= 1 s),
next to the fixed cost of writing a one-line PDF through the same path (the baseline).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.bootstrap import open_station  # noqa: E402
from app.reports.daily import to_csv, to_html  # noqa: E402
from app.services import auth, imports, reports, station  # noqa: E402
from app.services.exchanges import ExchangeCommand, OverrideRequest, record_exchange  # noqa: E402
from app.ui.printing import ensure_gui_application, write_html_pdf  # noqa: E402

SITE = "Bench Site"


def build_day(folder: Path, n: int):
    st = open_station(folder / "station", create=True)
    station.initialise(st.context, "BENCH-01", SITE)
    admin = auth.add_operator(st.context, None, "A1", "Ada Admin", "admin", "1111")
    files = {
        "people": [",".join(imports.PEOPLE_COLUMNS)] + [
            f"P{i:05d},Person {i},{SITE},no,no" for i in range(n)],
        "devices": [",".join(imports.DEVICE_COLUMNS)] + [
            f"OLD-{i:05d},SO{i},laptop,EliteBook,Windows 8.1,P{i:05d},no" for i in range(n)],
        "stock": [",".join(imports.STOCK_COLUMNS)] + [
            f"NEW-{i:05d},SN{i},laptop,Latitude,Windows 11,899.00" for i in range(n)],
    }
    for kind, rows in files.items():
        path = folder / f"{kind}.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        getattr(imports, f"import_{kind}")(st.context, admin, path)
    started = time.perf_counter()
    for i in range(n):
        override = OverrideRequest(f"stolen, crime ref {i}/26", "A1", "1111") if i % 20 == 0 else None
        returned = () if override else (f"OLD-{i:05d}",)
        record_exchange(st.context, admin, ExchangeCommand(f"P{i:05d}", returned,
                                                           (f"NEW-{i:05d}",), override=override))
    print(f"recorded {n:,} exchanges in {time.perf_counter() - started:.1f} s")
    return st, admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ensure_gui_application()
    today = date.today().isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        st, admin = build_day(folder, args.exchanges)
        summary_times, pdf_times, baseline = [], [], []
        for r in range(args.repeats):
            started = time.perf_counter()
            summary = reports.daily_summary(st.context, admin, SITE, today)
            html, csv_text = to_html(summary), to_csv(summary)
            middle = time.perf_counter()
            write_html_pdf(html, folder / f"daily-{r}.pdf", "bench")
            done = time.perf_counter()
            write_html_pdf("<p>one line</p>", folder / f"one-{r}.pdf", "baseline")
            baseline.append(time.perf_counter() - done)
            summary_times.append(middle - started)
            pdf_times.append(done - started)
        size = (folder / "daily-0.pdf").stat().st_size
        med = statistics.median
        print(f"daily summary, {summary.exchanges:,} exchanges, {len(summary.exceptions)} "
              f"exceptions, {len(csv_text.splitlines())} CSV rows, PDF {size / 1024:.0f} KiB")
        print(f"  figures from the database + HTML + CSV: median {med(summary_times) * 1000:.0f} ms")
        print(f"  ... and the PDF written: median {med(pdf_times) * 1000:.0f} ms (target <= 1000)")
        print(f"  baseline, a one-line PDF through the same path: median "
              f"{med(baseline) * 1000:.0f} ms (ratio {med(pdf_times) / med(baseline):.1f}x)")
        st.close()


if __name__ == "__main__":
    main()
