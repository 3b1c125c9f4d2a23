"""What a station sends with each event about what it had seen of central (SYNC.md 2.5)."""

import json

from app.sync.outbox import OutboxEvent


def event(seen: str | None) -> OutboxEvent:
    return OutboxEvent(7, "e-7", "device.received", 1, '{"tag":"A"}', "ab", "E1",
                       "2026-11-26T09:00:00+00:00", seen)


def test_an_event_says_when_its_station_had_last_synced_or_that_it_never_had():
    for seen in ("2026-11-26T08:55:00+00:00", None):
        wire = json.loads(event(seen).wire_json())
        assert wire["expected"] == {"central_seen_at": seen}
        assert wire == event(seen).as_wire()


def test_an_event_recorded_before_stations_kept_it_says_nothing():
    """Local migration 0005 marks older events '': they go with `expected` null, which the
    Conflicts screen shows as an empty cell, not as "never"."""
    assert json.loads(event("").wire_json())["expected"] is None
    assert event("").as_wire()["expected"] is None
