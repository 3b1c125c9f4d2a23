"""app.reports.recovered: what events fetched back after a restore add to the reports."""

from __future__ import annotations

from app.domain import events
from app.reports.recovered import RecoveredEvent, fold, tags_of

TYPES = {"OLD-1": "laptop", "NEW-1": "laptop", "DSK-1": "desktop", "DSK-2": "desktop",
         "DSK-3": "desktop", "OLD-2": "laptop", "NEW-2": "laptop"}


def event(seq: int, kind: str, at: str, **payload) -> RecoveredEvent:
    return RecoveredEvent(seq, kind, payload, "E1", f"2026-11-25T{at}:00+00:00")


def exchange(seq: int, at: str, person: str, returned=(), issued=(), courier=False,
             tasks=(), awaiting=(), exceptions=()) -> RecoveredEvent:
    return event(seq, events.EXCHANGE_RECORDED, at, exchange_id=f"X{seq}", person=person,
                 site="Hutton HQ", returned=list(returned), issued=list(issued), lost=[],
                 courier=courier, reclamation_tasks=list(tasks),
                 awaiting_collection=list(awaiting), exceptions=list(exceptions))


def test_exchanges_tasks_collections_releases_and_operators_are_folded_in_order():
    recovered = [
        exchange(9, "09:00", "P1", returned=["OLD-1"], issued=["NEW-1"], tasks=["DSK-2"],
                 exceptions=[{"rule": "R3", "reason": "unknown return", "authorised_by": "L1"}]),
        exchange(10, "09:10", "P2", returned=["DSK-1"]),  # a task raised before the copy
        exchange(11, "09:20", "P3", returned=["OLD-2"], issued=["NEW-2"], courier=True,
                 awaiting=["OLD-2"]),
        event(12, events.COURIER_COLLECTED, "09:30", exchange_id="X5", collected="OLD-9"),
        event(13, events.DESKTOP_RECLAIMED, "09:40", tag="DSK-2", **{"from": "P1"}),
        event(14, events.DEVICE_RELEASED, "09:50", released="OLD-8", route="weee",
              released_at="2026-11-25T09:50:00+00:00"),
        event(15, events.OPERATOR_ADDED, "10:00", staff_id="E2", name="Ed Extra",
              role="engineer"),
        exchange(16, "10:10", "P4", returned=["DSK-3"], courier=True),  # courier: task stays
    ]
    out = fold(recovered, TYPES, open_before={"DSK-1", "DSK-3"})
    assert [(x.exchange_id, x.courier, x.raised) for x in out.exchanges] == [
        ("X9", False, 1), ("X10", False, 0), ("X11", True, 0), ("X16", True, 0)]
    assert out.exchanges[0].items == (("returned", "OLD-1"), ("issued", "NEW-1"))
    assert out.closures == [("DSK-1", "2026-11-25T09:10:00+00:00"),
                            ("DSK-2", "2026-11-25T09:40:00+00:00")]
    assert out.closed_here == {"DSK-1"} and out.still_open == set()
    assert out.awaited == {("X11", "OLD-2"): ("P3", "Hutton HQ", "2026-11-25")}
    assert out.collected_here == {("X5", "OLD-9")}  # awaited by an exchange before the copy
    assert out.releases == [("weee", "2026-11-25")] and out.names == {"E2": "Ed Extra"}
    assert tags_of(recovered) == {"OLD-1", "NEW-1", "DSK-1", "OLD-2", "NEW-2", "DSK-3"}


def test_a_task_raised_by_a_recovered_exchange_and_never_closed_stays_open():
    out = fold([exchange(9, "09:00", "P1", issued=["NEW-1"], tasks=["DSK-2"])], TYPES, set())
    assert out.still_open == {"DSK-2"} and out.closures == [] and out.closed_here == set()


def test_a_courier_collection_of_a_recovered_exchange_settles_it():
    out = fold([exchange(9, "09:00", "P3", returned=["OLD-2"], issued=["NEW-2"], courier=True,
                         awaiting=["OLD-2"]),
                event(10, events.COURIER_COLLECTED, "11:00", exchange_id="X9", collected="OLD-2")],
               TYPES, set())
    assert out.awaited == {} and out.collected_here == set()
