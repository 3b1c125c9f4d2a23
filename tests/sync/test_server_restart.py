"""S3: PostgreSQL restarted (`pg_ctl restart -m immediate`) while a station syncs; the next
sync settles everything and hwm never went back. Runs its own throwaway cluster."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from app.sync.central import upgrade_central
from app.sync.checker import check
from app.sync.runner import SyncRunner
from tests.sync.outbox_fill import fill_outbox

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "with_postgres.py"


@pytest.fixture
def own_cluster():
    spec = importlib.util.spec_from_file_location("with_postgres", SCRIPT)
    module = sys.modules.setdefault("with_postgres", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    try:
        cluster = module.Cluster()
        cluster.start()
    except Exception as exc:  # noqa: BLE001 - no binaries, no user to run as...
        pytest.fail(f"no throwaway PostgreSQL cluster could be started: {exc} "
                    "(make test installs the postgresql package)")
    yield cluster
    cluster.stop()


def restart(cluster, immediate: bool = True) -> None:
    # -l: the new postmaster writes to the log, not to pipes we would wait on forever
    cluster.user.run([cluster.bin("pg_ctl"), "-D", cluster.datadir, "-l", cluster.logfile,
                      "-m", "immediate" if immediate else "fast", "-w", "-t", "60", "restart"],
                     cwd=cluster.tmpdir, timeout=90)


@pytest.mark.slow
def test_an_immediate_server_restart_mid_sync_loses_and_doubles_nothing(own_cluster,
                                                                         make_station):
    url = own_cluster.url.replace("postgresql://", "postgresql+psycopg://")
    upgrade_central(url)
    st = make_station()
    fill_outbox(st, 5000)
    reports, hwms = [], []

    def watch_hwm() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not reports:
            try:
                with psycopg.connect(own_cluster.url, connect_timeout=2) as conn:
                    row = conn.execute("SELECT max(hwm) FROM station_stream").fetchone()
                    hwms.append(row[0] or 0)
            except psycopg.Error:
                pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_hwm)
    watcher.start()
    syncing = threading.Thread(target=lambda: reports.append(
        SyncRunner(st.engine, batch_size=20).run_once(url)))
    syncing.start()
    while not any(hwms) and syncing.is_alive():
        time.sleep(0.01)
    restart(own_cluster)
    syncing.join(60)
    watcher.join(30)
    assert not reports[0].ok, "the restart came after the sync had finished"
    for _ in range(3):
        report = SyncRunner(st.engine).run_once(url)
        if report.ok:
            break
        time.sleep(1)
    assert report.ok, report.error
    assert check(url, [st.config.data_dir], drained=True, replay=True) == []
    assert hwms == sorted(hwms), "hwm went back"
