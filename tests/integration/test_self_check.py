"""`--self-check` (in-process and as `python -m app`) and `--demo` on real SQLite files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import self_check
from app.cli import DEMO_ADMIN, DEMO_PIN, DEMO_SITE, DEMO_STATION, main

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["app modules", "Qt widgets", "Qt image, svg and print plugins",
          "Qt multimedia (sounds)", "decoder zxing-cpp", "decoder pyzbar (zbar library)",
          "OpenCV", "PostgreSQL driver", "resources", "station database",
          "migrations on a temporary copy", "label rendered and decoded back",
          "PDF written and read back", "log file"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_json(data_dir: Path) -> tuple[int, dict]:
    out = io.StringIO()
    code = self_check.run(data_dir, as_json=True, out=out)
    return code, json.loads(out.getvalue())


def test_every_check_passes_on_a_station_and_leaves_its_database_as_it_was(station):
    data_dir = station.config.data_dir
    station.close()
    before = digest(station.db_path)
    code, report = run_json(data_dir)
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert [c["name"] for c in report["checks"] if not c["ok"]] == []
    assert code == 0 and report["ok"] is True
    details = {c["name"]: c["detail"] for c in report["checks"]}
    assert "quick_check ok" in details["station database"]
    assert "station HQ-01" in details["migrations on a temporary copy"]
    assert "zxing-cpp, zbar" in details["label rendered and decoded back"]
    assert digest(station.db_path) == before
    assert sorted(p.name for p in data_dir.iterdir() if ".pre-" in p.name) == []


def test_without_a_database_the_checks_use_a_temporary_one(tmp_path):
    code, report = run_json(tmp_path / "nothing-here")
    assert code == 0, [c for c in report["checks"] if not c["ok"]]
    assert "no station database" in report["checks"][CHECKS.index("station database")]["detail"]
    assert not (tmp_path / "nothing-here").exists()


def test_a_failing_check_is_named_and_the_exit_code_is_1(tmp_path, monkeypatch):
    def broken() -> str:
        raise ImportError("zxingcpp is missing")

    monkeypatch.setattr(self_check, "check_zxing", broken)
    out = io.StringIO()
    assert self_check.run(tmp_path, out=out) == 1
    lines = out.getvalue().splitlines()
    assert "FAILED  decoder zxing-cpp: ImportError: zxingcpp is missing" in lines
    assert "ok      decoder pyzbar (zbar library): zbar loaded from" in out.getvalue()
    assert lines[-1] == f"{len(CHECKS) - 1} of {len(CHECKS)} checks passed"


def test_python_m_app_self_check_prints_each_check_and_writes_the_log(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EXCHANGE_LOG_DIR=str(tmp_path / "logs"))
    done = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(tmp_path / "data"),
                           "--self-check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"ok      {c}" for c in CHECKS]
    assert lines[-1] == f"{len(CHECKS)} of {len(CHECKS)} checks passed"
    log = (tmp_path / "logs" / "exchange-station.log").read_text(encoding="utf-8")
    assert f"self-check: {len(CHECKS)} of {len(CHECKS)} passed" in log


def test_demo_init_sets_up_a_demo_station_once(tmp_path, capsys):
    data_dir = str(tmp_path / "demo")
    assert main(["--data-dir", data_dir, "--json", "--demo", "init"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first | {"database": None} == {
        "station": DEMO_STATION, "site": DEMO_SITE, "created": True, "database": None,
        "admin": DEMO_ADMIN, "pin": DEMO_PIN}
    assert main(["--data-dir", data_dir, "--json", "--demo", "init"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] is False
    assert main(["--data-dir", data_dir, "--json", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["devices"]["in_stock"] == 40 and status["devices"]["issued"] > 40


def test_demo_keeps_to_a_folder_of_its_own_and_the_window_opens_signed_in(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXCHANGE_DATA_DIR", str(tmp_path / "real"))
    monkeypatch.delenv("EXCHANGE_NEW_PIN", raising=False)
    opened = []
    monkeypatch.setattr("app.ui.application.run_gui",
                        lambda data_dir, operator, pin=None: opened.append(
                            (data_dir, operator, pin)) or 0)
    assert main(["--demo"]) == 0
    assert opened == [(tmp_path / "real" / "demo", DEMO_ADMIN, DEMO_PIN)]
    assert f"sign in as {DEMO_ADMIN} with PIN {DEMO_PIN}" in capsys.readouterr().err
    assert (tmp_path / "real" / "demo" / "exchange-station.sqlite3").exists()
    assert not (tmp_path / "real" / "exchange-station.sqlite3").exists()


@pytest.mark.parametrize("argv", [["--demo", "--operator", "E9"], ["--demo", "gui"]])
def test_demo_leaves_a_named_operator_to_sign_in_with_their_own_pin(tmp_path, monkeypatch, argv):
    opened = []
    monkeypatch.setattr("app.ui.application.run_gui",
                        lambda data_dir, operator, pin=None: opened.append((operator, pin)) or 0)
    assert main(["--data-dir", str(tmp_path), *argv]) == 0
    assert opened == ([("E9", None)] if "E9" in argv else [(DEMO_ADMIN, DEMO_PIN)])


def test_logging_goes_to_one_rotating_file_even_in_a_windowed_program(tmp_path):
    """A console=False exe on Windows has no stdout/stderr; setup twice adds one handler."""
    script = (
        "import logging, sys\n"
        "sys.stdout = sys.stderr = None\n"
        "from app.logs import setup_logging\n"
        "first, again = setup_logging(), setup_logging()\n"
        "print('printed nowhere, and no error')\n"
        "logging.getLogger('app.test').warning('hello from a windowed program')\n"
        "handlers = [h for h in logging.getLogger().handlers if hasattr(h, 'baseFilename')]\n"
        "assert first == again and len(handlers) == 1, (first, again, handlers)\n")
    env = dict(os.environ, EXCHANGE_LOG_DIR=str(tmp_path / "logs"))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "logs" / "exchange-station.log").read_text(encoding="utf-8")
    assert re.search(r"WARNING +\d+ app\.test: hello from a windowed program", log), log


def test_backup_copies_the_open_station_and_the_copy_restores(station, tmp_path, capsys):
    from app.services import auth, demo

    admin = auth.sign_in(station.context, "A1", "1111")
    demo.load_demo(station.context, admin, "Hutton HQ")
    data_dir, copy = str(station.config.data_dir), tmp_path / "HQ-01.sqlite3"
    assert main(["--data-dir", data_dir, "--json", "backup", str(copy)]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["backup"] == str(copy) and done["bytes"] == copy.stat().st_size > 0
    assert done["schema"] == station.schema
    assert main(["--data-dir", data_dir, "--json", "backup", str(copy)]) == 4
    assert "exists already" in capsys.readouterr().out

    restored = tmp_path / "restored"
    restored.mkdir()
    copy.rename(restored / "exchange-station.sqlite3")
    assert main(["--data-dir", data_dir, "--json", "status"]) == 0
    original = json.loads(capsys.readouterr().out)
    assert main(["--data-dir", str(restored), "--json", "status"]) == 0
    assert json.loads(capsys.readouterr().out) == original
    assert original["devices"]["in_stock"] == 40


def test_backup_without_a_station_says_so(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "backup", str(tmp_path / "b.sqlite3")]) == 4
    assert "no station database" in capsys.readouterr().err
