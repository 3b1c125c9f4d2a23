"""Labels and reports: `label`, `report daily`, `report dashboard`."""

from __future__ import annotations

import argparse

from app.bootstrap import Station
from app.cli.plumbing import acting, respond
from app.domain.people import Operator
from app.domain.rules import BadInput, UsageError

def label_command(args: argparse.Namespace) -> int:
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
        return respond(args, {"labels": tags, "format": "zpl", "size": stock_.name,
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
    return respond(args, {"labels": tags, "format": args.format, "size": stock_.name,
                        "out": str(args.out), "pages": pages},
                 f"{len(tags)} label(s) written to {args.out} ({stock_.description})")


def report_command(args: argparse.Namespace) -> int:
    from app.reports.daily import to_csv, to_html
    from app.services import reports

    if args.kind == "dashboard":
        return acting(args, lambda st, actor: _dashboard_pdf(args, st, actor))
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
        return respond(args, summary.as_json() | {"out": str(args.out) if args.out else None,
                                                "csv": str(args.csv) if args.csv else None},
                     f"daily summary of {summary.site} for {summary.date} written to {written}"
                     + (" (no activity)" if summary.quiet else ""))
    return acting(args, act)


def _dashboard_pdf(args: argparse.Namespace, st: Station, actor: Operator) -> int:
    from app.reports import dashboard
    from app.services import reports
    from app.ui.charts import refresh_chart
    from app.ui.printing import ensure_gui_application, write_html_pdf

    if args.central:
        from app.sync.central_reports import programme_dashboard

        actor.require(reports.Permission.REPORT)
        board = programme_dashboard(args.central)
    else:
        board = reports.dashboard(st.context, actor)
    ensure_gui_application()
    write_html_pdf(dashboard.to_html(board), args.out, "Programme dashboard",
                   {dashboard.CHART_URL: refresh_chart(board.cumulative())})
    return respond(args, {"out": str(args.out), "refreshed_percent": round(board.percent_refreshed, 1)},
                 f"dashboard written to {args.out} ({board.percent_refreshed:.1f}% refreshed)")
