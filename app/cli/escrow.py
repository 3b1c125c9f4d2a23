"""The courier escrow (R5 across stations, SYNC.md 2.6): `escrow status|release|pool|grant|
rebalance`. The station's side needs no central; the central admin's side needs `--central`."""

from __future__ import annotations

import argparse

from app.bootstrap import Station, open_station
from app.cli.plumbing import acting, respond
from app.domain.escrow import DEFAULT_LOW
from app.domain.people import Operator
from app.domain.rules import UsageError

_URL_HELP = ("postgresql://ROLE@HOST/DB: the central database, as its admin (the password from "
             "PGPASSWORD or a .pgpass file)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(f"'{text}' is not a positive whole number of units")
    return value


def add_escrow_commands(commands) -> None:  # noqa: ANN001 - argparse's subparsers
    from app.cli.plumbing import Parser
    from app.sync.escrow import DEFAULT_DEMAND_DAYS

    escrow = commands.add_parser("escrow", help="the courier allowance (R5) between stations "
                                 "and central's pool")
    actions = escrow.add_subparsers(dest="action", required=True, parser_class=Parser)
    actions.add_parser("status", help="this station's escrow units and the courier laptops it "
                       "may send now")
    p = actions.add_parser("release", help="give N of this station's units back to central's "
                           "pool (site lead; an event, sent at the next sync)")
    p.add_argument("units", type=positive_int, metavar="N")
    p = actions.add_parser("pool", help="central's pool and every station's escrow as central "
                           "sees it (site lead)")
    p.add_argument("--central", metavar="URL", required=True, help=_URL_HELP)
    p = actions.add_parser("grant", help="grant N units from central's pool to STATION (admin)")
    p.add_argument("station", metavar="STATION")
    p.add_argument("units", type=positive_int, metavar="N")
    p.add_argument("--central", metavar="URL", required=True, help=_URL_HELP)
    p = actions.add_parser("rebalance", help="top up the stations with courier demand from the "
                           "pool; list those above the high mark (admin; --dry-run: site lead)")
    p.add_argument("--central", metavar="URL", required=True, help=_URL_HELP)
    p.add_argument("--low", type=positive_int, default=DEFAULT_LOW, help=f"top up stations "
                   f"with courier demand below this balance, to it (default {DEFAULT_LOW}: "
                   "one courier laptop)")
    p.add_argument("--high", type=positive_int, help="list the stations above this balance as "
                   "ones that should release the excess (central never takes units back)")
    p.add_argument("--days", type=positive_int, default=DEFAULT_DEMAND_DAYS,
                   help="courier demand: laptops sent by courier that central received in the "
                   f"last DAYS days (default {DEFAULT_DEMAND_DAYS})")
    p.add_argument("--dry-run", action="store_true", help="show the plan; grant nothing")


def escrow_command(args: argparse.Namespace) -> int:
    return _ACTIONS[args.action](args)


def _status(args: argparse.Namespace) -> int:
    from app.sync.escrow import station_escrow

    opened = open_station(args.data_dir)
    try:
        e = station_escrow(opened.context)
    finally:
        opened.close()
    now = (f"{e['courier_laptops_allowed']} courier laptop(s) may go now"
           if e["courier_laptops_allowed"] else
           f"no courier laptop now: {e['counter_laptops_before_next_courier']} more over the "
           "counter first, or a grant from central")
    return respond(args, e, (
        f"station {e['station']}: {e['balance']} escrow units ({e['counter_laptops']} counter "
        f"laptops, {e['courier_laptops']} by courier, {e['granted']} granted, "
        f"{e['released']} released); {now}"))


def _release(args: argparse.Namespace) -> int:
    from app.sync.escrow import release_units

    def act(st: Station, actor: Operator) -> int:
        done = release_units(st.context, actor, args.units)
        return respond(args, done, (
            f"released {done['released']} units to central's pool (they reach it at the next "
            f"sync); this station holds {done['balance']} now: "
            f"{done['courier_laptops_allowed']} courier laptop(s)"))
    return acting(args, act)


def _pool(args: argparse.Namespace) -> int:
    from app.sync.escrow import pool_view

    def act(st: Station, actor: Operator) -> int:
        view = pool_view(args.central, actor)
        rows = [f"{'station':<16} {'N':>6} {'C':>5} {'G':>5} {'R':>5} {'B':>6}"] + [
            f"{s['station']:<16} {s['counter_laptops']:>6} {s['courier_laptops']:>5} "
            f"{s['granted']:>5} {s['released']:>5} {s['balance']:>6}"
            for s in view["stations"]]
        notes = [] if view["pool_agrees_with_ledger"] else [
            "WARNING: the pool does not equal released minus granted units"]
        notes += [] if view["cap_holds"] else ["WARNING: courier laptops are past 25%"]
        return respond(args, view, "\n".join(
            [f"pool: {view['pool']} units"] + rows + notes))
    return acting(args, act)


def _grant(args: argparse.Namespace) -> int:
    from app.sync.escrow import grant

    def act(st: Station, actor: Operator) -> int:
        done = grant(args.central, actor, args.station, args.units)
        return respond(args, done, (
            f"granted {done['granted']} units to {done['station']}; the pool holds "
            f"{done['pool']} now; {done['station']} can spend them after its next sync"))
    return acting(args, act)


def _rebalance(args: argparse.Namespace) -> int:
    from app.sync.escrow import rebalance

    def act(st: Station, actor: Operator) -> int:
        plan = rebalance(args.central, actor, args.low, args.high, args.days, args.dry_run)
        verb = "would grant" if plan["dry_run"] else "granted"
        lines = [f"{'dry run: ' if plan['dry_run'] else ''}pool {plan['pool_before']} units; "
                 f"{verb} {plan['granted']}, leaving {plan['pool_after']}"]
        lines += [f"  {verb} {g['units']} to {g['station']} (balance {g['balance_before']} -> "
                  f"{g['balance_after']}; {g['courier_demand']} courier laptops in "
                  f"{plan['demand_days']} days)" for g in plan["grants"]]
        lines += [f"  waiting: {w['station']} needs {w['next_step']} for its next courier "
                  f"laptop (balance {w['balance']}); the pool is short" for w in plan["waiting"]]
        lines += [f"  should release: {e['station']} holds {e['balance']}, {e['excess']} above "
                  f"the high mark (only the station can release: `escrow release "
                  f"{e['excess']}` there)" for e in plan["should_release"]]
        return respond(args, plan, "\n".join(lines))
    return acting(args, act)


_ACTIONS = {"status": _status, "release": _release, "pool": _pool, "grant": _grant,
            "rebalance": _rebalance}
