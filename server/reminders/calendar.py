"""The next visit as an iCalendar file (RFC 5545) for the person's own page: any phone's calendar can
remind them, with no push at all. It says "Visit" and nothing else: no name, no place, no health word."""

from __future__ import annotations

import datetime as dt

from ..db import utcnow
from ..models import Person
from .schedule import naive_utc, next_visit

SUMMARY = "Visit"
DESCRIPTION = "Your visit, as arranged. To change it, contact your peer worker."
DURATION_MINUTES = 60


def next_visit_time(person: Person) -> dt.datetime | None:
    visit = next_visit(person)
    return naive_utc(visit.next_visit_at) if visit is not None else None


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def next_visit_ics(person: Person, host: str) -> bytes | None:
    """The file, or None when no visit is planned. UTC times (every calendar shows them in local time)."""
    visit = next_visit(person)
    if visit is None:
        return None
    start = naive_utc(visit.next_visit_at)
    end = start + dt.timedelta(minutes=DURATION_MINUTES)
    domain = "".join(c for c in (host or "alongside").split(":")[0] if c.isalnum() or c in ".-") or "alongside"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Alongside//Reminders//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:visit-{visit.uuid}@{domain}",
        f"DTSTAMP:{_stamp(utcnow())}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
        f"SUMMARY:{SUMMARY}",
        f"DESCRIPTION:{DESCRIPTION.replace(',', chr(92) + ',')}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{SUMMARY}",
        "TRIGGER:-PT2H",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
