"""Scheduling rules for reminders to people supported (no Flask, no sending here). The sync engine calls
visits_changed() inside its write transaction for the people whose visits were created, changed or
deleted; this module creates, moves or cancels those people's visit reminders and applies quiet hours.

Times are stored naive UTC; local wall-clock rules (18:00 the evening before, quiet hours) are worked out
in the organisation's time zone (server/local_time.py) with zoneinfo, so they hold across
the clock changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .. import local_time
from ..db import utcnow
from ..local_time import to_local, to_utc  # noqa: F401 - used here and by the package
from ..models import Person, Reminder, ReminderSetting, Visit
from .settings import Settings, organisation_row, organisation_settings, parse_hhmm, settings_for

VISIT_KINDS = ("visit_evening", "visit_soon")
GOAL_KIND = "goal_step"
OPEN_STATUSES = ("pending",)
DONE_STATUSES = ("queued", "sending", "sent")  # handed to the outbox (or sent before 0060): never again
CREATE_GRACE = dt.timedelta(minutes=1)  # planned this long ago is still created (sent at once)

def zone() -> ZoneInfo:
    return local_time.zone()


def local_at(day: dt.date, hhmm: str) -> dt.datetime:
    """Naive UTC of a wall-clock time on a local date."""
    return to_utc(dt.datetime.combine(day, parse_hhmm(hhmm)))


def in_quiet_hours(local_time: dt.time, start: str, end: str) -> bool:
    s, e = parse_hhmm(start), parse_hhmm(end)
    t = local_time.replace(second=0, microsecond=0, tzinfo=None)
    if s == e:
        return False
    if s < e:
        return s <= t < e
    return t >= s or t < e  # wraps midnight, e.g. 21:00-08:00


def apply_quiet_hours(send_at: dt.datetime, settings: Settings) -> dt.datetime:
    """A reminder that falls in quiet hours moves to their end (local), whatever the date's UTC offset."""
    local = to_local(send_at)
    if not in_quiet_hours(local.timetz(), settings.quiet_hours_start, settings.quiet_hours_end):
        return send_at
    day = local.date()
    if local.time().replace(tzinfo=None) >= parse_hhmm(settings.quiet_hours_end):
        day = day + dt.timedelta(days=1)  # after the start, before midnight: the end is tomorrow
    return local_at(day, settings.quiet_hours_end)


def visit_body(visit_at: dt.datetime, send_at: dt.datetime) -> str:
    """"Reminder: your visit is tomorrow at 10:00", in local time, as read at `send_at`."""
    visit_local, send_local = to_local(visit_at), to_local(send_at)
    clock = visit_local.strftime("%H:%M")
    days = (visit_local.date() - send_local.date()).days
    if days == 0:
        return f"Reminder: your visit is today at {clock}"
    if days == 1:
        return f"Reminder: your visit is tomorrow at {clock}"
    return (f"Reminder: your visit is on {visit_local.strftime('%A')} {visit_local.day} "
            f"{visit_local.strftime('%B')} at {clock}")


@dataclass(frozen=True)
class Planned:
    kind: str
    send_at: dt.datetime  # naive UTC
    body: str


def plan_visit_reminders(visit_at: dt.datetime, settings: Settings) -> list[Planned]:
    """The reminders for a visit at `visit_at` (naive UTC). Pure: no database, no clock."""
    planned = []
    if settings.evening_before:
        day_before = to_local(visit_at).date() - dt.timedelta(days=1)
        planned.append(("visit_evening", local_at(day_before, settings.evening_time)))
    if settings.hours_before and settings.hours_before > 0:
        planned.append(("visit_soon", visit_at - dt.timedelta(hours=settings.hours_before)))
    result = []
    for kind, send_at in planned:
        send_at = apply_quiet_hours(send_at, settings)
        if send_at < visit_at:  # quiet hours pushed it past the visit itself: no use sending it
            result.append(Planned(kind, send_at, visit_body(visit_at, send_at)))
    return result


# --- keeping the reminders table in line with the visits -------------------------------------

def naive_utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def next_visit(person: Person, now: dt.datetime | None = None):
    """The visit whose next_visit_at counts: among the person's visits with a future next visit, the one
    logged for the latest date (a later log that moves the next visit wins)."""
    now = now or utcnow()
    return (Visit.select()
            .where((Visit.person == person.id) & (Visit.deleted == False)  # noqa: E712 - peewee
                   & Visit.next_visit_at.is_null(False) & (Visit.next_visit_at > now))
            .order_by(Visit.started_at.desc(), Visit.updated_at.desc(), Visit.id.desc())
            .first())


def refresh_person(person: Person, now: dt.datetime | None = None) -> dict:
    """Create, move or cancel this person's visit reminders so they match their next visit. Call inside
    a write transaction. Returns counts (created, moved, cancelled)."""
    now = now or utcnow()
    counts = {"created": 0, "moved": 0, "cancelled": 0}
    desired: dict[tuple[int, str], tuple[Planned, dt.datetime]] = {}
    if person.reminders_opt_in and person.status != "closed":
        visit = next_visit(person, now)
        if visit is not None:
            visit_at = naive_utc(visit.next_visit_at)
            for plan in plan_visit_reminders(visit_at, settings_for(person)):
                desired[(visit.id, plan.kind)] = (plan, visit_at)
    existing = list(Reminder.select()
                    .where((Reminder.person == person.id) & Reminder.kind.in_(VISIT_KINDS)
                           & Reminder.status.in_(OPEN_STATUSES + DONE_STATUSES))
                    .order_by(Reminder.id))
    kept = set()
    for reminder in existing:
        key = (reminder.visit_id, reminder.kind)
        plan, visit_at = desired.get(key, (None, None))
        if reminder.status != "pending":
            if plan is not None and reminder.send_at == plan.send_at:
                kept.add(key)  # already on its way or sent for this very time: never twice
            continue
        if plan is None or key in kept:
            reminder.status = "cancelled"
            reminder.save(only=[Reminder.status])
            counts["cancelled"] += 1
            continue
        kept.add(key)
        if (reminder.send_at, reminder.body, reminder.visit_at) != (plan.send_at, plan.body, visit_at):
            reminder.send_at, reminder.body, reminder.visit_at = plan.send_at, plan.body, visit_at
            reminder.save(only=[Reminder.send_at, Reminder.body, Reminder.visit_at])
            counts["moved"] += 1
    for (visit_id, kind), (plan, visit_at) in desired.items():
        if (visit_id, kind) in kept or plan.send_at < now - CREATE_GRACE:
            continue
        Reminder.create(person=person.id, kind=kind, visit=visit_id, body=plan.body, send_at=plan.send_at,
                        visit_at=visit_at)
        counts["created"] += 1
    return counts


def visits_changed(person_ids) -> None:
    """Called by the sync engine inside its write transaction, once per batch, with the people whose visits
    were created, changed or deleted: their visit reminders follow their next visit. Only people who opted
    in are read: withdrawing cancels every pending reminder, so for anyone else there is nothing to move or
    cancel. The sync engine calls this holding the change-counter lock, which withdrawing takes too (a new
    rev on the person), so a withdrawal is never missed."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    # Who opted in, by id alone first: few have, and a whole person's row is costly to ask for on every push.
    opted = [pid for (pid,) in Person.select(Person.id).where(
        Person.id.in_(ids) & (Person.reminders_opt_in == True)).tuples()]  # noqa: E712 - peewee
    if not opted:
        return
    for person in Person.select().where(Person.id.in_(opted)).order_by(Person.id):
        refresh_person(person)


def reapply_quiet_hours(person: Person) -> int:
    """Goal-step reminders keep their time unless it now falls in the person's quiet hours."""
    settings, moved = settings_for(person), 0
    for reminder in (Reminder.select()
                     .where((Reminder.person == person.id) & (Reminder.kind == GOAL_KIND)
                            & (Reminder.status == "pending"))):
        later = apply_quiet_hours(reminder.send_at, settings)
        if later != reminder.send_at:
            reminder.send_at = later
            reminder.save(only=[Reminder.send_at])
            moved += 1
    return moved


def cancel_pending(person: Person) -> int:
    """Every pending reminder for this person is cancelled (they stopped reminders)."""
    return (Reminder.update(status="cancelled")
            .where((Reminder.person == person.id) & (Reminder.status == "pending"))
            .execute())


def update_settings(person: Person | None, by=None, **values) -> Settings:
    """Save organisation (person=None) or per-person settings; call inside a write transaction. A person's
    quiet hours are kept on Person itself. Pending reminders follow at once."""
    values = {k: v for k, v in values.items() if k in Settings.__dataclass_fields__}
    if person is not None and ("quiet_hours_start" in values or "quiet_hours_end" in values):
        person.quiet_hours_start = values.pop("quiet_hours_start", person.quiet_hours_start)
        person.quiet_hours_end = values.pop("quiet_hours_end", person.quiet_hours_end)
        person.save(only=[Person.quiet_hours_start, Person.quiet_hours_end])
    if values or person is None:
        row = organisation_row() if person is None else ReminderSetting.get_or_none(ReminderSetting.person == person)
        row = row or ReminderSetting(person=person)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at, row.updated_by = utcnow(), by
        row.save()
    people = [person] if person is not None else \
        Person.select().where(Person.reminders_opt_in == True)  # noqa: E712 - peewee
    for someone in people:
        refresh_person(someone)
        reapply_quiet_hours(someone)
    return settings_for(person) if person is not None else organisation_settings()
