"""Stored times as the screens show them (app/ui/when.py)."""

from datetime import datetime, timezone

from app.ui.when import short_time


def test_a_stored_time_reads_as_day_month_and_minutes_in_local_time():
    year = datetime.now().year
    stored = datetime(year, 11, 5, 9, 7, 30, tzinfo=timezone.utc)
    local = stored.astimezone()
    assert short_time(stored.isoformat()) == f"{local.day} {local:%b} {local:%H:%M}"
    assert short_time(f"{year}-11-05T09:07:30") == "5 Nov 09:07"  # no offset: as written
    assert short_time(f"{year}-11-05") == "5 Nov"  # a date alone


def test_a_time_of_another_year_says_the_year():
    assert short_time(f"{datetime.now().year - 1}-02-01T10:00:00") == (
        f"1 Feb {datetime.now().year - 1} 10:00")


def test_nothing_or_an_odd_value_never_fails():
    assert short_time(None) == "never"
    assert short_time("", "—") == "—"
    assert short_time("not a time") == "not a time"
