"""server/local_time.py: the one time zone, and the fast formatter the CSV exports use, which must give exactly
what converting each time on its own gives, across clock changes and in zones with half-hour offsets."""

from __future__ import annotations

import datetime as dt

import pytest

from server import local_time


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_fast_formatting_is_the_same_as_converting_each_time(zone):
    local_time.configure(zone)
    try:
        times = local_time.LocalTimes()
        start = dt.datetime(2026, 1, 1)
        step = dt.timedelta(minutes=7, seconds=13, microseconds=1)
        value = start
        while value < dt.datetime(2027, 1, 1):
            expected = local_time.to_local(value).isoformat(timespec="seconds")
            assert times.iso(value) == expected, value
            assert times.iso(str(value)) == expected  # SQLite hands times back as text
            assert times.local(value) == local_time.to_local(value).replace(tzinfo=None)
            value += step * 31  # about every 3.7 hours, drifting through every minute of the hour
        edges = (dt.datetime(2026, 3, 29, 0, 59, 59), dt.datetime(2026, 3, 29, 1, 0), dt.datetime(2026, 10, 25, 0, 59),
                 dt.datetime(2026, 10, 25, 1, 0), dt.datetime(2026, 4, 4, 15, 29), dt.datetime(2026, 4, 4, 15, 30))
        for edge in edges:
            assert times.iso(edge) == times.iso(str(edge)) == local_time.to_local(edge).isoformat(timespec="seconds")
        assert times.iso(None) == "" and local_time.to_local(None) is None
    finally:
        local_time.configure("Europe/London")


def test_an_unknown_zone_fails_at_once():
    with pytest.raises(Exception):  # noqa: B017 - zoneinfo raises its own not-found error
        local_time.configure("Europe/Lndon")
    assert local_time.zone().key == "Europe/London"
