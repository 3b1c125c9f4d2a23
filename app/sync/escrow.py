"""The courier cap across stations as an escrow of whole units (SYNC.md 2.6).

A station's balance is B = N - 3C + G - R (counter laptops, courier laptops, granted and
released units); it may courier a laptop while B >= 3. Central's pool is
POOL = sum(R) - sum(G) >= 0, so sum(B) + POOL = N - 3C and the 25% cap holds at every point.

- A *release* is an event of the giving station: it debits itself first, in the same local
  transaction, and the units reach the pool when the event is pushed.
- A *grant* debits the pool at central under its CHECK (balance >= 0); the station can spend
  it only once it has pulled it. Units are never reclaimed from an offline station.
"""

from __future__ import annotations

from sqlalchemy import update

from app.domain import events
from app.domain.people import Operator, Permission
from app.domain.rules import BadInput
from app.persistence.models import StationRow
from app.services.context import ServiceContext
from app.services.station import courier_allowance
from app.sync import central


def release_units(ctx: ServiceContext, actor: Operator, units: int) -> dict:
    """Give `units` of this station's courier allowance back to central's pool."""
    actor.require(Permission.OVERRIDE)
    if units <= 0:
        raise BadInput("release a positive number of units")
    with ctx.uow_factory() as uow:
        balance = courier_allowance(uow).balance
        if units > balance:
            raise BadInput(f"this station holds {balance} units; it cannot release {units}")
        uow.session.execute(update(StationRow).values(
            released_units=StationRow.released_units + units))
        recorded = uow.record(events.DomainEvent(events.ESCROW_RELEASED, {"units": units}),
                              actor.staff_id)
        uow.commit()
    return {"released": units, "balance": balance - units, "event_id": recorded.event_id}


def grant_units(central_url: str, station_id: str, units: int, granted_by: str) -> int:
    """Central admin: move `units` from the pool to `station_id`; returns the pool left."""
    import psycopg

    conn = central.connect(central_url, application_name="escrow-grant")
    try:
        with conn.transaction():
            return conn.execute("SELECT escrow_grant(%s, %s, %s)",
                                (station_id, units, granted_by)).fetchone()[0]
    except psycopg.errors.CheckViolation:
        raise BadInput(f"the pool holds fewer than {units} units: "
                       f"{pool_balance(central_url)} are free") from None
    except psycopg.Error as exc:
        from app.sync.push import central_error

        raise central_error("the grant", exc) from None
    finally:
        conn.close()


def pool_balance(central_url: str) -> int:
    with central.connect(central_url, application_name="escrow-pool") as conn:
        return conn.execute("SELECT balance FROM escrow_pool").fetchone()[0]
