"""Crash safety: a process killed with SIGKILL mid-exchange leaves the whole exchange or none of it.

Two kinds of kill, both on a real SQLite file (WAL, synchronous=FULL):

- at each named crash point of `app.faults` (EXCHANGE_CRASH_AT), in an `exchange-station
  exchange` subprocess, for a counter swap with a reclamation task, a courier exchange, an R1
  override (lost laptop) and an R3 override (unknown device registered): the database afterwards
  equals either the database before or the database a clean run of the same exchange leaves;
  and the operator's retry goes through exactly once, with the next gap-free event number;
- at random moments, several times over, in a child process that does exchanges and courier
  collections in a loop (tests/integration/crash_child.py): whatever the child reported done is
  stored, and the whole database keeps its invariants (exchanges <-> events one to one, gap-free
  event numbers, device states agree with the exchange items and with a replay of the events,
  no device issued twice, courier within 25%, `PRAGMA integrity_check` ok).

The random kills are seeded; the seed is printed (run with `-s` to see it) and can be replayed
with CRASH_SEED=<seed>.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest

from app.bootstrap import open_station
from app.cli import main as cli_main
from app.domain.people import Operator, Role
from app.domain.rules import RuleRefused
from app.faults import POINTS
from app.persistence.engine import database_path
from app.services import auth, exchanges, imports
from app.services import station as station_service

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
SITE = "Hutton HQ"
PINS = {"A1": "1111", "L1": "2222", "E1": "3333"}
ENGINEER = Operator("E1", "Eve Engineer", Role.ENGINEER)
STOLEN = "laptop stolen, crime ref 44/1234/25"


# -- a station on disk -----------------------------------------------------------------------

def build_station(data_dir: Path, people: list[str], register: list[str], stock: list[str]):
    """A new station with an admin A1, a site lead L1 and an engineer E1, and the given CSV rows."""
    opened = open_station(data_dir, create=True)
    ctx = opened.context
    station_service.initialise(ctx, "HQ-01", SITE)
    admin = auth.add_operator(ctx, None, "A1", "Ada Admin", "admin", PINS["A1"])
    auth.add_operator(ctx, admin, "L1", "Lee Lead", "site_lead", PINS["L1"])
    auth.add_operator(ctx, admin, "E1", "Eve Engineer", "engineer", PINS["E1"])
    for kind, columns, rows, load in (
            ("people", imports.PEOPLE_COLUMNS, people, imports.import_people),
            ("devices", imports.DEVICE_COLUMNS, register, imports.import_devices),
            ("stock", imports.STOCK_COLUMNS, stock, imports.import_stock)):
        path = data_dir.parent / f"{data_dir.name}-{kind}.csv"
        path.write_text(",".join(columns) + "\n" + "".join(r + "\n" for r in rows),
                        encoding="utf-8")
        load(ctx, admin, path)
    return opened


def copy_station(template: Path, target: Path) -> Path:
    """A copy of a closed station's data folder (its WAL checkpointed away on close)."""
    assert not Path(f"{database_path(template)}-wal").exists()
    shutil.copytree(template, target)
    return target


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("EXCHANGE_CRASH_AT", "EXCHANGE_DATA_DIR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | extra


# -- reading the database as plain data ------------------------------------------------------

def dump(db_path: Path) -> dict[str, list[dict]]:
    """Every row of every table (but Alembic's), as dicts, in a stable order."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version' ORDER BY name")]
        return {t: sorted((dict(r) for r in conn.execute(f'SELECT * FROM "{t}"')), key=repr)
                for t in tables}
    finally:
        conn.close()


#: Columns that differ between two runs of the same action (ids, clocks, hashes of those).
VOLATILE = {"exchanges": {"exchange_id", "occurred_at", "local_date"},
            "exchange_items": {"exchange_id"}, "exchange_exceptions": {"exchange_id"},
            "reclamation_tasks": {"exchange_id", "created_at"},
            "events": {"event_id", "occurred_at", "sha256"}}


def normalised(tables: dict[str, list[dict]]) -> dict[str, list[tuple]]:
    """The database with the volatile columns left out, to compare two runs of one action."""
    out = {}
    for table, rows in tables.items():
        kept = []
        for row in rows:
            row = {k: v for k, v in row.items() if k not in VOLATILE.get(table, ())}
            if table == "events":
                payload = json.loads(row["payload"])
                payload.pop("exchange_id", None)
                row["payload"] = json.dumps(payload, sort_keys=True)
            kept.append(tuple(sorted(row.items())))
        out[table] = sorted(kept, key=repr)
    return out


def integrity_problems(db_path: Path) -> list:
    conn = sqlite3.connect(db_path)
    try:
        checked = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    return ([] if checked == ["ok"] else checked) + broken


def whole_or_nothing(before: dict, after: dict) -> bool:
    """True if `after` holds one whole new exchange, False if nothing of it; else fail."""
    last_seq = max(e["seq"] for e in before["events"])
    new_events = [e for e in after["events"] if e["seq"] > last_seq]
    old_ids = {x["exchange_id"] for x in before["exchanges"]}
    new_exchanges = [x for x in after["exchanges"] if x["exchange_id"] not in old_ids]
    old_devices = {d["asset_tag"]: d for d in before["devices"]}
    changed = [d for d in after["devices"] if old_devices.get(d["asset_tag"]) != d]
    untouched = all(after[t] == before[t] for t in before if t not in ("events", "devices"))
    if not new_events and not new_exchanges and not changed and untouched:
        assert after == before
        return False
    assert len(new_events) == 1, f"{len(new_events)} new events: {new_events}"
    event = new_events[0]
    assert (event["seq"], event["type"]) == (last_seq + 1, "exchange.recorded")
    assert len(after["events"]) == len(before["events"]) + 1
    assert len(new_exchanges) == 1, f"{len(new_exchanges)} new exchanges with one event"
    exchange = new_exchanges[0]
    assert exchange["event_seq"] == event["seq"]
    assert json.loads(event["payload"])["exchange_id"] == exchange["exchange_id"]
    assert changed, "an exchange was stored without changing any device"
    assert all(d["updated_seq"] == event["seq"] for d in changed)
    items = [i for i in after["exchange_items"] if i["exchange_id"] == exchange["exchange_id"]]
    payload = json.loads(event["payload"])
    assert sorted(i["asset_tag"] for i in items) == sorted(
        payload["returned"] + payload["issued"] + payload["lost"])
    return True


# -- (a) SIGKILL at each named crash point ---------------------------------------------------

#: name -> (person, returned tags, issued tags, extra CLI options, override?)
SCENARIOS = {
    "counter_with_reclamation": ("C01", ["COLD-01"], ["CNEW-01"], [], False),
    "courier": ("S01", ["SOLD-01"], ["CNEW-02"], ["--courier"], False),
    "r1_override_lost_laptop": ("L01", [], ["CNEW-03"], [], True),
    "r3_override_unknown_device": ("U01", ["XUNK-0001"], ["CNEW-04"], [], True),
}


def scenario_argv(data_dir: Path, name: str) -> list[str]:
    person, returned, issued, extra, override = SCENARIOS[name]
    argv = ["--data-dir", str(data_dir), "--json", "--operator", "E1", "exchange",
            "--person", person, "--issue", *issued, *extra]
    argv += ["--return", *returned] if returned else []
    return argv + (["--override", STOLEN, "--authorised-by", "L1"] if override else [])


def scenario_command(name: str) -> exchanges.ExchangeCommand:
    person, returned, issued, extra, override = SCENARIOS[name]
    return exchanges.ExchangeCommand(
        person, tuple(returned), tuple(issued), courier="--courier" in extra,
        override=exchanges.OverrideRequest(STOLEN, "L1", PINS["L1"]) if override else None)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A station where each scenario's person holds what it needs, and three laptops have gone
    over the counter already (so that R5 allows the courier scenario)."""
    folder = tmp_path_factory.mktemp("crash-template")
    people = ["C01,Cam Counter,Hutton HQ,no,no", "S01,Sam Shield,Hutton HQ,yes,no",
              "L01,Lou Lost,Hutton HQ,no,no", "U01,Uma Unknown,Hutton HQ,no,no",
              *(f"K0{n},Kit Warmup {n},Hutton HQ,no,no" for n in (1, 2, 3))]
    old = "EliteBook 840,Windows 8.1"
    register = [f"COLD-01,SC1,laptop,{old},C01,no", "CDSK-01,SC2,desktop,EliteDesk,Windows 8.1,C01,yes",
                f"SOLD-01,SS1,laptop,{old},S01,no", f"LOLD-01,SL1,laptop,{old},L01,no",
                f"UOLD-01,SU1,laptop,{old},U01,no",
                *(f"KOLD-0{n},SK{n},laptop,{old},K0{n},no" for n in (1, 2, 3))]
    stock = [f"{tag},N{tag},laptop,Latitude 5440,Windows 11,899.00"
             for tag in ("CNEW-01", "CNEW-02", "CNEW-03", "CNEW-04", "KNEW-01", "KNEW-02",
                         "KNEW-03")]
    opened = build_station(folder / "station", people, register, stock)
    for n in (1, 2, 3):
        exchanges.record_exchange(opened.context, ENGINEER, exchanges.ExchangeCommand(
            f"K0{n}", (f"KOLD-0{n}",), (f"KNEW-0{n}",)))
    opened.close()
    return folder / "station"


@pytest.fixture(scope="module")
def clean_runs(template, tmp_path_factory) -> dict[str, dict]:
    """Each scenario run to the end through the command (in this process): the 'whole' state."""
    results = {}
    for name in SCENARIOS:
        data_dir = copy_station(template, tmp_path_factory.mktemp(f"clean-{name}") / "station")
        with mock.patch.dict(os.environ, {"EXCHANGE_PIN": PINS["E1"],
                                          "EXCHANGE_LEAD_PIN": PINS["L1"]}), \
                contextlib.redirect_stdout(io.StringIO()) as out:
            assert cli_main(scenario_argv(data_dir, name)) == 0, (name, out.getvalue())
        results[name] = normalised(dump(database_path(data_dir)))
    return results


#: The crash points an exchange passes (app.faults may name others, for other actions).
EXCHANGE_POINTS = [p for p in POINTS if p.startswith("exchange_") or p.endswith("_commit")]


def spawned_cli(data_dir: Path, scenario: str, point: str, log: Path) -> int:
    """`python -m app ... exchange ...` as a new process: its exit status (-9 for SIGKILL)."""
    run = subprocess.run([sys.executable, "-m", "app", *scenario_argv(data_dir, scenario)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=child_env(EXCHANGE_CRASH_AT=point, EXCHANGE_PIN=PINS["E1"],
                                       EXCHANGE_LEAD_PIN=PINS["L1"]))
    log.write_text(run.stdout + run.stderr)
    return run.returncode


def forked_cli(data_dir: Path, scenario: str, point: str, log: Path) -> int:
    """The same command in a child forked from this (already imported) process: a separate
    process killed just the same, without paying a second of imports each time."""
    pid = os.fork()
    if pid == 0:  # the child: run the command, never return into pytest
        code = 70
        try:
            sys.stdout = sys.stderr = open(log, "w")  # noqa: SIM115 - the child exits below
            os.environ.update(EXCHANGE_CRASH_AT=point, EXCHANGE_PIN=PINS["E1"],
                              EXCHANGE_LEAD_PIN=PINS["L1"])
            code = cli_main(scenario_argv(data_dir, scenario))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


#: One spawned `python -m app` per scenario (the real entry point); forked children otherwise.
CASES = [(scenario, point, spawned_cli if point == "before_commit" else forked_cli)
         for scenario in SCENARIOS for point in EXCHANGE_POINTS]


@pytest.mark.parametrize(("scenario", "point", "launch"), CASES,
                         ids=[f"{s}-{p}-{f.__name__.split('_')[0]}" for s, p, f in CASES])
def test_exchange_killed_at_a_crash_point_is_stored_whole_or_not_at_all(
        template, clean_runs, tmp_path, scenario, point, launch):
    data_dir = copy_station(template, tmp_path / "station")
    db = database_path(data_dir)
    before = dump(db)

    code = launch(data_dir, scenario, point, tmp_path / "child.log")

    assert code == -signal.SIGKILL, (code, (tmp_path / "child.log").read_text())
    assert integrity_problems(db) == []
    after = dump(db)
    stored = whole_or_nothing(before, after)
    assert stored == (point == "after_commit"), "only a committed exchange may survive"
    assert normalised(after) == (clean_runs[scenario] if stored else normalised(before))

    # The operator does the exchange again: it goes through exactly once, with the next number.
    opened = open_station(data_dir)
    try:
        if stored:
            with pytest.raises(RuleRefused):
                exchanges.record_exchange(opened.context, ENGINEER, scenario_command(scenario))
            assert dump(db) == after
        else:
            receipt = exchanges.record_exchange(opened.context, ENGINEER,
                                                scenario_command(scenario))
            assert receipt.seq == max(e["seq"] for e in before["events"]) + 1
    finally:
        opened.close()
    assert normalised(dump(db)) == clean_runs[scenario]


# -- (b) SIGKILL at random moments -----------------------------------------------------------

WORK_PEOPLE = 2000  # enough work that every kill lands mid-way (1-2 ms per exchange)
KILLS = 8


def work_station(data_dir: Path):
    people, register, stock = [], [], []
    for n in range(1, WORK_PEOPLE + 1):
        shielding = "yes" if n % 6 == 0 else "no"
        people.append(f"W{n:04d},Worker {n},Hutton HQ,{shielding},no")
        register.append(f"WOLD-{n:04d},SWO{n},laptop,EliteBook 840,Windows 8.1,W{n:04d},no")
        if n % 5 == 0:
            register.append(f"WDSK-{n:04d},SWD{n},desktop,EliteDesk,Windows 8.1,W{n:04d},yes")
        stock.append(f"WNEW-{n:04d},SWN{n},laptop,Latitude 5440,Windows 11,899.00")
    return build_station(data_dir, people, register, stock)


class Child:
    """One run of crash_child.py, its stdout collected line by line as it comes."""

    def __init__(self, data_dir: Path, err_path: Path):
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.err = open(err_path, "w")  # noqa: SIM115 - closed in finish()
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir), str(WORK_PEOPLE)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=self.err, text=True, env=child_env())
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.strip())
            if line.strip() in ("ready", "finished"):
                self.ready.set()
        self.ready.set()

    def kill_after(self, delay: float) -> None:
        assert self.ready.wait(60), "the child never got ready"
        time.sleep(delay)
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def finish(self) -> int:
        code = self.proc.wait(60)
        self.reader.join(10)
        self.err.close()
        return code


def test_random_sigkills_leave_the_whole_database_consistent(tmp_path):
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\ncrash-safety seed: CRASH_SEED={seed}")
    rng = random.Random(seed)
    data_dir = tmp_path / "station"
    work_station(data_dir).close()
    db = database_path(data_dir)
    acknowledged: list[tuple[str, int, str]] = []
    kills = 0
    for round_ in range(KILLS):
        child = Child(data_dir, tmp_path / f"child-{round_}.err")
        child.kill_after(rng.uniform(0.02, 0.7))
        code = child.finish()
        stderr = (tmp_path / f"child-{round_}.err").read_text()
        done = [tuple(line.split()[1:]) for line in child.lines if line.startswith("done ")]
        acknowledged += [(kind, int(n), seq) for kind, n, seq in done]
        if "finished" in child.lines:  # all work done; the kill may still land before exit
            assert code in (0, -signal.SIGKILL), stderr
            break
        assert code == -signal.SIGKILL, f"seed {seed}: child exited {code}:\n{stderr}"
        kills += 1
        assert integrity_problems(db) == [], f"seed {seed}"
        check_acknowledged(db, acknowledged)
    print(f"{kills} kills; {len(acknowledged)} actions acknowledged; "
          f"{Counter(k for k, _n, _s in acknowledged)}")
    assert kills >= 1 and acknowledged, f"seed {seed}: nothing was exercised"
    check_invariants(db)


def check_acknowledged(db: Path, acknowledged: list[tuple[str, int, str]]) -> None:
    """Every action the child reported done (the counter said 'done') is on disk."""
    tables = dump(db)
    devices = {d["asset_tag"]: d for d in tables["devices"]}
    events = {e["seq"]: e for e in tables["events"]}
    for kind, n, seq in acknowledged:
        if kind == "collect":
            assert devices[f"WOLD-{n:04d}"]["state"] == "returned", (kind, n)
            continue
        event = events[int(seq)]
        assert event["type"] == "exchange.recorded"
        assert json.loads(event["payload"])["issued"] == [f"WNEW-{n:04d}"]
        assert devices[f"WNEW-{n:04d}"]["holder_staff_id"] == f"W{n:04d}"


def check_invariants(db: Path) -> None:
    assert integrity_problems(db) == []
    t = dump(db)
    devices = {d["asset_tag"]: d for d in t["devices"]}
    events = sorted(t["events"], key=lambda e: e["seq"])
    by_seq = {e["seq"]: e for e in events}

    # Event numbers are 1..N without a gap.
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["event_id"] for e in events}) == len(events)

    # exchange.recorded events <-> exchanges rows, one to one.
    recorded = {json.loads(e["payload"])["exchange_id"]: e["seq"] for e in events
                if e["type"] == "exchange.recorded"}
    rows = {x["exchange_id"]: x for x in t["exchanges"]}
    assert len(recorded) == sum(e["type"] == "exchange.recorded" for e in events)
    assert recorded == {xid: x["event_seq"] for xid, x in rows.items()}

    # Each collection is one courier.collected event, and vice versa.
    collected_items = sorted((i["exchange_id"], i["asset_tag"]) for i in t["exchange_items"]
                             if i["collected"])
    collected_events = sorted((json.loads(e["payload"])["exchange_id"],
                               json.loads(e["payload"])["collected"]) for e in events
                              if e["type"] == "courier.collected")
    assert collected_items == collected_events

    # A device is issued at most once, handed back at most once.
    for direction in ("issued", "returned", "lost"):
        counts = Counter(i["asset_tag"] for i in t["exchange_items"] if i["direction"] == direction)
        assert [tag for tag, c in counts.items() if c > 1] == [], direction

    # Device states agree with the exchange items.
    for item in t["exchange_items"]:
        x, d = rows[item["exchange_id"]], devices[item["asset_tag"]]
        open_courier = x["courier"] and x["status"] == "awaiting_collection"
        if item["direction"] == "issued":
            assert d["holder_staff_id"] == x["staff_id"], item
            assert d["state"] == ("courier_pending" if open_courier else "issued"), item
        elif item["direction"] == "returned":
            if x["courier"] and not item["collected"]:
                assert (d["state"], d["holder_staff_id"]) == ("issued", x["staff_id"]), item
            else:
                assert (d["state"], d["holder_staff_id"]) == ("returned", None), item
        else:
            assert (d["state"], d["holder_staff_id"]) == ("lost", None), item
        assert d["updated_seq"] in by_seq

    # A holder exactly when held; nothing both in stock and held; one laptop per worker
    # (two while a courier exchange waits for the old one).
    for d in devices.values():
        held = d["state"] in ("issued", "courier_pending")
        assert (d["holder_staff_id"] is not None) == held, d
    laptops = Counter(d["holder_staff_id"] for d in devices.values()
                      if d["type"] == "laptop" and d["holder_staff_id"])
    waiting = {x["staff_id"] for x in rows.values() if x["status"] == "awaiting_collection"}
    for person, count in laptops.items():
        assert count == (2 if person in waiting else 1), person

    # R5: courier laptops stay within 25% of laptops issued (3C <= N).
    issued_laptops = Counter(bool(rows[i["exchange_id"]]["courier"]) for i in t["exchange_items"]
                             if i["direction"] == "issued" and i["device_type"] == "laptop")
    assert 3 * issued_laptops[True] <= issued_laptops[False], issued_laptops

    # The state is what the events say: replaying them gives every device's state and holder.
    assert replay(events) == {tag: (d["state"], d["holder_staff_id"])
                              for tag, d in devices.items()}


def replay(events: list[dict]) -> dict[str, tuple[str, str | None]]:
    """Device (state, holder) rebuilt from the outbox alone."""
    state: dict[str, tuple[str, str | None]] = {}
    for event in events:
        p = json.loads(event["payload"])
        if event["type"] == "devices.imported":
            for tag, _serial, _type, _model, _os, holder, _sole in p["rows"]:
                state[tag] = ("issued", holder) if holder else ("in_service", None)
        elif event["type"] == "stock.imported":
            state.update({row[0]: ("in_stock", None) for row in p["rows"]})
        elif event["type"] == "device.received":
            state[p["tag"]] = (p["state"], p["holder"])
        elif event["type"] == "exchange.recorded":
            person = p["person"]
            for tag in p["registered"]:
                state[tag] = ("issued", person) if p["courier"] else ("returned", None)
            if not p["courier"]:
                state.update({tag: ("returned", None) for tag in p["returned"]})
            state.update({tag: ("lost", None) for tag in p["lost"]})
            # a courier laptop waits for the old device; with nothing to collect it is issued
            new = "courier_pending" if p["courier"] and p["awaiting_collection"] else "issued"
            state.update({tag: (new, person) for tag in p["issued"]})
        elif event["type"] == "courier.collected":
            state[p["collected"]] = ("returned", None)
            state.update({tag: ("issued", state[tag][1]) for tag in p["issued"]})
        elif event["type"] == "desktop.reclaimed":
            state[p["tag"]] = ("returned", None)
    return state
