"""The organisation's time zone, in one place (config ALONGSIDE_TIMEZONE, read by create_app): times are stored
naive UTC and shown or scheduled in this zone. `LocalTimes` formats many stored times fast (CSV exports): the
offset is looked up once per quarter hour of UTC (every zone's transitions fall on a quarter hour), not per row."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

_name = "Europe/London"


def configure(name: str) -> None:
    """Set the zone (create_app); checked, so a typo fails at start-up rather than at the first reminder."""
    global _name
    ZoneInfo(name)
    _name = name


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    return _zone(_name)


def parse_stored(value) -> dt.datetime | None:
    """A stored time as a naive UTC datetime: SQLite gives text ("2026-11-20 10:00:00[.ffffff]"), aggregates
    too; PostgreSQL gives datetimes."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def to_local(value) -> dt.datetime | None:
    """Stored naive UTC (or its text) -> aware local time."""
    value = parse_stored(value)
    return None if value is None else value.replace(tzinfo=dt.UTC).astimezone(zone())


def to_utc(value: dt.datetime) -> dt.datetime:
    """Aware -> naive UTC; naive is local wall-clock time. A wall-clock time that does not exist (the March
    gap) lands just after the gap."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone()).astimezone(dt.UTC).astimezone(zone())
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    return dt.datetime.now(zone()).date()


class LocalTimes:
    """Stored times -> local ISO 8601 text with offset ("2026-11-20T10:00:00+00:00"), exactly as
    to_local(value).isoformat(timespec="seconds"), at a fraction of the cost."""

    def __init__(self):
        self.zone = zone()
        self._offsets: dict = {}
        self._prefixes: dict = {}  # SQLite text by quarter hour -> (local "YYYY-MM-DDTHH", offset text) or None

    def _offset(self, utc: dt.datetime) -> tuple[dt.timedelta, str]:
        key = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
        found = self._offsets.get(key)
        if found is None:
            offset = key.replace(tzinfo=dt.UTC).astimezone(self.zone).utcoffset()
            seconds = int(offset.total_seconds())
            sign = "-" if seconds < 0 else "+"
            hours, minutes = divmod(abs(seconds) // 60, 60)
            found = self._offsets[key] = (offset, f"{sign}{hours:02d}:{minutes:02d}")
        return found

    def _prefix(self, value: str):
        """The local date and hour for this quarter hour, when the offset is whole hours (then minutes and
        seconds carry over unchanged); None otherwise (half-hour zones take the datetime path)."""
        utc = parse_stored(value[:19])
        offset, text = self._offset(utc)
        if offset.total_seconds() % 3600:
            return None
        return (utc + offset).isoformat(timespec="hours"), text

    def local(self, value) -> dt.datetime | None:
        """Naive local wall-clock time (for a date and a time column)."""
        utc = parse_stored(value)
        return None if utc is None else utc + self._offset(utc)[0]

    def iso(self, value) -> str:
        if type(value) is str and len(value) >= 19 and value[10] == " ":  # SQLite's text: string work only
            key = value[:14] + "0123"[int(value[14:16]) // 15]
            found = self._prefixes.get(key, False)
            if found is False:
                found = self._prefixes[key] = self._prefix(value)
            if found is not None:
                return found[0] + value[13:19] + found[1]
        utc = parse_stored(value)
        if utc is None:
            return ""
        offset, text = self._offset(utc)
        return (utc + offset).isoformat(timespec="seconds") + text
