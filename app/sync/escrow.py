"""The courier cap across stations as an escrow of whole units (SYNC.md 2.6): the I/O.

A station's balance is B = N - 3C + G - R (counter laptops, courier laptops, granted and
released units); it may courier a laptop while B >= 3. Central's pool is
POOL = sum(R) - sum(G) >= 0, so sum(B) + POOL = N - 3C and the 25% cap holds at every point.
The rules and the top-up policy are in app/domain/escrow.py; this module reads and writes.

- A *release* is an event of the giving station: it debits itself first, in the same local
  transaction, and the units reach the pool when the event is pushed.
- A *grant* debits the pool at central under its CHECK (balance >= 0); the station can spend
  it only once it has pulled it. Units are never reclaimed from an offline station.
- A *rebalance* grants from the pool to stations with courier demand below the low mark
  (`plan_rebalance`), in one central transaction that holds the pool's row lock, and lists
  the stations above the high mark that should release.

**Courier demand**, as central measures it: the laptops a station sent by courier (its
`exchange.recorded` events with `courier` true, laptops by central's device register) that
central *received* in the last `days` days (default 14). Central's own clock, `received_at`,
is used and never the station's (SYNC.md: wall clocks are display-only), so a station back
from a long offline spell counts its courier laptops as recent demand when they arrive. The
signal measures demand that was met: a station that has never sent a laptop by courier shows
none, however many shielding people wait; the admin grants to it by hand (`escrow grant`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from app.domain import events
from app.domain.courier import UNITS_PER_COURIER_LAPTOP
from app.domain.escrow import (DEFAULT_LOW, EscrowAccount, RebalancePlan, check_grant,
                               check_marks, check_release, plan_rebalance)
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput, RuleRefused, RuleViolation
from app.persistence.models import StationRow
from app.services.context import ServiceContext
from app.services.station import courier_allowance, station_site
from app.sync import central

#: The demand window of `rebalance`, in days of central's clock.
DEFAULT_DEMAND_DAYS = 14

# -- the station ---------------------------------------------------------------------------


def station_escrow(ctx: ServiceContext) -> dict:
    """This station's escrow as it stands locally (grants count once pulled)."""
    with ctx.uow_factory(write=False) as uow:
        site = station_site(uow)
        station = uow.station.get()
        a = courier_allowance(uow)
    return {"station": station.station_id, "site": site, "balance": a.balance,
            "counter_laptops": a.counter_laptops, "courier_laptops": a.courier_laptops,
            "granted": a.granted_units, "released": a.released_units,
            "courier_laptops_allowed": a.remaining,
            "counter_laptops_before_next_courier": a.counter_laptops_needed(1),
            "last_sync": station.last_sync_at}


def release_units(ctx: ServiceContext, actor: Operator, units: int) -> dict:
    """Give `units` of this station's courier allowance back to central's pool."""
    actor.require(Permission.OVERRIDE)
    if units <= 0:
        raise BadInput("release a positive number of units")
    with ctx.uow_factory() as uow:
        balance = courier_allowance(uow).balance
        if (refused := check_release(balance, units)) is not None:
            raise RuleRefused([refused])
        uow.session.execute(update(StationRow).values(
            released_units=StationRow.released_units + units))
        recorded = uow.record(events.DomainEvent(events.ESCROW_RELEASED, {"units": units}),
                              actor.staff_id)
        uow.commit()
    return {"released": units, "balance": balance - units,
            "courier_laptops_allowed": max(0, (balance - units) // UNITS_PER_COURIER_LAPTOP),
            "event_id": recorded.event_id}


# -- central -------------------------------------------------------------------------------

_ACCOUNTS = """
WITH streams AS (
    SELECT station_id, min(site) AS site, sum(counter_laptops)::int AS n,
           sum(courier_laptops)::int AS c, sum(released_units)::int AS r,
           max(last_push_at) AS last_push
      FROM station_stream GROUP BY station_id),
grants AS (
    SELECT account AS station_id, sum(delta)::int AS g
      FROM escrow_ledger WHERE kind = 'grant' GROUP BY account),
demand AS (
    SELECT e.station_id, count(*)::int AS laptops
      FROM event e
     CROSS JOIN LATERAL jsonb_array_elements_text(e.payload -> 'issued') AS issued(tag)
      JOIN device_state d ON d.asset_tag = issued.tag AND d.type = 'laptop'
     WHERE e.type = 'exchange.recorded' AND e.status <> 'quarantined'
       AND (e.payload ->> 'courier')::boolean
       AND e.received_at >= now() - make_interval(days => %(days)s)
     GROUP BY e.station_id)
SELECT station_id, s.site, coalesce(s.n, 0), coalesce(s.c, 0), coalesce(g.g, 0),
       coalesce(s.r, 0), coalesce(demand.laptops, 0), s.last_push
  FROM streams s FULL JOIN grants g USING (station_id) LEFT JOIN demand USING (station_id)
 ORDER BY station_id
"""


@dataclass(frozen=True)
class CentralAccount:
    account: EscrowAccount
    site: str | None
    last_push: str | None

    def as_json(self, with_demand: bool = False) -> dict:
        a = self.account
        return {"station": a.station_id, "site": self.site, "counter_laptops": a.counter_laptops,
                "courier_laptops": a.courier_laptops, "granted": a.granted_units,
                "released": a.released_units, "balance": a.balance,
                "courier_laptops_allowed": a.allowance.remaining, "last_push": self.last_push
                } | ({"courier_demand": a.demand} if with_demand else {})


def _accounts(conn, days: int) -> list[CentralAccount]:  # noqa: ANN001
    return [CentralAccount(EscrowAccount(sid, n, c, g, r, demand), site,
                           last.isoformat(timespec="seconds") if last else None)
            for sid, site, n, c, g, r, demand, last
            in conn.execute(_ACCOUNTS, {"days": days}).fetchall()]


def _pool(conn, lock: bool = False) -> int:  # noqa: ANN001
    return conn.execute("SELECT balance FROM escrow_pool"
                        + (" FOR UPDATE" if lock else "")).fetchone()[0]


def _central(step: str, exc: BaseException):  # noqa: ANN202
    import psycopg

    from app.sync.push import central_error

    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return central.SyncFailed(
            f"central refused {step}: a station's own role may not read the stations' "
            "counters; use the central admin's URL (--central postgresql://ADMIN@HOST/DB, "
            "password in PGPASSWORD or .pgpass); nothing is lost locally")
    return central_error(step, exc)


def pool_balance(central_url: str) -> int:
    with central.connect(central_url, application_name="escrow-pool") as conn:
        return _pool(conn)


def pool_view(central_url: str, actor: Operator) -> dict:
    """The pool and each station's N, C, G, R and balance as central sees them."""
    import psycopg

    actor.require(Permission.REPORT)
    conn = central.connect(central_url, application_name="escrow-pool")
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot
            pool = _pool(conn)
            accounts = _accounts(conn, DEFAULT_DEMAND_DAYS)
    except psycopg.Error as exc:
        raise _central("reading the escrow pool", exc) from None
    finally:
        conn.close()
    n = sum(a.account.counter_laptops for a in accounts)
    c = sum(a.account.courier_laptops for a in accounts)
    g = sum(a.account.granted_units for a in accounts)
    r = sum(a.account.released_units for a in accounts)
    return {"pool": pool, "stations": [a.as_json() for a in accounts],
            "totals": {"counter_laptops": n, "courier_laptops": c, "granted": g, "released": r,
                       "balances": sum(a.account.balance for a in accounts)},
            # POOL = sum(R) - sum(G); sum(B) + POOL = N - 3C; 3C <= N is the 25% cap
            "pool_agrees_with_ledger": pool == r - g, "cap_holds": 3 * c <= n}


def grant_units(central_url: str, station_id: str, units: int, granted_by: str) -> int:
    """Central: move `units` from the pool to `station_id`; returns the pool left. A short pool
    or an unknown station is refused with nothing written."""
    import psycopg

    if units <= 0:
        raise BadInput("grant a positive number of units")
    conn = central.connect(central_url, application_name="escrow-grant")
    try:
        with conn.transaction():
            central.order_lock(conn)  # numbered and applied in one order (central c0014)
            pool = _pool(conn, lock=True)  # no grant or rebalance can slip in between
            if not conn.execute("SELECT EXISTS (SELECT 1 FROM station_stream "
                                "WHERE station_id = %s)", (station_id,)).fetchone()[0]:
                raise BadInput(f"central knows no station '{station_id}' (a station is known "
                               "from its first sync); nothing was granted")
            if (refused := check_grant(pool, units)) is not None:
                raise RuleRefused([refused])
            return conn.execute("SELECT escrow_grant(%s, %s, %s)",
                                (station_id, units, granted_by)).fetchone()[0]
    except psycopg.errors.CheckViolation:  # the CHECK stays the last word
        raise RuleRefused([RuleViolation("R5", f"the pool holds fewer than {units} units; "
                                           "nothing was granted")]) from None
    except psycopg.Error as exc:
        raise _central("the grant", exc) from None
    finally:
        conn.close()


def grant(central_url: str, actor: Operator, station_id: str, units: int) -> dict:
    """`escrow grant`: an admin's grant; returns what was granted and the pool left."""
    actor.require(Permission.GRANT)
    left = grant_units(central_url, station_id, units, actor.staff_id)
    return {"station": station_id, "granted": units, "pool": left}


def rebalance(central_url: str, actor: Operator, low: int = DEFAULT_LOW,
              high: int | None = None, days: int = DEFAULT_DEMAND_DAYS,
              dry_run: bool = False) -> dict:
    """Top up the stations with courier demand below `low` from the pool (see
    app/domain/escrow.py), and list those above `high`. With `dry_run`, nothing is written."""
    import psycopg

    actor.require(Permission.REPORT if dry_run else Permission.GRANT)
    check_marks(low, high, days)
    conn = central.connect(central_url, application_name="escrow-rebalance")
    try:
        with conn.transaction():
            if not dry_run:
                central.order_lock(conn)  # numbered and applied in one order (central c0014)
            pool = _pool(conn, lock=not dry_run)  # grants and releases wait for this plan
            accounts = _accounts(conn, days)
            plan = plan_rebalance(pool, [a.account for a in accounts], low, high)
            if not dry_run:
                for g in plan.grants:
                    conn.execute("SELECT escrow_grant(%s, %s, %s)",
                                 (g.station_id, g.units, f"{actor.staff_id} (rebalance)"))
            pool_now = _pool(conn)
    except psycopg.Error as exc:
        raise _central("the rebalance", exc) from None
    finally:
        conn.close()
    return plan_json(plan, dry_run, days) | {"pool": pool_now}


def plan_json(plan: RebalancePlan, dry_run: bool, days: int) -> dict:
    return {
        "dry_run": dry_run, "low": plan.low, "high": plan.high, "demand_days": days,
        "pool_before": plan.pool_before, "pool_after": plan.pool_after,
        "granted": plan.granted,
        "grants": [{"station": g.station_id, "units": g.units, "balance_before": g.balance_before,
                    "balance_after": g.balance_after, "courier_demand": g.demand}
                   for g in plan.grants],
        "short": plan.short,
        "waiting": [{"station": s.station_id, "balance": s.balance, "short_by": s.short_by,
                     "next_step": s.next_step, "courier_demand": s.demand}
                    for s in plan.shortfalls],
        "should_release": [{"station": e.station_id, "balance": e.balance, "excess": e.excess}
                           for e in plan.should_release],
    }
