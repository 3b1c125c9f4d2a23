"""Fault injection at CI scale (SYNC.md 3): SIGKILL at each crash point, connections cut
before and after COMMIT, many station processes at once; the checker after each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from app.services.demo import load_demo
from app.sync.checker import check
from app.sync.runner import SyncRunner
from tests.sync.outbox_fill import fill_outbox
from tests.sync.chaosproxy import ChaosProxy
from tests.sync.conftest import SITE_A, sign_in, swap

CHILD = Path(__file__).with_name("sync_child.py")
POINTS = ("after_outbox_read", "before_pg_commit", "after_pg_commit", "mid_local_ack",
          "mid_pull_apply")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def data_dir(st) -> Path:
    return Path(st.db_path).parent


def child(st, url: str, crash_at: str | None = None, rounds: int = 1) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "EXCHANGE_CRASH_AT"}
    if crash_at:
        env["EXCHANGE_CRASH_AT"] = crash_at
    return subprocess.Popen([sys.executable, str(CHILD), str(data_dir(st)), libpq(url),
                             str(rounds)], env=env, stderr=subprocess.PIPE, text=True)


def test_sigkill_at_every_crash_point_loses_and_doubles_nothing(central, make_station):
    st = make_station()
    load_demo(st.context, sign_in(st), SITE_A)
    for n, point in zip((1, 2, 4, 5, 6), POINTS):
        swap(st, n)
        with psycopg.connect(libpq(central), autocommit=True) as conn:
            conn.execute("UPDATE person_state SET name = name || '.' WHERE staff_id = 'P1009'")
        proc = child(st, central, crash_at=point)
        proc.wait(60)
        assert proc.returncode == -signal.SIGKILL, (point, proc.stderr.read())
        assert check(central, [data_dir(st)]) == [], point
    assert child(st, central).wait(60) == 0
    assert check(central, [data_dir(st)], drained=True, replay=True) == []


@pytest.mark.slow
def test_sigkill_at_random_moments_of_busy_syncs_loses_and_doubles_nothing(central,
                                                                         make_station):
    import random
    import time

    seed = random.randrange(10**6)
    rng = random.Random(seed)
    st = make_station()
    load_demo(st.context, sign_in(st), SITE_A)
    fill_outbox(st, 400)
    for n in (1, 2, 4, 5, 6, 8):
        swap(st, n)
        proc = child(st, central, rounds=50)
        time.sleep(rng.uniform(0.3, 1.2))  # about the start-up, then anywhere in the sync
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert check(central, [data_dir(st)]) == [], f"seed {seed}"
    assert child(st, central).wait(60) == 0
    assert check(central, [data_dir(st)], drained=True, replay=True) == [], f"seed {seed}"


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_connection_cut_at_commit_is_settled_by_the_next_handshake(central, make_station,
                                                                     mode):
    st = make_station()
    load_demo(st.context, sign_in(st), SITE_A)
    host = urlsplit(libpq(central))
    with ChaosProxy((host.hostname, host.port or 5432)) as proxy:
        via_proxy = urlunsplit(host._replace(netloc=f"postgres@127.0.0.1:{proxy.port}",
                                             query="sslmode=disable"))
        proxy.cut(mode, commit=2)  # batch 1 (seq 1-2), batch 2 (seq 3-4) <- cut
        report = SyncRunner(st.engine, batch_size=2).run_once(via_proxy)
        assert not report.ok and proxy.cuts == 1
        assert "nothing is lost" in report.error
        assert check(central, [data_dir(st)]) == []
        with psycopg.connect(libpq(central)) as conn:
            hwm = conn.execute("SELECT hwm FROM station_stream").fetchone()[0]
        assert hwm == (4 if mode == "after" else 2)
        proxy.cut(None)
        report = SyncRunner(st.engine, batch_size=2).run_once(via_proxy)
    assert report.ok and report.pushed == 7 - hwm
    assert check(central, [data_dir(st)], drained=True, replay=True) == []


@pytest.mark.slow
def test_a_worker_hung_holding_the_stream_lock_does_not_stop_a_second_one(central,
                                                                          make_station):
    import threading
    import time

    st = make_station()
    load_demo(st.context, sign_in(st), SITE_A)
    host = urlsplit(libpq(central))
    with ChaosProxy((host.hostname, host.port or 5432), hold_s=4) as proxy:
        hung_url = urlunsplit(host._replace(
            netloc=f"postgres@127.0.0.1:{proxy.port}",
            query="sslmode=disable&options=-c%20idle_in_transaction_session_timeout%3D1500"))
        proxy.cut("hold", commit=1)
        hung = []
        worker = threading.Thread(target=lambda: hung.append(
            SyncRunner(st.engine, batch_size=2).run_once(hung_url)))
        worker.start()
        while not proxy.cuts:  # the first worker holds the lock and its COMMIT hangs
            time.sleep(0.01)
        started = time.monotonic()
        report = SyncRunner(st.engine, batch_size=2).run_once(central)
        waited = time.monotonic() - started
        worker.join(30)
    assert report.ok and report.pushed == 7, report
    assert 1.0 < waited < 5.0  # until the server ended the hung session, not lock_timeout
    assert not hung[0].ok
    assert check(central, [data_dir(st)], drained=True, replay=True) == []


@pytest.mark.slow
def test_a_station_hung_holding_the_order_lock_holds_others_up_two_seconds_at_most(
        central, make_station):
    """HQ-01's push takes the order lock, then its COMMIT hangs (no session options of its
    own: the server's 60 s idle limit would apply). Central cuts it off after 2 s (c0017), so
    HQ-02's push, waiting for the lock, goes through before its own lock_timeout (5 s)."""
    import threading
    import time

    a, b = make_station("HQ-01"), make_station("HQ-02")
    for st in (a, b):
        load_demo(st.context, sign_in(st), SITE_A)
    host = urlsplit(libpq(central))
    with ChaosProxy((host.hostname, host.port or 5432), hold_s=12) as proxy:
        hung_url = urlunsplit(host._replace(netloc=f"postgres@127.0.0.1:{proxy.port}",
                                            query="sslmode=disable"))
        proxy.cut("hold", commit=1)
        hung = []
        worker = threading.Thread(target=lambda: hung.append(SyncRunner(a.engine).run_once(
            hung_url)))
        worker.start()
        while not proxy.cuts:  # HQ-01 holds the order lock and its COMMIT hangs
            time.sleep(0.01)
        started = time.monotonic()
        report = SyncRunner(b.engine).run_once(central)
        waited = time.monotonic() - started
        worker.join(30)
    assert report.ok and report.pushed > 0, report
    assert 1.0 < waited < 4.5, waited  # cut off at 2 s, not the 60 s idle limit
    assert not hung[0].ok
    assert SyncRunner(a.engine).run_once(central).ok  # HQ-01's batch went again, whole
    assert check(central, [data_dir(a), data_dir(b)], drained=True, replay=True) == []


@pytest.mark.slow
def test_ten_station_processes_syncing_at_once_keep_every_invariant(central, make_station):
    first = make_station("ST-00")
    load_demo(first.context, sign_in(first), SITE_A)
    stations = [first] + [make_station(f"ST-{k:02d}", admin_only=True) for k in range(1, 10)]
    for st in stations:
        SyncRunner(st.engine).run_once(central)
    for k, st in enumerate(stations):
        swap(st, k + 1 if k < 6 else k + 2, new=1, staff="A1")  # all issue NEW-00001
    procs = [child(st, central, rounds=2) for st in stations]
    assert [p.wait(120) for p in procs] == [0] * 10
    for st in stations:
        assert SyncRunner(st.engine).run_once(central).ok
    # ten pushes of one device at once: applied in central_seq order all the same (I5)
    assert check(central, [data_dir(st) for st in stations], drained=True, replay=True) == []
    with psycopg.connect(libpq(central)) as conn:
        members = conn.execute("SELECT c.kind, count(*) FROM sync_conflict c "
                               "JOIN sync_conflict_member m ON m.conflict_id = c.id "
                               "GROUP BY c.kind").fetchall()
    assert members == [("DEVICE_DOUBLE_ISSUE", 10)]
