"""The `exchange-station` command: parse, call one service, print (PRODUCT.md's contract).

Exit codes: 0 done; 2 usage; 3 refused by a rule, a role or a wrong PIN; 4 bad input data;
5 central database unreachable. With `--json`, results and errors are JSON on stdout.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from app import __version__
from app.bootstrap import Station, open_station
from app.domain.people import Operator
from app.domain.rules import StationError, UsageError
from app.cli.escrow import add_escrow_commands, escrow_command
from app.cli.plumbing import Parser, acting, fail, operator_json, read_pin, respond
from app.cli.reports import label_command, report_command
from app.cli.sanitisation import (add_sanitisation_commands, certificates_command,
                                  certify_command, disks_command, release_command)
from app.services import auth, exchanges, imports, station, stock

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="exchange-station", description=(
        "Exchange Station: the service-desk counter of the device refresh programme. Without a "
        "command it opens the counter window."), epilog=(
        "PINs: EXCHANGE_PIN (the operator), EXCHANGE_NEW_PIN (a new operator), "
        "EXCHANGE_LEAD_PIN (a site lead's override); asked for when unset. Exit codes: 0 done, "
        "2 usage, 3 refused (rule R1-R8, role or auth), 4 bad input, 5 central unreachable."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where the local database lives")
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.add_argument("--operator", metavar="STAFF_ID", help="who acts (PIN from EXCHANGE_PIN)")
    parser.add_argument("--self-check", action="store_true", help="check this installation "
                        "(modules, database, migrations on a copy, label decode, PDF); exit 0 "
                        "when all pass")
    parser.add_argument("--demo", action="store_true", help=f"use a demo station in its own "
                        f"folder ({DEMO_STATION} at {DEMO_SITE}, admin {DEMO_ADMIN}, PIN "
                        f"{DEMO_PIN}), filled with a demo site by `init` or the window")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    commands.add_parser("gui", help="open the counter window")
    p = commands.add_parser("init", help="create or upgrade the local database "
                            "(or, with --central, the central one)")
    p.add_argument("--station", help="this station's id, e.g. HQ-01")
    p.add_argument("--site", help="the collection point's site name")
    p.add_argument("--central", metavar="URL", help="create or upgrade the central PostgreSQL "
                   "schema (alone: central only)")
    p.add_argument("--restored", action="store_true", help="with --central: central was just "
                   "restored from a backup; start a new db_epoch so that every station reloads "
                   "people and devices at its next sync")
    p.add_argument("--admin", metavar="STAFF_ID", help="add the first admin operator")
    p.add_argument("--name", help="the first admin's name (with --admin)")

    operator = commands.add_parser("operator", help="manage operators (admin only)")
    op_commands = operator.add_subparsers(dest="action", required=True, parser_class=Parser)
    p = op_commands.add_parser("add", help="add an operator (PIN from EXCHANGE_NEW_PIN)")
    p.add_argument("staff_id")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=["engineer", "site_lead", "admin"])

    p = commands.add_parser("import", help="import a CSV file, all rows or none (admin only)")
    p.add_argument("kind", choices=["people", "devices", "stock"])
    p.add_argument("file", type=Path)
    p.add_argument("--central", metavar="URL", help="load the central database instead")
    p.add_argument("--site", help="with --central: the site of the devices (default: "
                   "this station's)")

    p = commands.add_parser("receive", help="goods-in: one new device into this site's stock")
    p.add_argument("tag")
    p.add_argument("--serial", required=True)
    p.add_argument("--type", required=True, choices=["laptop", "tablet", "desktop"])
    p.add_argument("--model", required=True)
    p.add_argument("--os", required=True)

    p = commands.add_parser("exchange", help="one counter exchange")
    p.add_argument("--person", required=True, metavar="STAFF")
    p.add_argument("--return", dest="returned", nargs="+", default=[], metavar="TAG")
    p.add_argument("--issue", dest="issued", nargs="+", default=[], metavar="TAG")
    p.add_argument("--courier", action="store_true", help="send by courier (shielding only, R5)")
    p.add_argument("--at-confirmed", action="store_true",
                   help="the person's assistive technology works on the new device (R8)")
    p.add_argument("--override", metavar="REASON", help="a site lead's reason (R1/R3)")
    p.add_argument("--authorised-by", metavar="LEAD", help="the site lead (EXCHANGE_LEAD_PIN)")

    for name, text in (("collect", "the old device of a courier exchange received back"),
                       ("reclaim", "a sole-use desktop scanned in; closes its reclamation task")):
        commands.add_parser(name, help=text).add_argument("tag")
    commands.add_parser("status", help="station, counts by state, unsynced events, last sync")
    p = commands.add_parser("sync", help="push and pull with the central PostgreSQL database")
    p.add_argument("--central", metavar="URL", required=True,
                   help="postgresql://ROLE@HOST/DB[?sslmode=verify-full]; the password comes "
                   "from PGPASSWORD or a .pgpass file, never from here")
    add_escrow_commands(commands)
    add_sanitisation_commands(commands)
    p = commands.add_parser("backup", help="copy the station database to a new FILE (SQLite "
                            "backup API: safe while the window is open); docs/BUILD.md")
    p.add_argument("file", type=Path)
    p = commands.add_parser("decode", help="print the asset tags found in images")
    p.add_argument("images", nargs="+", type=Path)
    p = commands.add_parser("label", help="asset-tag labels (Code 128) as PDF, SVG or ZPL")
    p.add_argument("tags", nargs="+", metavar="TAG")
    p.add_argument("--format", required=True, choices=["pdf", "svg", "zpl"])
    p.add_argument("--out", metavar="FILE", type=Path, help="write the labels to FILE")
    p.add_argument("--printer", metavar="HOST[:PORT]",
                   help="with --format zpl: send raw to a Zebra printer (TCP port 9100)")
    p.add_argument("--size", default="roll-50x25", help="roll-50x25 (thermal roll, default), "
                   "a4-21 or a4-65 (A4 sheets)")
    report = commands.add_parser("report", help="the daily swap summary (site lead)")
    kinds = report.add_subparsers(dest="kind", required=True, parser_class=Parser)
    p = kinds.add_parser("daily", help="one site's day as PDF and/or CSV")
    p.add_argument("--site", help="the site (with --central: leave out for the whole programme)")
    p.add_argument("--central", metavar="URL", help="report from the central database")
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--out", type=Path, metavar="FILE.pdf", help="the summary as a PDF")
    p.add_argument("--csv", type=Path, metavar="FILE", help="the same figures as CSV")
    p = kinds.add_parser("dashboard", help="the programme dashboard as a PDF")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.pdf")
    p.add_argument("--central", metavar="URL", help="the whole programme, from central")
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.logs import setup_logging

    setup_logging()
    as_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        args = build_parser().parse_args(argv)
        if args.self_check:
            from app import self_check

            return self_check.run(args.data_dir, args.json)
        if args.demo and (done := _demo(args)) is not None:
            return done
        return _HANDLERS[args.command or "gui"](args)
    except StationError as exc:
        return fail(exc.error_code, exc.user_message, exc.exit_code, as_json)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        return fail("usage", "interrupted; nothing was saved", 2, as_json)
    except Exception as exc:  # a bug: log it, and say plainly that nothing was saved
        log.exception("unexpected error")
        return fail("internal", f"unexpected error ({exc.__class__.__name__}); the last action "
                     "was not saved. The log has the details.", 1, as_json)


# -- commands --------------------------------------------------------------------------------

def _gui(args: argparse.Namespace) -> int:
    from app.ui.application import run_gui  # Qt is imported only for the window

    return run_gui(args.data_dir, args.operator, getattr(args, "demo_pin", None))


DEMO_STATION, DEMO_SITE, DEMO_ADMIN, DEMO_PIN = "DEMO-01", "Demo Site", "A1", "1234"


def _demo(args: argparse.Namespace) -> int | None:
    """--demo: the data dir becomes <data dir>/demo; `init` and the window set it up (a new
    station, its admin, the demo site) and the window opens signed in as the demo admin."""
    from app.config import default_data_dir
    from app.services import counter

    args.data_dir = args.data_dir or default_data_dir() / "demo"
    if args.command not in (None, "gui", "init"):
        return None
    admin, pin = getattr(args, "admin", None) or DEMO_ADMIN, os.environ.get(
        "EXCHANGE_NEW_PIN") or DEMO_PIN
    opened = open_station(args.data_dir, create=True)
    try:
        created = counter.needs_first_run(opened.context)
        if created:
            counter.first_run(opened.context, getattr(args, "station", None) or DEMO_STATION,
                              getattr(args, "site", None) or DEMO_SITE, admin,
                              getattr(args, "name", None) or "Demo Admin", pin, with_demo=True)
        st, db_path = station.status(opened.context), opened.db_path
    finally:
        opened.close()
    result = {"station": st.station, "site": st.site, "created": created,
              "database": str(db_path), "admin": admin, "pin": pin if created else None}
    text = (f"demo station {st.station} at {st.site} {'created' if created else 'opened'} "
            f"({db_path})" + (f"; sign in as {admin} with PIN {pin}" if created else ""))
    if args.command == "init":
        return respond(args, result, text)
    print(text, file=sys.stderr)
    if not args.operator:
        args.operator, args.demo_pin = admin, pin
    return None


def _init(args: argparse.Namespace) -> int:
    if args.restored and not args.central:
        raise UsageError("--restored goes with --central URL (the central database restored)")
    if args.central:
        from app.sync.central import masked, new_db_epoch, upgrade_central

        revision = upgrade_central(args.central)
        result = {"central": masked(args.central), "schema": revision}
        text = f"central database {masked(args.central)} is at schema {revision}"
        if args.restored:
            result["db_epoch"] = new_db_epoch(args.central)
            text += (f"; new db_epoch {result['db_epoch']}: every station reloads people and "
                     "devices at its next sync, and sends again what central lost")
        if not (args.station or args.site):
            return respond(args, result, text)
    if not (args.station and args.site):
        raise UsageError("init needs --station ID and --site NAME (or --central URL alone)")
    opened = open_station(args.data_dir, create=True)
    try:
        station_id, site, created = station.initialise(opened.context, args.station, args.site)
        admin = None
        if args.admin:
            if not args.name:
                raise UsageError("--admin needs --name (the admin's name)")
            admin = auth.add_operator(opened.context, None, args.admin, args.name, "admin",
                                      read_pin("EXCHANGE_NEW_PIN", f"New PIN for {args.admin}: "))
        result = {"station": station_id, "site": site, "created": created,
                  "schema": opened.schema, "database": str(opened.db_path),
                  "admin": admin.staff_id if admin else None}
        return respond(args, result, f"station {station_id} at {site} "
                     f"{'created' if created else 'is up to date'} ({opened.db_path})"
                     + (f"; admin {admin.staff_id} added" if admin else ""))
    finally:
        opened.close()


def _operator(args: argparse.Namespace) -> int:
    return acting(args, lambda st, actor: respond(args, operator_json(auth.add_operator(
        st.context, actor, args.staff_id, args.name, args.role,
        read_pin("EXCHANGE_NEW_PIN", f"New PIN for {args.staff_id}: "))), "operator added"))


def _import(args: argparse.Namespace) -> int:
    run = {"people": imports.import_people, "devices": imports.import_devices,
           "stock": imports.import_stock}[args.kind]

    def act(st: Station, actor: Operator) -> int:
        if args.central:
            from app.sync.central_import import import_to_central

            result = import_to_central(st.context, actor, args.kind, args.file, args.central,
                                       args.site)
        else:
            result = run(st.context, actor, args.file)
        return respond(args, result.as_json(), f"imported {result.rows} {args.kind} rows"
                     + (" into central" if args.central else ""))
    return acting(args, act)


def _sync(args: argparse.Namespace) -> int:
    from app.domain.rules import CentralUnreachable
    from app.sync.central import libpq_url
    from app.sync.runner import SyncRunner

    libpq_url(args.central)  # a malformed URL, or one with a password in it: exit 2
    opened = open_station(args.data_dir)
    try:
        report = SyncRunner(opened.engine).run_once(args.central)
    finally:
        opened.close()
    if not report.ok:
        raise CentralUnreachable(report.error)
    return respond(args, report.as_json(), (
        f"synced: {report.pushed} events sent, {report.pulled} changes received, "
        f"{report.conflicts} conflicts; {report.unsynced} events not synced"
        + (f". NOTE: {report.notice}" if report.notice else "")))


def _receive(args: argparse.Namespace) -> int:
    def act(st: Station, actor: Operator) -> int:
        device = stock.receive(st.context, actor, args.tag, args.serial, args.type, args.model,
                               args.os)
        return respond(args, {"received": device.tag, "state": device.state.value,
                            "site": device.site}, f"{device.tag} received into stock")
    return acting(args, act)


def _exchange(args: argparse.Namespace) -> int:
    if bool(args.override) != bool(args.authorised_by):
        raise UsageError("--override REASON and --authorised-by LEAD go together")
    override = exchanges.OverrideRequest(
        args.override, args.authorised_by,
        read_pin("EXCHANGE_LEAD_PIN", f"PIN of {args.authorised_by}: ")) if args.override else None
    command = exchanges.ExchangeCommand(args.person, tuple(args.returned), tuple(args.issued),
                                        args.courier, args.at_confirmed, override)

    def act(st: Station, actor: Operator) -> int:
        receipt = exchanges.record_exchange(st.context, actor, command)
        o = receipt.outcome
        text = (f"exchange {receipt.exchange_id}: returned {', '.join(o.returned) or '-'}; "
                f"issued {', '.join(o.issued) or '-'}"
                + (f"; awaiting collection of {', '.join(o.awaiting_collection)}" if o.courier else "")
                + "".join(f"; exception {e.rule} authorised by {e.authorised_by}"
                          for e in o.exceptions)
                + (f"; reclamation task for {', '.join(o.reclamation_tasks)}"
                   if o.reclamation_tasks else ""))
        return respond(args, receipt.as_json(), text)
    return acting(args, act)


def _collect(args: argparse.Namespace) -> int:
    return acting(args, lambda st, actor: respond(
        args, exchanges.collect(st.context, actor, args.tag), f"{args.tag.upper()} collected"))


def _reclaim(args: argparse.Namespace) -> int:
    return acting(args, lambda st, actor: respond(
        args, stock.reclaim(st.context, actor, args.tag), f"{args.tag.upper()} reclaimed"))


def _status(args: argparse.Namespace) -> int:
    opened = open_station(args.data_dir)
    try:
        result = station.status(opened.context).as_json()
    finally:
        opened.close()
    devices = ", ".join(f"{k} {v}" for k, v in result["devices"].items() if v) or "no devices"
    return respond(args, result, (
        f"station {result['station']} at {result['site']}: {devices}; "
        f"{result['unsynced_events']} events not synced; last sync {result['last_sync'] or 'never'}"
        f"; {result['open_reclamation_tasks']} open reclamation tasks; courier "
        f"{result['courier']['courier_laptops']} of {result['courier']['laptops_issued']} laptops"
        + (f"; {result['recovered_events']} events recovered from central after a restore"
           if result["recovered_events"] else "")))


def _decode(args: argparse.Namespace) -> int:
    from app.scanning.decode_command import run_decode

    from app.config import StationConfig

    pattern = StationConfig.load(args.data_dir).tag_pattern  # the station's own tag pattern
    return run_decode([str(p) for p in args.images], args.json, sys.stdout, sys.stderr,
                      tag_pattern=pattern)


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "gui": _gui, "init": _init, "operator": _operator, "import": _import, "receive": _receive,
    "exchange": _exchange, "collect": _collect, "reclaim": _reclaim, "status": _status,
    "sync": _sync, "escrow": escrow_command,
    "decode": _decode, "label": label_command, "report": report_command,
}
_HANDLERS.update({"disks": disks_command, "certify": certify_command, "release": release_command, "certificates": certificates_command})


def _backup(args: argparse.Namespace) -> int:
    from app.self_check import backup_station

    done = backup_station(args.data_dir, args.file)
    return respond(args, done, f"{done['database']} backed up to {done['backup']} "
                 f"({done['bytes']} bytes, schema {done['schema']}, quick_check ok)")


_HANDLERS["backup"] = _backup


