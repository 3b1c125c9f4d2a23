"""A day at the counter, shared by the report tests."""

from __future__ import annotations

import pytest

from app.services import auth, demo, sanitisation, stock
from app.services.exchanges import ExchangeCommand, OverrideRequest, record_exchange
from tests.conftest import PINS, SITE


@pytest.fixture
def day(station):
    """A day at the counter: swaps, an override, a courier swap, a reclamation, a release."""
    ctx = station.context
    admin, engineer, lead = (auth.sign_in(ctx, s, PINS[s]) for s in ("A1", "E1", "L1"))
    demo.load_demo(ctx, admin, SITE)
    stock.receive(ctx, engineer, "NEW-09001", "SN-9001", "laptop", "Latitude 5440", "Windows 11")
    swap = lambda person, old, new, **kw: record_exchange(ctx, engineer, ExchangeCommand(  # noqa: E731
        person, returned=(old,) if old else (), issued=(new,), at_confirmed=True, **kw))
    swap("P1001", "OLD-00001", "NEW-00001")
    swap("P1002", "OLD-00002", "NEW-00002")
    swap("P1004", "OLD-00004", "NEW-00004")       # P1004 also has sole-use DSK-00004: R4
    swap("P1006", "OLD-00006", "NEW-00006")
    swap("P1007", "OLD-00007", "NEW-00031")       # a tablet for a tablet
    swap("P1008", None, "NEW-00008", override=OverrideRequest("laptop stolen, crime ref 42/77",
                                                              "L1", PINS["L1"]))
    swap("P1003", "OLD-00003", "NEW-00003", courier=True)   # P1003 is shielding
    stock.reclaim(ctx, engineer, "DSK-00004")
    sanitisation.record_known_disks(ctx, engineer, "OLD-00001", ("WD-1234",))
    sanitisation.certify_manual(ctx, engineer, "OLD-00001", "destruction", "HDD crusher",
                                "DC-1", ("WD-1234",), sanitisation.Validation("L1", PINS["L1"]))
    sanitisation.release(ctx, lead, "OLD-00001", "weee", "Essex WEEE Ltd", transfer_note="WTN-1")
    return station, lead
