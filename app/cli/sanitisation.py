"""Sanitisation commands (R6): known disks, certify, release, the certificate register."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.bootstrap import Station
from app.cli.plumbing import acting, read_pin, respond
from app.domain.people import Operator
from app.domain.rules import UsageError
from app.services import certificate_register, sanitisation

def add_sanitisation_commands(commands) -> None:  # noqa: ANN001 - argparse's subparsers
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


def disks_command(args: argparse.Namespace) -> int:
    return acting(args, lambda st, actor: respond(args, sanitisation.record_known_disks(
        st.context, actor, args.tag, tuple(args.serials), args.uuid),
        f"disks recorded for {args.tag.upper()}"))


def certify_command(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.manual):
        raise UsageError("certify needs either --file CERT or --manual")
    if args.manual and not (args.method and args.tool and args.certificate_id
                            and args.disk_serials):
        raise UsageError("certify --manual needs --method, --tool, --certificate-id and "
                         "--disk-serial")
    validation = sanitisation.Validation(args.validated_by, read_pin(
        "EXCHANGE_LEAD_PIN", f"PIN of {args.validated_by}: ")) if args.validated_by else None

    def act(st: Station, actor: Operator) -> int:
        if args.manual:
            result = sanitisation.certify_manual(
                st.context, actor, args.tag, args.method, args.tool, args.certificate_id,
                tuple(args.disk_serials), validation)
        else:
            result = sanitisation.certify_report(st.context, actor, args.tag, args.file,
                                                 validation)
        return respond(args, result.as_json(), f"{result.record.tag} certified by "
                     f"{result.record.certificate.certificate_id}"
                     + (" (already recorded)" if result.already_recorded else ""))
    return acting(args, act)


def release_command(args: argparse.Namespace) -> int:
    def act(st: Station, actor: Operator) -> int:
        done = sanitisation.release(st.context, actor, args.tag, args.route, args.recipient,
                                    args.collection, args.transfer_note)
        return respond(args, sanitisation.release_json(done), f"{done.tag} released for "
                     f"{done.route.value} to {done.recipient}, collection {done.collection}")
    return acting(args, act)


def certificates_command(args: argparse.Namespace) -> int:
    filters = certificate_register.RegisterFilter(args.site, args.date_from, args.date_to,
                                                  args.route, args.status)

    def act(st: Station, actor: Operator) -> int:
        rows = certificate_register.certificate_register(st.context, actor, filters)
        if args.csv:
            certificate_register.export_register_csv(rows, args.csv)
        text = "\n".join(f"{r['asset_tag']}  {r['status']:<9} {r['source']:<7} "
                         f"{r['report_id']}  {r['route'] or '-'} {r['recipient']}"
                         for r in rows) or "no certificates"
        return respond(args, {"count": len(rows), "rows": rows,
                            "csv": str(args.csv) if args.csv else None}, text)
    return acting(args, act)
