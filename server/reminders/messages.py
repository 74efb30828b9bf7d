"""The reminders' message templates, registered with the channel layer: what a person supported's phone
shows, built only from the visit's time or the goal template's id. Also how long each stays true."""

from __future__ import annotations

import datetime as dt

from ..notify.templates import Template, datetime_value, register
from .goals import MESSAGE_TEXT
from .schedule import to_local, to_utc, visit_body


def _visit_text(values: dict) -> str:
    visit_at = datetime_value(values, "visit_at")
    read_at = values["_context"].get("due_at") or values["_context"].get("now") or visit_at
    return visit_body(visit_at, read_at)


register(Template(id="visit_reminder", values={"visit_at": "datetime"}, text=_visit_text))
register(Template(id="goal_step", values={"variant": "choice:" + "|".join(MESSAGE_TEXT)},
                  text=lambda v: MESSAGE_TEXT[v["variant"]]))
register(Template(id="reminders_on", values={},
                  text=lambda v: "Reminders from Alongside are on. We will send you a message before your visits.",
                  subject="Reminders from Alongside are on"))


def expiry_and_urgency(reminder, now: dt.datetime) -> tuple[dt.datetime, str]:
    """Keep a message only while its words are still true: an evening reminder until local midnight, a
    "soon" reminder until the visit, a goal step for six hours."""
    start = max(reminder.send_at, now)
    if reminder.kind == "visit_evening":
        local = to_local(start)
        return to_utc(dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0, 0))), "normal"
    if reminder.kind == "visit_soon":
        until = reminder.visit_at or start + dt.timedelta(hours=2)
        return max(until, start + dt.timedelta(minutes=5)), "high"
    return start + dt.timedelta(hours=6), "normal"


def template_for(reminder) -> tuple[str, dict]:
    if reminder.kind in ("visit_evening", "visit_soon") and reminder.visit_at is not None:
        return "visit_reminder", {"visit_at": reminder.visit_at}
    variant = reminder.template if reminder.template in MESSAGE_TEXT else "custom"
    return "goal_step", {"variant": variant}
