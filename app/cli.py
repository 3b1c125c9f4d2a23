"""The `exchange-station` command: parse, call one service, print (PRODUCT.md's contract).

Exit codes: 0 done; 2 usage; 3 refused by a rule, a role or a wrong PIN; 4 bad input data;
5 central database unreachable. With `--json`, results and errors are JSON on stdout.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from app import __version__
from app.bootstrap import Station, open_station
from app.domain.people import Operator
from app.domain.rules import AuthFailed, BadInput, StationError, UsageError
from app.services import auth, exchanges, imports, station, stock
from app.services import certificate_register, sanitisation

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit; we answer in the contract
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="exchange-station", description=(
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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    commands.add_parser("gui", help="open the counter window")
    p = commands.add_parser("init", help="create or upgrade the local database "
                            "(or, with --central, the central one)")
    p.add_argument("--station", help="this station's id, e.g. HQ-01")
    p.add_argument("--site", help="the collection point's site name")
    p.add_argument("--central", metavar="URL", help="create or upgrade the central PostgreSQL "
                   "schema (alone: central only)")
    p.add_argument("--admin", metavar="STAFF_ID", help="add the first admin operator")
    p.add_argument("--name", help="the first admin's name (with --admin)")

    operator = commands.add_parser("operator", help="manage operators (admin only)")
    op_commands = operator.add_subparsers(dest="action", required=True, parser_class=_Parser)
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
    _add_sanitisation_commands(commands)
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
    kinds = report.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    p = kinds.add_parser("daily", help="one site's day as PDF and/or CSV")
    p.add_argument("--site", help="the site (with --central: leave out for the whole programme)")
    p.add_argument("--central", metavar="URL", help="report from the central database")
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--out", type=Path, metavar="FILE.pdf", help="the summary as a PDF")
    p.add_argument("--csv", type=Path, metavar="FILE", help="the same figures as CSV")
    p = kinds.add_parser("dashboard", help="the programme dashboard as a PDF")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.pdf")
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
        return _fail(exc.error_code, exc.user_message, exc.exit_code, as_json)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        return _fail("usage", "interrupted; nothing was saved", 2, as_json)
    except Exception as exc:  # a bug: log it, and say plainly that nothing was saved
        log.exception("unexpected error")
        return _fail("internal", f"unexpected error ({exc.__class__.__name__}); the last action "
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
        return _done(args, result, text)
    print(text, file=sys.stderr)
    if not args.operator:
        args.operator, args.demo_pin = admin, pin
    return None


def _init(args: argparse.Namespace) -> int:
    if args.central:
        from app.sync.central import masked, upgrade_central

        revision = upgrade_central(args.central)
        if not (args.station or args.site):
            return _done(args, {"central": masked(args.central), "schema": revision},
                         f"central database {masked(args.central)} is at schema {revision}")
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
                                      _pin("EXCHANGE_NEW_PIN", f"New PIN for {args.admin}: "))
        result = {"station": station_id, "site": site, "created": created,
                  "schema": opened.schema, "database": str(opened.db_path),
                  "admin": admin.staff_id if admin else None}
        return _done(args, result, f"station {station_id} at {site} "
                     f"{'created' if created else 'is up to date'} ({opened.db_path})"
                     + (f"; admin {admin.staff_id} added" if admin else ""))
    finally:
        opened.close()


def _operator(args: argparse.Namespace) -> int:
    return _acting(args, lambda st, actor: _done(args, _operator_json(auth.add_operator(
        st.context, actor, args.staff_id, args.name, args.role,
        _pin("EXCHANGE_NEW_PIN", f"New PIN for {args.staff_id}: "))), "operator added"))


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
        return _done(args, result.as_json(), f"imported {result.rows} {args.kind} rows"
                     + (" into central" if args.central else ""))
    return _acting(args, act)


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
    return _done(args, report.as_json(), (
        f"synced: {report.pushed} events sent, {report.pulled} changes received, "
        f"{report.conflicts} conflicts; {report.unsynced} events not synced"
        + (f". NOTE: {report.notice}" if report.notice else "")))


def _receive(args: argparse.Namespace) -> int:
    def act(st: Station, actor: Operator) -> int:
        device = stock.receive(st.context, actor, args.tag, args.serial, args.type, args.model,
                               args.os)
        return _done(args, {"received": device.tag, "state": device.state.value,
                            "site": device.site}, f"{device.tag} received into stock")
    return _acting(args, act)


def _exchange(args: argparse.Namespace) -> int:
    if bool(args.override) != bool(args.authorised_by):
        raise UsageError("--override REASON and --authorised-by LEAD go together")
    override = exchanges.OverrideRequest(
        args.override, args.authorised_by,
        _pin("EXCHANGE_LEAD_PIN", f"PIN of {args.authorised_by}: ")) if args.override else None
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
        return _done(args, receipt.as_json(), text)
    return _acting(args, act)


def _collect(args: argparse.Namespace) -> int:
    return _acting(args, lambda st, actor: _done(
        args, exchanges.collect(st.context, actor, args.tag), f"{args.tag.upper()} collected"))


def _reclaim(args: argparse.Namespace) -> int:
    return _acting(args, lambda st, actor: _done(
        args, stock.reclaim(st.context, actor, args.tag), f"{args.tag.upper()} reclaimed"))


def _status(args: argparse.Namespace) -> int:
    opened = open_station(args.data_dir)
    try:
        result = station.status(opened.context).as_json()
    finally:
        opened.close()
    devices = ", ".join(f"{k} {v}" for k, v in result["devices"].items() if v) or "no devices"
    return _done(args, result, (
        f"station {result['station']} at {result['site']}: {devices}; "
        f"{result['unsynced_events']} events not synced; last sync {result['last_sync'] or 'never'}"
        f"; {result['open_reclamation_tasks']} open reclamation tasks; courier "
        f"{result['courier']['courier_laptops']} of {result['courier']['laptops_issued']} laptops"))


def _decode(args: argparse.Namespace) -> int:
    from app.scanning.decode_command import run_decode

    return run_decode([str(p) for p in args.images], args.json, sys.stdout, sys.stderr)


# -- sanitisation (R6): known disks, certify, release, the certificate register --------------

def _add_sanitisation_commands(commands) -> None:  # noqa: ANN001 - argparse's subparsers
    p = commands.add_parser("disks", help="record a device's internal disk serials (check-in)")
    p.add_argument("tag")
    p.add_argument("--serial", dest="serials", nargs="+", default=[], metavar="S",
                   help="each internal disk's serial")
    p.add_argument("--uuid", default="", help="the system UUID (SMBIOS), if known")

    p = commands.add_parser("certify", help="record a sanitisation certificate (R6)")
    p.add_argument("tag")
    p.add_argument("--file", type=Path, help="the erasure report: Blancco XML, nwipe PDF or "
                   "log, usody-sanitize JSON")
    p.add_argument("--manual", action="store_true", help="enter a certificate by hand")
    p.add_argument("--method", help="with --manual: overwrite, crypto-erase, destruction...")
    p.add_argument("--tool", help="with --manual: the tool and its version")
    p.add_argument("--certificate-id", help="with --manual: the certificate's own number")
    p.add_argument("--disk-serial", dest="disk_serials", nargs="+", default=[], metavar="S")
    p.add_argument("--validated-by", metavar="LEAD",
                   help="the second person (PIN from EXCHANGE_LEAD_PIN)")

    p = commands.add_parser("release", help="redistribute or dispose of a sanitised device")
    p.add_argument("tag")
    p.add_argument("--route", required=True, choices=["reuse", "weee"])
    p.add_argument("--to", dest="recipient", required=True, metavar="NAME")
    p.add_argument("--collection", metavar="REF", help="the batch's collection reference "
                   "(default: route, station, day and recipient)")
    p.add_argument("--transfer-note", metavar="WTN", help="WEEE: the waste transfer note number")

    p = commands.add_parser("certificates", help="the certificate register (site lead)")
    p.add_argument("--site")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    p.add_argument("--route", choices=list(certificate_register.ROUTES))
    p.add_argument("--status", choices=list(certificate_register.STATUSES))
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write the register as CSV")


def _disks(args: argparse.Namespace) -> int:
    return _acting(args, lambda st, actor: _done(args, sanitisation.record_known_disks(
        st.context, actor, args.tag, tuple(args.serials), args.uuid),
        f"disks recorded for {args.tag.upper()}"))


def _certify(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.manual):
        raise UsageError("certify needs either --file CERT or --manual")
    if args.manual and not (args.method and args.tool and args.certificate_id
                            and args.disk_serials):
        raise UsageError("certify --manual needs --method, --tool, --certificate-id and "
                         "--disk-serial")
    validation = sanitisation.Validation(args.validated_by, _pin(
        "EXCHANGE_LEAD_PIN", f"PIN of {args.validated_by}: ")) if args.validated_by else None

    def act(st: Station, actor: Operator) -> int:
        if args.manual:
            result = sanitisation.certify_manual(
                st.context, actor, args.tag, args.method, args.tool, args.certificate_id,
                tuple(args.disk_serials), validation)
        else:
            result = sanitisation.certify_report(st.context, actor, args.tag, args.file,
                                                 validation)
        return _done(args, result.as_json(), f"{result.record.tag} certified by "
                     f"{result.record.certificate.certificate_id}"
                     + (" (already recorded)" if result.already_recorded else ""))
    return _acting(args, act)


def _release(args: argparse.Namespace) -> int:
    def act(st: Station, actor: Operator) -> int:
        done = sanitisation.release(st.context, actor, args.tag, args.route, args.recipient,
                                    args.collection, args.transfer_note)
        return _done(args, sanitisation.release_json(done), f"{done.tag} released for "
                     f"{done.route.value} to {done.recipient}, collection {done.collection}")
    return _acting(args, act)


def _certificates(args: argparse.Namespace) -> int:
    filters = certificate_register.RegisterFilter(args.site, args.date_from, args.date_to,
                                                  args.route, args.status)

    def act(st: Station, actor: Operator) -> int:
        rows = certificate_register.certificate_register(st.context, actor, filters)
        if args.csv:
            certificate_register.export_register_csv(rows, args.csv)
        text = "\n".join(f"{r['asset_tag']}  {r['status']:<9} {r['source']:<7} "
                         f"{r['report_id']}  {r['route'] or '-'} {r['recipient']}"
                         for r in rows) or "no certificates"
        return _done(args, {"count": len(rows), "rows": rows,
                            "csv": str(args.csv) if args.csv else None}, text)
    return _acting(args, act)


def _label(args: argparse.Namespace) -> int:
    """Labels need no operator or database: any tag the station's pattern accepts."""
    from app.config import StationConfig
    from app.domain.tags import AssetTag
    from app.reports import labels

    if not (args.out or args.printer) or (args.printer and args.format != "zpl"):
        raise UsageError("label needs --out FILE, or --format zpl --printer HOST[:PORT]")
    pattern = StationConfig.load(args.data_dir).tag_pattern
    tags = [AssetTag.parse(t, pattern).value for t in args.tags]
    stock_ = labels.stock(args.size)
    if args.printer:
        from app.ui.printing import send_to_printer

        sent = send_to_printer(labels.to_zpl(tags, stock_), args.printer)
        return _done(args, {"labels": tags, "format": "zpl", "size": stock_.name,
                            "printer": args.printer, "bytes": sent},
                     f"{len(tags)} label(s) sent to {args.printer}")
    if args.format == "pdf":
        from app.ui.printing import write_labels_pdf

        pages = write_labels_pdf(tags, stock_, args.out)
    else:
        text = labels.to_svg(tags, stock_) if args.format == "svg" else labels.to_zpl(tags, stock_)
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write {args.out}: {exc.strerror or exc}") from None
        pages = 1 if args.format == "svg" else len(tags)
    return _done(args, {"labels": tags, "format": args.format, "size": stock_.name,
                        "out": str(args.out), "pages": pages},
                 f"{len(tags)} label(s) written to {args.out} ({stock_.description})")


def _report(args: argparse.Namespace) -> int:
    from app.reports.daily import to_csv, to_html
    from app.services import reports

    if args.kind == "dashboard":
        return _acting(args, lambda st, actor: _dashboard_pdf(args, st, actor))
    if not (args.out or args.csv):
        raise UsageError("report daily needs --out FILE.pdf and/or --csv FILE")
    if not (args.site or args.central):
        raise UsageError("report daily needs --site NAME (or --central URL for the programme)")

    def act(st: Station, actor: Operator) -> int:
        if args.central:
            from app.sync.central_reports import programme_daily_summary

            actor.require(reports.Permission.REPORT)
            summary = programme_daily_summary(args.central, reports.parse_date(args.date),
                                              args.site)
        else:
            summary = reports.daily_summary(st.context, actor, args.site, args.date)
        if args.out:
            from app.ui.printing import write_html_pdf

            write_html_pdf(to_html(summary), args.out, f"Daily swap summary {summary.site} "
                           f"{summary.date}")
        if args.csv:
            reports.write_csv(args.csv, to_csv(summary))
        written = " and ".join(str(p) for p in (args.out, args.csv) if p)
        return _done(args, summary.as_json() | {"out": str(args.out) if args.out else None,
                                                "csv": str(args.csv) if args.csv else None},
                     f"daily summary of {summary.site} for {summary.date} written to {written}"
                     + (" (no activity)" if summary.quiet else ""))
    return _acting(args, act)


def _dashboard_pdf(args: argparse.Namespace, st: Station, actor: Operator) -> int:
    from app.reports import dashboard
    from app.services import reports
    from app.ui.charts import refresh_chart
    from app.ui.printing import ensure_gui_application, write_html_pdf

    board = reports.dashboard(st.context, actor)
    ensure_gui_application()
    write_html_pdf(dashboard.to_html(board), args.out, "Programme dashboard",
                   {dashboard.CHART_URL: refresh_chart(board.cumulative())})
    return _done(args, {"out": str(args.out), "refreshed_percent": round(board.percent_refreshed, 1)},
                 f"dashboard written to {args.out} ({board.percent_refreshed:.1f}% refreshed)")


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "gui": _gui, "init": _init, "operator": _operator, "import": _import, "receive": _receive,
    "exchange": _exchange, "collect": _collect, "reclaim": _reclaim, "status": _status,
    "sync": _sync,
    "decode": _decode, "label": _label, "report": _report,
}
_HANDLERS.update({"disks": _disks, "certify": _certify, "release": _release, "certificates": _certificates})


def _backup(args: argparse.Namespace) -> int:
    from app.self_check import backup_station

    done = backup_station(args.data_dir, args.file)
    return _done(args, done, f"{done['database']} backed up to {done['backup']} "
                 f"({done['bytes']} bytes, schema {done['schema']}, quick_check ok)")


_HANDLERS["backup"] = _backup


# -- plumbing --------------------------------------------------------------------------------

def _acting(args: argparse.Namespace, act: Callable[[Station, Operator], int]) -> int:
    """Open the station, sign the operator in, run `act`."""
    if not args.operator:
        raise AuthFailed("this command needs --operator STAFF_ID (PIN from EXCHANGE_PIN)")
    opened = open_station(args.data_dir)
    try:
        actor = auth.sign_in(opened.context, args.operator, _pin("EXCHANGE_PIN", "PIN: "))
        return act(opened, actor)
    finally:
        opened.close()


def _pin(variable: str, prompt: str) -> str:
    if os.environ.get(variable):
        return os.environ[variable]
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise AuthFailed(f"no PIN given: set {variable} or run the command in a terminal")


def _operator_json(operator: Operator) -> dict:
    return {"staff_id": operator.staff_id, "name": operator.name, "role": operator.role.value}


def _done(args: argparse.Namespace, result: dict, text: str) -> int:
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def _fail(code: str, message: str, exit_code: int, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print(f"exchange-station: {message}", file=sys.stderr)
    return exit_code
