"""Opening times as data: a resource keeps a list of Open Referral UK schedules (weekly days with opening and
closing times). The coordinator form edits one opening span per weekday; anything else an import brought
(monthly rules, a second span in a day, dates of validity) is kept as it came and shown as such."""

from __future__ import annotations

import json
import re

from .shape import conform, node_at

DAYS = (("MO", "Monday"), ("TU", "Tuesday"), ("WE", "Wednesday"), ("TH", "Thursday"), ("FR", "Friday"),
        ("SA", "Saturday"), ("SU", "Sunday"))
DAY_CODES = tuple(code for code, _ in DAYS)
TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?\Z")
FORM_KEYS = {"id", "freq", "interval", "byday", "opens_at", "closes_at"}


class ScheduleError(ValueError):
    pass


def load(text: str) -> list[dict]:
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return []
    return items if isinstance(items, list) else []


def dump(items: list[dict]) -> str:
    return json.dumps(items, separators=(",", ":"), sort_keys=True)


def _weekly_days(item: dict) -> list[str] | None:
    """The days of a plain weekly span the form can show, or None."""
    if set(item) - FORM_KEYS or item.get("freq", "WEEKLY") != "WEEKLY" or item.get("interval", 1) != 1:
        return None
    days = [d.strip().upper() for d in str(item.get("byday", "")).split(",") if d.strip()]
    if not days or any(d not in DAY_CODES for d in days):
        return None
    if not (TIME.match(str(item.get("opens_at", ""))) and TIME.match(str(item.get("closes_at", "")))):
        return None
    return days


def split_for_form(items: list[dict]) -> tuple[dict, list[dict]]:
    """({day: (opens, closes)}, the items the form cannot show)."""
    week, others = {}, []
    for item in items:
        days = _weekly_days(item)
        if days is None or any(d in week for d in days):
            others.append(item)
            continue
        for day in days:
            week[day] = (item["opens_at"][:5], item["closes_at"][:5])
    return week, others


def from_form(form, current: list[dict]) -> list[dict]:
    """The schedules from the weekday fields; days with the same times share one weekly schedule.
    Items the form could not show are kept."""
    spans: dict[tuple[str, str], list[str]] = {}
    for code, label in DAYS:
        opens, closes = (form.get(f"opens_{code}") or "").strip(), (form.get(f"closes_{code}") or "").strip()
        if not opens and not closes:
            continue
        if not (TIME.match(opens) and TIME.match(closes)):
            raise ScheduleError(f"{label}: give both an opening and a closing time, like 09:30 and 16:00.")
        if closes <= opens:
            raise ScheduleError(f"{label}: the closing time must be after the opening time.")
        spans.setdefault((opens[:5] + ":00", closes[:5] + ":00"), []).append(code)  # hh:mm:ss, as tables want
    weekly = [{"freq": "WEEKLY", "interval": 1, "byday": ",".join(days), "opens_at": opens, "closes_at": closes}
              for (opens, closes), days in spans.items()]
    return weekly + split_for_form(current)[1]


def from_import(items) -> tuple[list[dict], str, list[str]]:
    """An imported service's schedules: (schedules kept as data, the free-text opening hours, left out).
    A schedule that holds only a description is the free text."""
    kept, text, dropped = [], "", []
    for i, item in enumerate(items if isinstance(items, list) else []):
        item = conform(item, node_at("schedules"), f"schedules[{i}]", dropped)
        if item is None:
            continue
        item.pop("service_id", None)
        item.pop("service_at_location_id", None)
        if set(item) <= {"id", "description"}:
            if not text and item.get("description"):
                text = item["description"]
                continue
        kept.append(item)
    return kept, text, dropped


def describe(items: list[dict]) -> str:
    """Plain words for a list page: "Mon, Tue 09:00-17:00"."""
    week, others = split_for_form(items)
    by_span: dict[tuple, list[str]] = {}
    for code in DAY_CODES:
        if code in week:
            by_span.setdefault(week[code], []).append(dict(DAYS)[code][:3])
    words = [f"{', '.join(days)} {opens}-{closes}" for (opens, closes), days in by_span.items()]
    if others:
        words.append(f"{len(others)} more as imported")
    return "; ".join(words)
