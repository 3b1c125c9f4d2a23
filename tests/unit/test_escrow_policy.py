"""The courier escrow's top-up policy (app/domain/escrow.py): examples, then properties.

Whatever the stations and the pool, a plan never grants more than the pool holds (the pool never
goes negative), grants only to stations with demand below the low mark and never past it, keeps
sum(B) + POOL = N - 3C (so every B >= 0 with POOL >= 0 still means 3 x sum(C) <= sum(N)), is
fair when the pool is short, settles (planning again after it grants nothing) and does not
depend on the order the stations come in.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.courier import UNITS_PER_COURIER_LAPTOP
from app.domain.escrow import (MAX_DEMAND_DAYS, EscrowAccount, check_grant, check_marks,
                               check_release, next_step,
                               plan_rebalance)
from app.domain.rules import UsageError


def account(station: str, balance: int, demand: int = 1) -> EscrowAccount:
    """A station whose balance is `balance`, built from counter laptops or an overrun."""
    if balance >= 0:
        return EscrowAccount(station, counter_laptops=balance, demand=demand)
    return EscrowAccount(station, courier_laptops=1, counter_laptops=3 + balance, demand=demand)


def grants(plan) -> dict[str, int]:
    return {g.station_id: g.units for g in plan.grants}


# -- examples --------------------------------------------------------------------------------

def test_stations_with_demand_below_the_low_mark_are_topped_up_to_one_courier_laptop():
    plan = plan_rebalance(10, [account("A", 0), account("B", 2), account("C", 1, demand=0),
                               account("D", 3), account("E", 7)])
    assert grants(plan) == {"A": 3, "B": 1}  # C shows no demand; D and E can courier already
    assert (plan.pool_after, plan.short, plan.should_release) == (6, False, ())
    assert [g.balance_after for g in plan.grants] == [3, 3]


def test_a_short_pool_goes_to_the_busiest_station_first_and_is_never_granted_in_part():
    plan = plan_rebalance(4, [account("A", 0, demand=1), account("B", 0, demand=5),
                              account("C", 1, demand=1)])
    # B (5 courier laptops lately) first: 3 units; 1 unit left covers neither A nor C
    assert grants(plan) == {"B": 3}
    assert plan.pool_after == 1 and plan.short
    assert {(s.station_id, s.short_by, s.next_step) for s in plan.shortfalls} == {
        ("A", 3, 3), ("C", 2, 2)}


def test_a_step_the_pool_cannot_cover_is_skipped_for_one_it_can():
    plan = plan_rebalance(2, [account("A", 0, demand=9), account("B", 1, demand=1)])
    assert grants(plan) == {"B": 2} and plan.pool_after == 0
    assert [s.station_id for s in plan.shortfalls] == ["A"]


def test_equal_demand_goes_to_the_lowest_balance_then_the_station_id():
    plan = plan_rebalance(3, [account("B", 0), account("A", 0), account("C", 1)])
    assert grants(plan) == {"A": 3}


def test_with_a_higher_low_mark_every_station_gets_a_courier_laptop_before_any_gets_two():
    plan = plan_rebalance(9, [account("A", 0, demand=9), account("B", 0, demand=1),
                              account("C", 2, demand=1)], low=9)
    # round 1: A 3, B 3, C 1 (to 3); round 2: A needs 3 but only 2 are left; C needs 3
    assert grants(plan) == {"A": 3, "B": 3, "C": 1}
    assert plan.pool_after == 2
    plan = plan_rebalance(13, [account("A", 0, demand=9), account("B", 0, demand=1)], low=9)
    assert grants(plan) == {"A": 6, "B": 6} and plan.pool_after == 1


def test_a_station_in_overrun_is_lifted_to_a_courier_laptop_in_one_step():
    assert next_step(-2, 3) == 5
    plan = plan_rebalance(5, [account("A", -2)])
    assert grants(plan) == {"A": 5} and plan.grants[0].balance_after == 3
    assert grants(plan_rebalance(4, [account("A", -2)])) == {}


def test_stations_above_the_high_mark_are_listed_and_nothing_is_taken_from_them():
    plan = plan_rebalance(0, [account("A", 12), account("B", 30), account("C", 0)], high=12)
    assert [(e.station_id, e.balance, e.excess) for e in plan.should_release] == [("B", 30, 18)]
    assert plan.grants == () and plan.pool_after == 0
    assert plan_rebalance(0, [account("B", 30)]).should_release == ()  # no high mark given


@pytest.mark.parametrize("low, high", [(2, None), (0, 5), (6, 5), (5, None), (10, 20)])
def test_marks_that_would_strand_units_or_contradict_are_usage_errors(low, high):
    with pytest.raises(UsageError):
        plan_rebalance(10, [account("A", 0)], low=low, high=high)


@pytest.mark.parametrize("days", [0, -1, MAX_DEMAND_DAYS + 1, 99_999_999_999])
def test_a_demand_window_outside_1_to_3650_days_is_a_usage_error(days):
    with pytest.raises(UsageError, match="1 to 3650 days"):
        check_marks(3, None, days)


def test_releases_and_grants_only_of_units_that_are_there():
    assert check_release(6, 6) is None and check_release(6, 7).code == "R5"
    assert "holds 0" in str(check_release(-3, 1))
    assert check_grant(3, 3) is None
    refused = check_grant(3, 4)
    assert refused.code == "R5" and "pool holds 3" in refused.message


# -- properties ------------------------------------------------------------------------------

@st.composite
def escrow(draw, allow_overrun: bool = False):
    """Stations (N, C, G, R, demand) and the pool that goes with them, POOL = sum(R) - sum(G),
    and the marks. Without `allow_overrun` every balance is >= 0, as the local rule keeps it."""
    accounts = []
    for i in range(draw(st.integers(0, 8))):
        counter, grant = draw(st.integers(0, 40)), draw(st.integers(0, 12))
        release = draw(st.integers(0, counter + grant))  # a station releases what it holds
        room = counter + grant - release
        courier = draw(st.integers(0, room // 3 + (2 if allow_overrun else 0)))
        accounts.append(EscrowAccount(f"S{i:02d}", counter, courier, grant, release,
                                      draw(st.integers(0, 6))))
    # a quiet station that released everything it earned: units in the pool to grant from
    spare = draw(st.integers(0, 30))
    accounts.append(EscrowAccount("S99", spare, 0, 0, spare, 0))
    if sum(a.granted_units for a in accounts) > sum(a.released_units for a in accounts):
        # central's CHECK would have refused the grants past the pool: keep each within reach
        accounts = [EscrowAccount(a.station_id, a.counter_laptops, a.courier_laptops,
                                  min(a.granted_units, a.released_units), a.released_units,
                                  a.demand) for a in accounts]
        accounts = [a if a.balance >= 0 or allow_overrun else
                    EscrowAccount(a.station_id, a.counter_laptops, 0, a.granted_units,
                                  a.released_units, a.demand) for a in accounts]
    pool = sum(a.released_units for a in accounts) - sum(a.granted_units for a in accounts)
    low = draw(st.sampled_from([3, 3, 3, 6, 9, 12]))
    high = draw(st.one_of(st.none(), st.integers(low, low + 20)))
    return accounts, pool, low, high


def granted_to(accounts, plan) -> list[EscrowAccount]:
    given_ = grants(plan)
    return [EscrowAccount(a.station_id, a.counter_laptops, a.courier_laptops,
                          a.granted_units + given_.get(a.station_id, 0), a.released_units,
                          a.demand) for a in accounts]


@settings(max_examples=300, deadline=None)
@given(escrow(allow_overrun=True))
def test_the_pool_never_goes_negative_and_grants_go_only_where_the_policy_says(case):
    accounts, pool, low, high = case
    plan = plan_rebalance(pool, accounts, low, high)
    by_id = {a.station_id: a for a in accounts}
    assert 0 <= plan.granted <= pool and plan.pool_after >= 0
    for g in plan.grants:
        a = by_id[g.station_id]
        assert g.units > 0 and a.demand > 0 and a.balance < low
        assert g.balance_before == a.balance
        # it can courier now, and is not past the mark
        assert UNITS_PER_COURIER_LAPTOP <= g.balance_after <= low
    assert len({g.station_id for g in plan.grants}) == len(plan.grants)
    for e in plan.should_release:
        assert high is not None and e.balance > high and e.excess == e.balance - high
    if high is not None:
        assert {e.station_id for e in plan.should_release} == {
            a.station_id for a in accounts if a.balance > high}


@settings(max_examples=300, deadline=None)
@given(escrow())
def test_units_are_only_moved_so_the_cap_still_holds(case):
    accounts, pool, low, high = case
    assert all(a.balance >= 0 for a in accounts) and pool >= 0
    plan = plan_rebalance(pool, accounts, low, high)
    after = granted_to(accounts, plan)
    n = sum(a.counter_laptops for a in accounts)
    c = sum(a.courier_laptops for a in accounts)
    # the pool is still sum(R) - sum(G), and sum(B) + POOL = N - 3C: units moved, never made
    assert plan.pool_after == (sum(a.released_units for a in after)
                               - sum(a.granted_units for a in after))
    assert sum(a.balance for a in after) + plan.pool_after == n - 3 * c
    # every B >= 0 and POOL >= 0, so the 25% cap holds: 3 x sum(C) <= sum(N)
    assert all(a.balance >= 0 for a in after) and plan.pool_after >= 0
    assert 3 * c <= n


@settings(max_examples=300, deadline=None)
@given(escrow(allow_overrun=True))
def test_when_the_pool_is_short_the_left_over_covers_no_waiting_station(case):
    accounts, pool, low, high = case
    plan = plan_rebalance(pool, accounts, low, high)
    by_id = {a.station_id: a for a in accounts}
    given_ = grants(plan)
    for s in plan.shortfalls:
        assert s.next_step > plan.pool_after  # nothing left that would let it courier
        assert s.balance + s.short_by == low
    # a busier station goes without only when its first step cost more than what a quieter
    # one was given
    starved = [by_id[s.station_id] for s in plan.shortfalls if s.station_id not in given_]
    for s in starved:
        for g in plan.grants:
            if g.demand < s.demand:
                assert next_step(g.balance_before, low) < next_step(s.balance, low)
    # the waiting stations are exactly those with demand below the mark after the plan
    assert {s.station_id for s in plan.shortfalls} == {
        a.station_id for a in accounts
        if a.demand > 0 and a.balance + given_.get(a.station_id, 0) < low}


@settings(max_examples=200, deadline=None)
@given(escrow(allow_overrun=True), st.randoms(use_true_random=False))
def test_a_plan_settles_and_does_not_depend_on_the_order_of_the_stations(case, rnd):
    accounts, pool, low, high = case
    plan = plan_rebalance(pool, accounts, low, high)
    shuffled = list(accounts)
    rnd.shuffle(shuffled)
    assert plan_rebalance(pool, shuffled, low, high) == plan
    again = plan_rebalance(plan.pool_after, granted_to(accounts, plan), low, high)
    assert again.grants == () and again.pool_after == plan.pool_after
