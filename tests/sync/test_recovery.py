"""S6 against a real PostgreSQL: a station restored from an older copy gets back, from central,
the events it recorded after the copy was taken (SYNC.md 2.3 step 0), and its reports count
them as before the restore."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import open_station
from app.domain.rules import BadInput
from app.persistence.engine import database_path
from app.persistence.models import EventRow, RecoveredEventRow, StationRow
from app.services import auth, reports, stock
from app.services import station as station_service
from app.services.demo import load_demo
from app.services.exchanges import ExchangeCommand, OverrideRequest, collect, record_exchange
from app.sync.checker import check
from app.sync.escrow import release_units
from app.sync.runner import SyncRunner
from tests.conftest import LEAD, PINS
from tests.sync.conftest import SITE_A, sign_in, swap

CHILD = Path(__file__).with_name("sync_child.py")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def copy_of(st, folder: Path) -> Path:
    """The station's database as a backup would have it now (SQLite's online backup)."""
    folder.mkdir()
    target = sqlite3.connect(database_path(folder))
    source = sqlite3.connect(st.db_path)
    source.backup(target)
    target.close()
    source.close()
    return folder


def work_after_the_copy(st) -> None:
    """A day's work the copy misses: counter and courier exchanges, a lost laptop under an
    override, reclamation tasks raised and closed, goods-in by a new operator, an escrow
    release."""
    for n in (1, 2, 3):
        swap(st, n)  # three laptops over the counter: R5 allows one by courier
    swap(st, 13, courier=True)  # P1013 is shielding: OLD-00013 is awaited from the courier
    for n in (12, 16):
        swap(st, n)  # P1012 and P1016 also hold sole-use desktops: their tasks stay open
    stock.reclaim(st.context, sign_in(st, "E1"), "DSK-00008")  # task raised before the copy
    swap(st, 4)  # raises the task of DSK-00004 ...
    stock.reclaim(st.context, sign_in(st, "E1"), "DSK-00004")  # ... and it is closed
    record_exchange(st.context, sign_in(st, "E1"), ExchangeCommand(
        "P1006", (), ("NEW-00006",), override=OverrideRequest(
            "laptop stolen, crime ref 44/1234/25", LEAD, PINS[LEAD])))
    for n in (10, 11):
        swap(st, n)
    swap(st, 23, courier=True)  # a second one by courier, collected the same day
    collect(st.context, sign_in(st, "E1"), "OLD-00023")
    added = auth.add_operator(st.context, sign_in(st, "A1"), "E2", "Ed Extra", "engineer", "4444")
    assert added.staff_id == "E2"
    stock.receive(st.context, auth.sign_in(st.context, "E2", "4444"), "NEW-00050",
                  "5CD0000050", "laptop", "Dell Latitude 5440", "Windows 11")
    release_units(st.context, sign_in(st, LEAD), 1)


def summary(st):
    actor = sign_in(st, "A1")
    found = reports.daily_summary(st.context, actor, SITE_A, date.today().isoformat())
    return dataclasses.replace(found, generated_at="")


def dashboard(st) -> tuple:
    """The programme dashboard's figures that come from this station's exchanges."""
    found = reports.dashboard(st.context, sign_in(st, "A1"))
    return (found.refreshed, found.by_day, found.backlog_ages(), all(found.backlog_returned_at),
            found.reclamations_open, found.exceptions_by_site, found.courier_laptops,
            found.laptops_issued)


def status(st) -> dict:
    return {k: v for k, v in station_service.status(st.context).as_json().items()
            if k not in ("last_sync", "recovered_events")}


def allowance(st):
    with st.context.uow_factory(write=False) as uow:
        return station_service.courier_allowance(uow)


def recovered_rows(st) -> list[tuple]:
    with Session(st.engine) as s:
        return [tuple(r) for r in s.execute(
            select(RecoveredEventRow.epoch, RecoveredEventRow.seq, RecoveredEventRow.event_id,
                   RecoveredEventRow.sha256, RecoveredEventRow.payload)
            .order_by(RecoveredEventRow.seq))]


def central_events(url: str, epoch: str, after: int) -> list[tuple]:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(
            "SELECT epoch::text, seq, event_id::text, sha256, payload FROM event "
            "WHERE station_id = 'HQ-01' AND epoch = %s AND seq > %s ORDER BY seq",
            (epoch, after)).fetchall()


@pytest.fixture
def restored(central, make_station, tmp_path):
    """(live station, its copy taken at seq `copied`, copied) after the live station did a
    day's work, pushed it and died; the copy is opened as the restored station."""
    live = make_station()
    load_demo(live.context, sign_in(live), SITE_A)
    swap(live, 8)  # P1008 gets a laptop: the task to reclaim DSK-00008 is raised
    assert SyncRunner(live.engine).run_once(central).ok
    copied = last_seq(live)
    folder = copy_of(live, tmp_path / "copy")
    work_after_the_copy(live)
    assert SyncRunner(live.engine).run_once(central).ok
    opened = open_station(folder)
    yield live, opened, copied
    opened.close()


def last_seq(st) -> int:
    with Session(st.engine) as s:
        return max(s.scalars(select(EventRow.seq)))


def epoch_of(st) -> str:
    with Session(st.engine) as s:
        return s.scalar(select(StationRow.epoch))


def test_a_restored_station_gets_its_lost_events_back_and_reports_as_before(central, restored):
    live, st, copied = restored
    before = summary(live), status(live), allowance(live), dashboard(live)
    old_epoch = epoch_of(st)
    lost = central_events(central, old_epoch, copied)
    assert len(lost) == 17
    assert summary(st) != before[0] and allowance(st) != before[2]  # what the restore lost
    assert dashboard(st) != before[3]

    report = SyncRunner(st.engine).run_once(central)

    assert report.ok, report.error
    assert report.recovered == 17 and "17 events recorded here" in report.notice
    assert report.as_json()["recovered_events"] == 17 and report.pushed == 0
    rows = recovered_rows(st)
    assert [r[:4] for r in rows] == [r[:4] for r in lost]
    assert [json.loads(r[4]) for r in rows] == [c[4] for c in lost]
    after = summary(st), status(st), allowance(st), dashboard(st)
    assert after[0] == before[0]  # the day's summary, figure by figure
    assert after[1] == before[1] and after[2] == before[2]  # status and the courier allowance
    assert after[3] == before[3]  # and the dashboard's history of refreshed devices
    day = before[0]  # the figures compared above are not trivially zero
    assert (day.exchanges, day.courier_exchanges, day.courier_collected) == (12, 2, 1)
    assert (day.reclamations_raised, day.reclamations_closed, day.reclamations_open) == (4, 2, 2)
    assert (day.received_into_stock, len(day.exceptions), len(day.open_collections)) == (41, 1, 1)
    assert day.lost == {"laptop": 1} and "E2" in {o["staff_id"] for o in day.operators}
    assert station_service.status(st.context).recovered_events == 17

    again = SyncRunner(st.engine).run_once(central)  # nothing new: nothing stored twice
    assert again.ok and again.recovered == 0 and again.notice is None
    assert recovered_rows(st) == rows and summary(st) == before[0]

    swap(st, 9)  # the new epoch's own events still go to central
    pushed = SyncRunner(st.engine).run_once(central)
    assert pushed.ok and pushed.pushed == 1 and pushed.unsynced == 0
    assert epoch_of(st) != old_epoch
    with psycopg.connect(libpq(central)) as conn:
        assert conn.execute("SELECT count(*) FROM event WHERE epoch = %s",
                            (epoch_of(st),)).fetchone()[0] == 1
    assert check(central, [Path(st.db_path).parent], drained=True) == []


def test_a_sync_killed_in_the_middle_of_the_recovery_leaves_nothing_half_written(
        central, restored, monkeypatch):
    from app.sync import recovery

    _live, st, copied = restored
    swap(st, 9)  # a seq 9 other than central's: the copy parts from central at seq 8
    old_epoch, before = epoch_of(st), allowance(st)
    data_dir = str(Path(st.db_path).parent)
    env = {**os.environ, "EXCHANGE_CRASH_AT": "mid_recovery"}
    proc = subprocess.run([sys.executable, str(CHILD), data_dir, libpq(central)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert recovered_rows(st) == [] and epoch_of(st) == old_epoch and allowance(st) == before
    with Session(st.engine) as s:
        assert set(s.scalars(select(EventRow.epoch))) == {old_epoch}

    monkeypatch.setattr(recovery, "PAGE", 5)  # fetched in four pages this time
    report = SyncRunner(st.engine).run_once(central)  # the next sync decides again
    assert report.ok and report.recovered == 17 and report.pushed == 1
    lost = central_events(central, old_epoch, copied)
    assert [r[:4] for r in recovered_rows(st)] == [r[:4] for r in lost] and len(lost) == 17
    assert allowance(st) != before
    assert check(central, [data_dir], drained=True) == []


def test_a_station_restored_twice_from_one_copy_gets_both_lost_streams_back(
        central, make_station, tmp_path):
    """The disk fails twice before the next backup: the second restore also brings back what
    the station did in the stream the first restore started, so its summary and courier
    allowance are those of the station before the second failure, and it cannot courier past
    the cap (the checker's I8 holds)."""
    live = make_station()
    load_demo(live.context, sign_in(live), SITE_A)
    swap(live, 8)
    assert SyncRunner(live.engine).run_once(central).ok
    backup = copy_of(live, tmp_path / "backup")
    for n in (1, 2, 3):
        swap(live, n)
    assert SyncRunner(live.engine).run_once(central).ok
    live.close()

    first = open_station(shutil.copytree(backup, tmp_path / "first"))
    report = SyncRunner(first.engine).run_once(central)
    assert report.ok and report.recovered == 3
    swap(first, 13, courier=True)  # in the stream the first restore started
    assert SyncRunner(first.engine).run_once(central).ok
    before, allowed = summary(first), allowance(first)
    first.close()

    second = open_station(shutil.copytree(backup, tmp_path / "second"))
    report = SyncRunner(second.engine).run_once(central)
    assert report.ok and report.recovered == 4, report  # 3 of the copy's stream, 1 of the next
    assert allowance(second) == allowed
    assert summary(second) == before
    assert check(central, [tmp_path / "second"], drained=True) == []
    second.close()


def test_a_restored_copy_whose_next_event_has_the_same_payload_is_still_noticed(
        central, make_station, tmp_path):
    """Two releases of one unit write the same payload: the restored copy's own release at
    the seq central holds for the lost one is told apart by its event id, goes in a new
    stream, and the lost one comes back."""
    live = make_station()
    load_demo(live.context, sign_in(live), SITE_A)
    swap(live, 8)
    assert SyncRunner(live.engine).run_once(central).ok
    backup = copy_of(live, tmp_path / "backup")
    lost = release_units(live.context, sign_in(live, "L1"), 1)
    assert SyncRunner(live.engine).run_once(central).ok
    live.close()

    restored_copy = open_station(shutil.copytree(backup, tmp_path / "restored"))
    mine = release_units(restored_copy.context, sign_in(restored_copy, "L1"), 1)
    report = SyncRunner(restored_copy.engine).run_once(central)
    assert report.ok and report.recovered == 1 and report.notice
    with psycopg.connect(libpq(central)) as conn:
        assert conn.execute("SELECT count(*) FROM event WHERE event_id IN (%s, %s)",
                            (lost["event_id"], mine["event_id"])).fetchone() == (2,)
    assert [row[2] for row in recovered_rows(restored_copy)] == [lost["event_id"]]
    # the copy gave back the unit the lost release had given already: central opens a courier
    # overrun on that release for the site lead (c0018), and the checker names both
    with psycopg.connect(libpq(central)) as conn:
        assert conn.execute(
            "SELECT c.kind, c.subject, m.event_id::text, e.status FROM sync_conflict c "
            "JOIN sync_conflict_member m ON m.conflict_id = c.id "
            "JOIN event e ON e.event_id = m.event_id").fetchall() == [
            ("COURIER_OVERRUN", "station:HQ-01", mine["event_id"], "conflict")]
    from app.sync.conflicts import open_conflicts

    [shown] = open_conflicts(central)  # what the site lead's Conflicts screen lists
    assert shown.description == ("a station's courier laptops, or the units it gave back, "
                                 "passed its allowance")
    assert [(r.type, r.payload) for r in shown.records] == [("escrow.released", {"units": 1})]
    assert check(central, [tmp_path / "restored"], drained=True) == [
        "I8 station HQ-01: courier balance -1 (below 0)",
        "I8 station:HQ-01: a courier overrun is open"]
    restored_copy.close()


def test_reclaiming_a_desktop_a_recovered_event_reclaimed_says_so_plainly(central, restored):
    """The copy still lists DSK-00008's task (it was reclaimed after the copy was taken): a
    scan of it is refused with what to do, not an unexpected error, and nothing is recorded."""
    live, st, _copied = restored
    assert SyncRunner(st.engine).run_once(central).ok
    seq = last_seq(st)
    with pytest.raises(BadInput, match="DSK-00008 is returned .*already, by the device register"):
        stock.reclaim(st.context, sign_in(st, "E1"), "DSK-00008")
    assert last_seq(st) == seq


@pytest.mark.xfail(strict=True, reason=(
    "known gap: recovered events come back as counts (status, daily summary: 2 open tasks, "
    "right), not as local rows. The Reclamation panel lists the copy's own rows: DSK-00008 "
    "(reclaimed in a lost event; scanning it says so) and not DSK-00012 or DSK-00016, whose "
    "tasks lost exchanges raised; scanning those is refused (R4, no open reclamation task). "
    "A task row needs its exchange's row (foreign key), and the reports count recovered "
    "exchanges from the events: the two would have to be made one first"))
def test_a_desktop_whose_task_a_recovered_exchange_raised_can_be_reclaimed(central, restored):
    _live, st, _copied = restored
    assert SyncRunner(st.engine).run_once(central).ok
    assert station_service.status(st.context).open_reclamation_tasks == 2  # counted, as before
    assert [t.tag for t in stock.open_reclamation_tasks(st.context)] == [
        "DSK-00012", "DSK-00016"]
    stock.reclaim(st.context, sign_in(st, "E1"), "DSK-00012")
    assert [t.tag for t in stock.open_reclamation_tasks(st.context)] == ["DSK-00016"]
