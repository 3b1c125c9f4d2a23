"""The courier cap's escrow between stations (SYNC.md 2.6): releases, grants, and the top-up
policy central runs. Pure functions over numbers: no database, no clock.

Each station holds B = N - 3C + G - R units (counter laptops, courier laptops, units granted to
it, units it released); it may courier one more laptop while B >= 3. Central's pool holds
POOL = sum(R) - sum(G) >= 0. So sum(B) + POOL = N - 3C, and every B >= 0 with POOL >= 0 keeps
courier laptops within 25% of all laptops issued.

- A station releases only units it holds (`check_release`): it debits itself first.
- Central grants only units the pool holds (`check_grant`).
- `plan_rebalance` is the top-up policy. Central takes nothing back: a station above the high
  mark is only *listed* as one that should release its excess; only the station can release
  (units taken from an offline station could be spent there meanwhile: spent twice).

The top-up policy, in full:

- **Demand.** A station shows courier demand when `demand` > 0. The caller measures it; the
  command line uses the laptops the station sent by courier that central received in the last
  days (app/sync/escrow.py). The policy only compares demands.
- **Who is topped up.** A station with demand whose balance (as central sees it) is below the
  low mark, which is at least what one courier laptop needs (3).
- **How much.** Up to the low mark, one courier laptop's worth at a time: each step brings the
  balance to the next multiple of 3 (never past the low mark), so no step leaves a station
  holding units it cannot spend. A station already in overrun (B < 0) needs more for its first
  step; it gets it only when the pool covers the whole step.
- **When the pool is short.** Round by round: every station gets its first step before any gets
  a second. Within a round the busiest station (highest demand) goes first, then the lowest
  balance, then the station id; a step the pool left cannot cover is skipped, never granted in
  part, and the pool left goes to the next station whose step it covers.
- **High mark.** Stations whose balance is above it are listed with their excess (B - high).

The plan never grants more than the pool holds, never grants to a station without demand or at
or above the low mark, never lifts a balance past the low mark, and does not depend on the order
the stations are given in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.courier import UNITS_PER_COURIER_LAPTOP, CourierAllowance
from app.domain.rules import RuleViolation, UsageError

#: The default low mark: what one courier laptop needs.
DEFAULT_LOW = UNITS_PER_COURIER_LAPTOP


@dataclass(frozen=True)
class EscrowAccount:
    """One station's escrow as central sees it, with its measured courier demand."""

    station_id: str
    counter_laptops: int = 0   # N
    courier_laptops: int = 0   # C
    granted_units: int = 0     # G
    released_units: int = 0    # R
    demand: int = 0            # courier laptops in the demand window (0: no demand)

    @property
    def allowance(self) -> CourierAllowance:
        return CourierAllowance(self.counter_laptops, self.courier_laptops, self.granted_units,
                                self.released_units)

    @property
    def balance(self) -> int:
        return self.allowance.balance


@dataclass(frozen=True)
class Grant:
    station_id: str
    units: int
    balance_before: int
    demand: int

    @property
    def balance_after(self) -> int:
        return self.balance_before + self.units


@dataclass(frozen=True)
class Shortfall:
    """A station with demand below the low mark that the pool could not bring there."""

    station_id: str
    balance: int       # after any grant of this plan
    short_by: int      # units still missing to the low mark
    next_step: int     # units its next courier laptop needs; more than the pool left
    demand: int


@dataclass(frozen=True)
class Excess:
    """A station above the high mark: it should release `excess` units (only it can)."""

    station_id: str
    balance: int
    excess: int


@dataclass(frozen=True)
class RebalancePlan:
    pool_before: int
    low: int
    high: int | None
    grants: tuple[Grant, ...]
    shortfalls: tuple[Shortfall, ...]
    should_release: tuple[Excess, ...]

    @property
    def granted(self) -> int:
        return sum(g.units for g in self.grants)

    @property
    def pool_after(self) -> int:
        return self.pool_before - self.granted

    @property
    def short(self) -> bool:
        """The pool could not bring every station with demand up to the low mark."""
        return bool(self.shortfalls)


def check_release(balance: int, units: int) -> RuleViolation | None:
    """A station may release only units it holds (it debits itself first)."""
    if units > balance:
        return RuleViolation("R5", f"this station holds {max(balance, 0)} escrow units, so it "
                             f"cannot release {units}: a release gives back only units it holds")
    return None


def check_grant(pool: int, units: int) -> RuleViolation | None:
    """Central may grant only units its pool holds (POOL >= 0)."""
    if units > pool:
        return RuleViolation("R5", f"the pool holds {pool} units, fewer than the {units} asked "
                             "for; nothing was granted (stations above the high mark can "
                             "release units into the pool)")
    return None


def next_step(balance: int, low: int) -> int:
    """Units that bring `balance` to its next courier laptop, never past `low` (0 at `low`)."""
    if balance >= low:
        return 0
    target = UNITS_PER_COURIER_LAPTOP * (max(balance, 0) // UNITS_PER_COURIER_LAPTOP + 1)
    return min(target, low) - balance


#: The longest courier-demand window a rebalance looks back over (ten years: the programme).
MAX_DEMAND_DAYS = 3650


def check_marks(low: int, high: int | None, days: int | None = None) -> None:
    """The low and high marks and the demand window of a rebalance (usage errors)."""
    if low < UNITS_PER_COURIER_LAPTOP:
        raise UsageError(f"the low mark is at least {UNITS_PER_COURIER_LAPTOP}, what one "
                         "courier laptop needs (a smaller top-up lets no station courier)")
    if low % UNITS_PER_COURIER_LAPTOP:
        raise UsageError(f"the low mark is a whole number of courier laptops (a multiple of "
                         f"{UNITS_PER_COURIER_LAPTOP}): with {low}, units above "
                         f"{low - low % UNITS_PER_COURIER_LAPTOP} would be granted to no use")
    if days is not None and not 0 < days <= MAX_DEMAND_DAYS:
        raise UsageError(f"the demand window is 1 to {MAX_DEMAND_DAYS} days, not {days}")
    if high is not None and high < low:
        raise UsageError(f"the high mark ({high}) cannot be below the low mark ({low}): a "
                         "topped-up station would at once be asked to release")


def plan_rebalance(pool: int, accounts: Iterable[EscrowAccount], low: int = DEFAULT_LOW,
                   high: int | None = None) -> RebalancePlan:
    """The grants from `pool` and the stations that should release (see the module doc)."""
    check_marks(low, high)
    if pool < 0:
        raise ValueError("the pool is never negative (central's CHECK)")
    accounts = sorted(accounts, key=lambda a: a.station_id)
    ids = [a.station_id for a in accounts]
    if len(set(ids)) != len(ids):
        raise ValueError("one account per station")

    wanting = sorted((a for a in accounts if a.demand > 0 and a.balance < low),
                     key=lambda a: (-a.demand, a.balance, a.station_id))
    balance = {a.station_id: a.balance for a in wanting}
    granted = {a.station_id: 0 for a in wanting}
    left = pool
    progressed = True
    while progressed:  # one round: at most one step per station
        progressed = False
        for a in wanting:
            step = next_step(balance[a.station_id], low)
            if 0 < step <= left:
                balance[a.station_id] += step
                granted[a.station_id] += step
                left -= step
                progressed = True

    grants = tuple(Grant(a.station_id, granted[a.station_id], a.balance, a.demand)
                   for a in wanting if granted[a.station_id])
    shortfalls = tuple(
        Shortfall(a.station_id, balance[a.station_id], low - balance[a.station_id],
                  next_step(balance[a.station_id], low), a.demand)
        for a in wanting if balance[a.station_id] < low)
    should_release = () if high is None else tuple(
        Excess(a.station_id, a.balance, a.balance - high) for a in accounts if a.balance > high)
    return RebalancePlan(pool, low, high, grants, shortfalls, should_release)
