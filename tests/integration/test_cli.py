"""The exchange-station command end to end on a real SQLite file: exit codes, JSON, rules."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import write_csv

PEOPLE = ("staff_id,name,site,shielding,assistive_tech",
          "P100,Pat Jones,Hutton HQ,no,no", "P200,Sam Shield,Hutton HQ,yes,no",
          "P300,Alex Reader,Hutton HQ,no,yes", "P400,Dee Desk,Hutton HQ,no,no")
REGISTER = ("asset_tag,serial,type,model,os,holder_staff_id,sole_use",
            "OLD-0001,SN1,laptop,EliteBook 840,Windows 8.1,P100,no",
            "OLD-0002,SN2,laptop,EliteBook 840,Windows 8.1,P200,no",
            "OLD-0003,SN3,laptop,EliteBook 840,Windows 8.1,P300,no",
            "DSK-0004,SN4,desktop,EliteDesk 800,Windows 8.1,P400,yes",
            "OLD-0004,SN5,laptop,EliteBook 840,Windows 8.1,P400,no",
            "DSK-0900,SN9,desktop,EliteDesk 800,Windows 10,,no")
STOCK = ("asset_tag,serial,type,model,os,unit_cost",
         *(f"NEW-{n:04d},NS{n},laptop,Latitude 5440,Windows 11,899.00" for n in range(1, 9)),
         "NEW-0100,NS100,laptop,Latitude 5440,Windows 8.1,899.00")


class Cli:
    def __init__(self, data_dir: Path, capsys, monkeypatch):
        self.data_dir, self.capsys, self.monkeypatch = data_dir, capsys, monkeypatch

    def __call__(self, *argv: str, operator: str | None = "A1", pin: str = "1111",
                 lead_pin: str | None = None):
        self.monkeypatch.setenv("EXCHANGE_PIN", pin)
        if lead_pin:
            self.monkeypatch.setenv("EXCHANGE_LEAD_PIN", lead_pin)
        args = ["--data-dir", str(self.data_dir), "--json"]
        args += ["--operator", operator] if operator else []
        code = main(args + list(argv))
        out = self.capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    def status(self) -> dict:
        return self("status", operator=None)[1]


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EXCHANGE_NEW_PIN", "1111")
    run = Cli(tmp_path / "station", capsys, monkeypatch)
    assert run("init", "--station", "HQ-01", "--site", "Hutton HQ", "--admin", "A1", "--name",
               "Ada Admin", operator=None)[0] == 0
    monkeypatch.setenv("EXCHANGE_NEW_PIN", "2222")
    assert run("operator", "add", "L1", "--name", "Lee Lead", "--role", "site_lead")[0] == 0
    monkeypatch.setenv("EXCHANGE_NEW_PIN", "3333")
    assert run("operator", "add", "E1", "--name", "Eve Engineer", "--role", "engineer")[0] == 0
    for kind, rows in (("people", PEOPLE), ("devices", REGISTER), ("stock", STOCK)):
        assert run("import", kind, str(write_csv(tmp_path, f"{kind}.csv", *rows)))[0] == 0
    return run


def engineer(cli, *argv, **kw):
    return cli(*argv, operator="E1", pin="3333", **kw)


def test_status_reports_the_contract_shape(cli):
    status = cli.status()
    assert status["station"] == "HQ-01" and status["site"] == "Hutton HQ"
    assert status["devices"]["in_stock"] == 9 and status["devices"]["issued"] == 5
    assert status["devices"]["in_service"] == 1
    assert status["courier"] == {"courier_laptops": 0, "laptops_issued": 0}
    assert status["last_sync"] is None and status["unsynced_events"] == 7


def test_counter_swap_prints_the_exchange_json_and_stores_it(cli):
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001",
                         "--issue", "NEW-0001")
    assert code == 0
    assert out["returned"] == ["OLD-0001"] and out["issued"] == ["NEW-0001"]
    assert out["courier"] is False and out["exceptions"] == [] and out["reclamation_tasks"] == []
    status = cli.status()
    assert status["devices"]["returned"] == 1 and status["courier"]["laptops_issued"] == 1


def test_r1_through_the_cli_exits_3_and_changes_nothing(cli):
    before = cli.status()
    code, out = engineer(cli, "exchange", "--person", "P100", "--issue", "NEW-0001")
    assert code == 3 and out["error"]["code"] == "R1"
    assert "no old laptop handed over" in out["error"]["message"]
    assert cli.status() == before


def test_r1_override_needs_a_site_lead_pin_and_is_recorded(cli):
    args = ("exchange", "--person", "P100", "--issue", "NEW-0001", "--override",
            "stolen, crime ref 44/1234/25", "--authorised-by")
    code, out = engineer(cli, *args, "E1", lead_pin="3333")
    assert code == 3 and out["error"]["code"] == "role"
    code, out = engineer(cli, *args, "L1", lead_pin="9999")
    assert code == 3 and out["error"]["code"] == "auth"
    code, out = engineer(cli, *args, "L1", lead_pin="2222")
    assert code == 0
    assert out["exceptions"] == [{"rule": "R1", "reason": "stolen, crime ref 44/1234/25",
                                  "authorised_by": "L1"}]
    assert cli.status()["devices"]["lost"] == 1


def test_r2_issued_device_cannot_be_issued_again(cli):
    engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001", "--issue", "NEW-0001")
    code, out = engineer(cli, "exchange", "--person", "P200", "--return", "OLD-0002",
                         "--issue", "NEW-0001")
    assert code == 3 and out["error"]["code"] == "R2"


def test_r3_second_exchange_of_the_same_device_is_refused(cli):
    engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001", "--issue", "NEW-0001")
    before = cli.status()
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001",
                         "--issue", "NEW-0002")
    assert code == 3 and out["error"]["code"] == "R3"
    assert "cannot be handed back again" in out["error"]["message"]
    assert cli.status() == before


def test_r3_device_of_someone_else_is_refused(cli):
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0002",
                         "--issue", "NEW-0001")
    assert code == 3 and out["error"]["code"] == "R3" and "registered to P200" in out["error"]["message"]


def test_r4_laptop_for_desktop_user_opens_a_task_closed_by_reclaim(cli):
    code, out = engineer(cli, "exchange", "--person", "P400", "--return", "OLD-0004",
                         "--issue", "NEW-0001")
    assert code == 0 and out["reclamation_tasks"] == ["DSK-0004"]
    assert cli.status()["open_reclamation_tasks"] == 1
    assert engineer(cli, "reclaim", "DSK-0004")[0] == 0
    status = cli.status()
    assert status["open_reclamation_tasks"] == 0 and status["devices"]["returned"] == 2
    code, out = engineer(cli, "reclaim", "DSK-0900")
    assert code == 3 and out["error"]["code"] == "R4"


def test_r5_courier_needs_shielding_and_allowance_then_collect_closes_it(cli):
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001",
                         "--issue", "NEW-0001", "--courier")
    assert code == 3 and "not formally shielding" in out["error"]["message"]
    code, out = engineer(cli, "exchange", "--person", "P200", "--return", "OLD-0002",
                         "--issue", "NEW-0001", "--courier")
    assert code == 3 and out["error"]["code"] == "R5" and "3 more must go over the counter" in out["error"]["message"]
    for person, old, new in (("P100", "OLD-0001", "NEW-0002"), ("P300", "OLD-0003", "NEW-0003"),
                             ("P400", "OLD-0004", "NEW-0004")):
        assert engineer(cli, "exchange", "--person", person, "--return", old, "--issue", new,
                        "--at-confirmed")[0] == 0
    code, out = engineer(cli, "exchange", "--person", "P200", "--return", "OLD-0002",
                         "--issue", "NEW-0001", "--courier")
    assert code == 0 and out["courier"] is True and out["awaiting_collection"] == ["OLD-0002"]
    status = cli.status()
    assert status["courier"] == {"courier_laptops": 1, "laptops_issued": 4}
    assert status["devices"]["courier_pending"] == 1
    assert engineer(cli, "collect", "OLD-0002")[0] == 0
    status = cli.status()
    assert status["devices"]["courier_pending"] == 0 and status["devices"]["returned"] == 4
    assert engineer(cli, "collect", "OLD-0002")[0] == 4


def test_r7_old_build_is_never_issued(cli):
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001",
                         "--issue", "NEW-0100")
    assert code == 3 and out["error"]["code"] == "R7" and "Windows 8.1" in out["error"]["message"]


def test_r8_at_user_needs_confirmation(cli):
    args = ("exchange", "--person", "P300", "--return", "OLD-0003", "--issue", "NEW-0001")
    code, out = engineer(cli, *args)
    assert code == 3 and out["error"]["code"] == "R8"
    assert engineer(cli, *args, "--at-confirmed")[0] == 0


def test_unknown_person_malformed_tag_and_unknown_stock_are_bad_input(cli):
    before = cli.status()
    assert engineer(cli, "exchange", "--person", "P999", "--return", "OLD-0001")[0] == 4
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "12", "--issue", "NEW-0001")
    assert code == 4 and "not an asset tag" in out["error"]["message"]
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "OLD-0001",
                         "--issue", "NEW-9999")
    assert code == 4 and "receive it into stock" in out["error"]["message"]
    assert cli.status() == before


def test_a_serial_scan_finds_the_device(cli):
    code, out = engineer(cli, "exchange", "--person", "P100", "--return", "sn1", "--issue", "ns1")
    assert code == 0 and out["returned"] == ["OLD-0001"] and out["issued"] == ["NEW-0001"]


def test_roles_and_pins_are_enforced(cli, tmp_path):
    people = write_csv(tmp_path, "more.csv", PEOPLE[0], "P500,New Person,Hutton HQ,no,no")
    code, out = engineer(cli, "import", "people", str(people))
    assert code == 3 and out["error"]["code"] == "role"
    code, out = engineer(cli, "operator", "add", "E2", "--name", "X", "--role", "engineer")
    assert code == 3 and out["error"]["code"] == "role"
    code, out = cli("status", operator="E1", pin="0000")
    assert code == 0  # status needs no operator
    code, out = cli("receive", "NEW-0200", "--serial", "S", "--type", "laptop", "--model", "M",
                    "--os", "Windows 11", operator="E1", pin="0000")
    assert code == 3 and out["error"]["code"] == "auth"


def test_goods_in_adds_one_device_to_stock(cli):
    code, out = engineer(cli, "receive", "new-0200", "--serial", "abc", "--type", "tablet",
                         "--model", "Surface Pro 9", "--os", "Windows 11")
    assert code == 0 and out["received"] == "NEW-0200"
    assert cli.status()["devices"]["in_stock"] == 10
    assert engineer(cli, "receive", "NEW-0200", "--serial", "x", "--type", "tablet",
                    "--model", "m", "--os", "Windows 11")[0] == 4


def test_user_text_never_reaches_sql(cli):
    hostile = "P1'; DROP TABLE devices; --"
    code, _out = engineer(cli, "exchange", "--person", hostile, "--return", "OLD-0001")
    assert code == 4
    db = sqlite3.connect(cli.data_dir / "exchange-station.sqlite3")
    assert db.execute("select count(*) from devices").fetchone()[0] == 15


def test_usage_errors_exit_2_with_json(cli):
    code, out = cli("exchange", "--courier")
    assert code == 2 and out["error"]["code"] == "usage"
    assert cli("frobnicate")[0] == 2


def test_no_database_yet_is_a_clear_input_error(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "none"), "status"]) == 4
    assert "run `exchange-station init" in capsys.readouterr().err


def test_help_explains_the_commands():
    result = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True,
                            text=True, check=True)
    for command in ("init", "operator", "import", "receive", "exchange", "collect", "reclaim",
                    "status", "EXCHANGE_PIN"):
        assert command in result.stdout
    result = subprocess.run([sys.executable, "-m", "app", "exchange", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--authorised-by" in result.stdout and "--at-confirmed" in result.stdout
