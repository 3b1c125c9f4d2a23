"""`init --central`, `sync --central` and `import ... --central` through the command line."""

from __future__ import annotations

import json
import socket

import psycopg

from app.cli import main
from app.sync.central import CENTRAL_MIGRATIONS, head_revision
from tests.conftest import write_csv

PEOPLE = ("staff_id,name,site,shielding,assistive_tech",
          "P100,Pat Jones,Hutton HQ,no,no", "P200,Sam Shield,Hutton HQ,yes,no")
REGISTER = ("asset_tag,serial,type,model,os,holder_staff_id,sole_use",
            "OLD-0001,SN1,laptop,EliteBook 840,Windows 8.1,P100,no",
            "OLD-0002,SN2,laptop,EliteBook 840,Windows 8.1,P200,no")
STOCK = ("asset_tag,serial,type,model,os,unit_cost",
         "NEW-0001,NS1,laptop,Latitude 5440,Windows 11,899.00",
         "NEW-0002,NS2,laptop,Latitude 5440,Windows 11,899.00")


def run(capsys, *argv: str) -> tuple[int, dict | None]:
    code = main(["--json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def new_station(tmp_path, capsys, monkeypatch, station_id: str = "HQ-01"):
    data = str(tmp_path / station_id)
    monkeypatch.setenv("EXCHANGE_NEW_PIN", "1111")
    monkeypatch.setenv("EXCHANGE_PIN", "1111")
    assert run(capsys, "--data-dir", data, "init", "--station", station_id, "--site",
               "Hutton HQ", "--admin", "A1", "--name", "Ada Admin")[0] == 0
    return data


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def newest_migration() -> str:
    return max(p.name.split("_")[0] for p in (CENTRAL_MIGRATIONS / "versions").glob("c0*.py"))


def test_init_central_alone_creates_then_upgrades_the_central_schema(pg_database, capsys):
    code, out = run(capsys, "init", "--central", pg_database)
    assert code == 0 and out["schema"] == head_revision() == newest_migration()
    code, out = run(capsys, "init", "--central", pg_database)
    assert code == 0 and out["schema"] == head_revision() == newest_migration()
    with psycopg.connect(libpq(pg_database)) as conn:
        assert conn.execute("SELECT hwm FROM station_stream").fetchall() == []
        assert conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 1


def test_init_without_station_or_central_is_a_usage_error(tmp_path, capsys):
    code, out = run(capsys, "--data-dir", str(tmp_path), "init", "--site", "Hutton HQ")
    assert code == 2 and out["error"]["code"] == "usage"


def test_sync_pushes_and_reports(tmp_path, capsys, monkeypatch, central):
    data = new_station(tmp_path, capsys, monkeypatch)
    code, out = run(capsys, "--data-dir", data, "sync", "--central", central)
    assert code == 0 and out["ok"] and out["pushed"] == 2 and out["unsynced_events"] == 0
    code, out = run(capsys, "--data-dir", data, "status")
    assert out["unsynced_events"] == 0 and out["last_sync"]
    code, out = run(capsys, "--data-dir", data, "sync", "--central", central)
    assert code == 0 and out["pushed"] == 0


def test_sync_exits_5_when_central_cannot_be_reached_and_keeps_everything(
        tmp_path, capsys, monkeypatch):
    data = new_station(tmp_path, capsys, monkeypatch)
    url = f"postgresql://postgres@127.0.0.1:{unused_port()}/central"
    code, out = run(capsys, "--data-dir", data, "sync", "--central", url)
    assert code == 5 and out["error"]["code"] == "sync"
    assert "cannot be reached" in out["error"]["message"] and "nothing was lost" in \
        out["error"]["message"]
    assert run(capsys, "--data-dir", data, "status")[1]["unsynced_events"] == 2


def test_a_password_in_the_url_is_refused_and_never_shown(tmp_path, capsys, monkeypatch):
    data = new_station(tmp_path, capsys, monkeypatch)
    url = f"postgresql://station:s3cret@127.0.0.1:{unused_port()}/central?sslmode=disable"
    code, out = run(capsys, "--data-dir", data, "sync", "--central", url)
    assert code == 2 and "s3cret" not in json.dumps(out)
    assert "PGPASSWORD" in out["error"]["message"]


def test_the_password_comes_from_pgpassword_and_sslmode_from_the_url(
        tmp_path, capsys, monkeypatch):
    data = new_station(tmp_path, capsys, monkeypatch)
    monkeypatch.setenv("PGPASSWORD", "not-needed-with-trust")
    url = f"postgresql://station@127.0.0.1:{unused_port()}/central?sslmode=require"
    code, out = run(capsys, "--data-dir", data, "sync", "--central", url)
    assert code == 5 and "not-needed" not in json.dumps(out)


def test_import_central_validates_all_or_nothing_then_stations_pull_it(
        tmp_path, capsys, monkeypatch, central):
    data = new_station(tmp_path, capsys, monkeypatch)
    bad = write_csv(tmp_path, "bad.csv", *REGISTER, "OLD-0003,SN3,laptop,X,Windows 8.1,P999,no")
    code, out = run(capsys, "--data-dir", data, "--operator", "A1", "import", "devices",
                    str(bad), "--central", central)
    assert code == 4 and "line 4: holder P999" in out["error"]["message"]
    for kind, rows in (("people", PEOPLE), ("devices", REGISTER), ("stock", STOCK)):
        code, out = run(capsys, "--data-dir", data, "--operator", "A1", "import", kind,
                        str(write_csv(tmp_path, f"{kind}.csv", *rows)), "--central", central)
        assert code == 0, out
    with psycopg.connect(libpq(central)) as conn:
        assert conn.execute("SELECT count(*) FROM device_state").fetchone()[0] == 4
    code, out = run(capsys, "--data-dir", data, "sync", "--central", central)
    assert code == 0 and out["pulled"] == 6
    assert run(capsys, "--data-dir", data, "status")[1]["devices"]["in_stock"] == 2
