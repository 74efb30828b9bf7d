"""Scheduling rules for reminders to people supported (no Flask, no pywebpush here).
sync.apply_batch() calls visits_changed() inside its write transaction for the people whose visits
were created, changed or deleted; this module creates, moves or cancels that person's visit reminders, adds
goal-step reminders from safe templates, applies quiet hours, and reports consent state.

Times are stored naive UTC; local wall-clock rules (18:00 the evening before, quiet hours) are worked
out in the organisation's time zone with zoneinfo, so they hold across the clock changes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from .db import utcnow
from .models import (
    Consent,
    Goal,
    Person,
    PushSubscription,
    Reminder,
    ReminderDevice,
    ReminderSetting,
    Visit,
)

VISIT_KINDS = ("visit_evening", "visit_soon")
GOAL_KIND = "goal_step"
OPEN_STATUSES = ("pending", "sending")
CONSENT_TEXT_VERSION = "2026-11-r1"
CUSTOM_TEXT_MAX = 60
# A reminder planned less than this long ago is still created (the dispatcher sends it at once).
CREATE_GRACE = dt.timedelta(minutes=1)

_timezone = "Europe/London"


def configure(timezone: str) -> None:
    """The organisation's time zone (from config at start-up); checked here so a typo fails loudly."""
    global _timezone
    ZoneInfo(timezone)
    _timezone = timezone


def zone() -> ZoneInfo:
    return ZoneInfo(_timezone)


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    evening_before: bool = True
    evening_time: str = "18:00"
    hours_before: int = 2  # 0 = no "soon" reminder
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"


DEFAULTS = Settings()
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def valid_hhmm(value: str | None) -> bool:
    return isinstance(value, str) and bool(_HHMM.match(value))


def _parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def _overlay(base: Settings, row) -> Settings:
    if row is None:
        return base
    changes = {}
    for name in ("evening_before", "evening_time", "hours_before", "quiet_hours_start", "quiet_hours_end"):
        value = getattr(row, name, None)
        if value is not None:
            changes[name] = value
    return replace(base, **changes)


def organisation_row():
    return ReminderSetting.select().where(ReminderSetting.person.is_null()).order_by(ReminderSetting.id).first()


def organisation_settings() -> Settings:
    return _overlay(DEFAULTS, organisation_row())


def settings_for(person: Person) -> Settings:
    """Built-in defaults <- organisation row <- the person's row <- the person's own quiet hours."""
    settings = organisation_settings()
    settings = _overlay(settings, ReminderSetting.get_or_none(ReminderSetting.person == person.id))
    if person.quiet_hours_start and person.quiet_hours_end:
        settings = replace(settings, quiet_hours_start=person.quiet_hours_start,
                           quiet_hours_end=person.quiet_hours_end)
    return settings


def update_settings(person: Person | None, by=None, **values) -> Settings:
    """Save organisation (person=None) or per-person settings; call inside a write transaction.
    Quiet hours for a person are kept on Person itself. Pending reminders follow at once."""
    values = {k: v for k, v in values.items() if k in Settings.__dataclass_fields__}
    if person is not None and ("quiet_hours_start" in values or "quiet_hours_end" in values):
        person.quiet_hours_start = values.pop("quiet_hours_start", person.quiet_hours_start)
        person.quiet_hours_end = values.pop("quiet_hours_end", person.quiet_hours_end)
        person.save(only=[Person.quiet_hours_start, Person.quiet_hours_end])
    if values or person is None:
        row = organisation_row() if person is None else ReminderSetting.get_or_none(ReminderSetting.person == person)
        if row is None:
            row = ReminderSetting(person=person)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        row.updated_by = by
        row.save()
    if person is not None:
        refresh_person(person)
        reapply_quiet_hours(person)
        return settings_for(person)
    for someone in Person.select().where(Person.reminders_opt_in == True):  # noqa: E712 - peewee
        refresh_person(someone)
        reapply_quiet_hours(someone)
    return organisation_settings()


# --- time arithmetic ----------------------------------------------------------------------------

def to_local(utc_naive: dt.datetime) -> dt.datetime:
    return utc_naive.replace(tzinfo=dt.UTC).astimezone(zone())


def to_utc(value: dt.datetime) -> dt.datetime:
    """Aware -> naive UTC; naive is taken as local wall-clock time in the organisation's zone.
    A wall-clock time that does not exist (the March gap) lands just after the gap."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone())
        # round-trip through UTC: a time in the spring-forward gap comes back moved forward
        value = value.astimezone(dt.UTC).astimezone(zone())
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def local_at(day: dt.date, hhmm: str) -> dt.datetime:
    """Naive UTC of a wall-clock time on a local date."""
    return to_utc(dt.datetime.combine(day, _parse_hhmm(hhmm)))


def in_quiet_hours(local_time: dt.time, start: str, end: str) -> bool:
    s, e = _parse_hhmm(start), _parse_hhmm(end)
    t = local_time.replace(second=0, microsecond=0, tzinfo=None)
    if s == e:
        return False
    if s < e:
        return s <= t < e
    return t >= s or t < e  # wraps midnight, e.g. 21:00-08:00


def apply_quiet_hours(send_at: dt.datetime, settings: Settings) -> dt.datetime:
    """A reminder that falls in quiet hours moves to their end (local), whatever the date's UTC offset."""
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    local = to_local(send_at)
    if not in_quiet_hours(local.timetz(), start, end):
        return send_at
    end_t = _parse_hhmm(end)
    day = local.date()
    if local.time().replace(tzinfo=None) >= end_t:  # after the start, before midnight: end is tomorrow
        day = day + dt.timedelta(days=1)
    return local_at(day, end)


def visit_body(visit_at: dt.datetime, send_at: dt.datetime) -> str:
    """"Reminder: your visit is tomorrow at 10:00" in local time, from when it is read."""
    visit_local, send_local = to_local(visit_at), to_local(send_at)
    clock = visit_local.strftime("%H:%M")
    days = (visit_local.date() - send_local.date()).days
    if days == 0:
        return f"Reminder: your visit is today at {clock}"
    if days == 1:
        return f"Reminder: your visit is tomorrow at {clock}"
    return f"Reminder: your visit is on {visit_local.strftime('%A')} {visit_local.day} " \
           f"{visit_local.strftime('%B')} at {clock}"


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
        if send_at >= visit_at:  # quiet hours pushed it past the visit itself: no use sending it
            continue
        result.append(Planned(kind, send_at, visit_body(visit_at, send_at)))
    return result


# --- keeping the reminders table in line with the visits -------------------------------------

def _naive_utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def next_visit(person: Person, now: dt.datetime | None = None):
    """The visit whose next_visit_at counts: among the person's visits with a future next visit,
    the one logged for the latest date (a later log that moves the next visit wins)."""
    now = now or utcnow()
    return (Visit.select()
            .where((Visit.person == person.id)
                   & (Visit.deleted == False)  # noqa: E712 - peewee
                   & Visit.next_visit_at.is_null(False)
                   & (Visit.next_visit_at > now))
            .order_by(Visit.started_at.desc(), Visit.updated_at.desc(), Visit.id.desc())
            .first())


def refresh_person(person: Person, now: dt.datetime | None = None) -> dict:
    """Create, move or cancel this person's visit reminders so they match their next visit.
    Call inside a write transaction. Returns counts (created, moved, cancelled)."""
    now = now or utcnow()
    counts = {"created": 0, "moved": 0, "cancelled": 0}
    desired: dict[tuple[int, str], Planned] = {}
    if person.reminders_opt_in and person.status != "closed":
        visit = next_visit(person, now)
        if visit is not None:
            visit_at = _naive_utc(visit.next_visit_at)
            for plan in plan_visit_reminders(visit_at, settings_for(person)):
                desired[(visit.id, plan.kind)] = plan
    existing = list(Reminder.select()
                    .where((Reminder.person == person.id)
                           & Reminder.kind.in_(VISIT_KINDS)
                           & Reminder.status.in_(("pending", "sending", "sent")))
                    .order_by(Reminder.id))
    kept = set()
    for reminder in existing:
        key = (reminder.visit_id, reminder.kind)
        plan = desired.get(key)
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
        if reminder.send_at != plan.send_at or reminder.body != plan.body:
            reminder.send_at, reminder.body = plan.send_at, plan.body
            reminder.attempts, reminder.next_attempt_at, reminder.last_error = 0, None, ""
            reminder.save(only=[Reminder.send_at, Reminder.body, Reminder.attempts,
                                Reminder.next_attempt_at, Reminder.last_error])
            counts["moved"] += 1
    for (visit_id, kind), plan in desired.items():
        if (visit_id, kind) in kept or plan.send_at < now - CREATE_GRACE:
            continue
        Reminder.create(person=person.id, kind=kind, visit=visit_id, body=plan.body, send_at=plan.send_at)
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
    for person in (Person.select()
                   .where(Person.id.in_(ids) & (Person.reminders_opt_in == True))  # noqa: E712 - peewee
                   .order_by(Person.id)):
        refresh_person(person)



def reapply_quiet_hours(person: Person) -> int:
    """Goal-step reminders keep their time unless it now falls in the person's quiet hours."""
    settings = settings_for(person)
    moved = 0
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


# --- goal-step reminders ----------------------------------------------------------------------

GOAL_TEMPLATES = {
    "step": "Reminder: the step you planned for today",
    "plan": "Reminder: the plan you made together",
    "call": "Reminder: the call you planned",
    "outing": "Reminder: the outing you planned",
    "group": "Reminder: the group you chose to try",
    "custom": "Reminder: {text}",
}
CUSTOM_TEXT_WARNING = ("Keep it short and neutral: it may show on a locked screen. "
                       "No names, no health details, no medication, no places that say what the help is.")

# Words that would say "health" on a locked screen. Matched as word starts, case-insensitive.
HEALTH_WORDS = (
    "mental", "health", "depress", "anxi", "panic", "psych", "therap", "counsel", "medic", "meds",
    "pill", "tablet", "dose", "prescri", "pharmac", "doctor", "gp", "nurse", "hospital", "clinic",
    "ward", "section", "crisis", "suicid", "self-harm", "selfharm", "harm", "overdose", "diagnos",
    "bipolar", "schizo", "psychos", "ptsd", "ocd", "adhd", "autis", "eating disorder", "anorex",
    "bulimi", "addict", "alcohol", "drink", "drug", "rehab", "detox", "recovery", "relapse",
    "symptom", "mood", "wellbeing", "well-being", "cmht", "nhs", "a&e", "sick", "illness", "ill",
    "lithium", "sertraline", "antidep", "injection", "depot", "blood", "test result",
)
_WORD_START = re.compile(r"[a-z0-9&\-]+")


class ReminderError(ValueError):
    """A goal reminder that cannot be made; `errors` maps field -> messages."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def has_health_words(text: str) -> bool:
    lowered = " " + " ".join((text or "").lower().split()) + " "
    words = _WORD_START.findall(lowered)
    for bad in HEALTH_WORDS:
        if " " in bad:
            hit = f" {bad}" in lowered
        elif len(bad) <= 3:
            hit = bad in words
        else:
            hit = any(w.startswith(bad) for w in words)
        if hit:
            return True
    return False


def custom_text_problems(text: str, person: Person | None = None) -> list[str]:
    problems = []
    text = (text or "").strip()
    if not text:
        problems.append("Write a few words, or choose a ready-made reminder.")
    if len(text) > CUSTOM_TEXT_MAX:
        problems.append(f"At most {CUSTOM_TEXT_MAX} characters.")
    words = _WORD_START.findall(text.lower())
    if has_health_words(text):
        problems.append("Leave out health details: it may show on a locked screen.")
    if person is not None:
        names = [n for n in re.split(r"[^\w]+", (person.display_name or "").lower()) if len(n) >= 3]
        if any(n in words for n in names):
            problems.append("Leave out names: it may show on a locked screen.")
    if re.search(r"[<>{}]|https?:|www\.", text, re.IGNORECASE):
        problems.append("Plain words only: no links or markup.")
    return problems


def add_goal_reminder(person: Person, send_at: dt.datetime, template: str = "step", text: str = "",
                      goal: Goal | None = None, by=None, now: dt.datetime | None = None) -> Reminder:
    """A goal-step reminder agreed with the person; call inside a write transaction.
    `send_at` aware, or naive local wall-clock time. Quiet hours apply."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    if template not in GOAL_TEMPLATES:
        errors["template"] = [f"Choose one of: {', '.join(GOAL_TEMPLATES)}."]
    if template == "custom":
        problems = custom_text_problems(text, person)
        if problems:
            errors["text"] = problems
    elif text:
        errors["text"] = ["Custom text goes with the 'custom' template only."]
    if not person.reminders_opt_in:
        errors["person_id"] = ["This person has not turned reminders on."]
    if goal is not None and goal.person_id != person.id:
        errors["goal_id"] = ["That goal belongs to someone else."]
    when = to_utc(send_at) if send_at is not None else None
    if when is None or when < now:
        errors["send_at"] = ["Choose a time in the future."]
    elif when > now + dt.timedelta(days=366):
        errors["send_at"] = ["Choose a time within the next year."]
    if errors:
        raise ReminderError(errors)
    when = apply_quiet_hours(when, settings_for(person))
    body = GOAL_TEMPLATES[template].format(text=" ".join(text.split()))
    return Reminder.create(person=person.id, kind=GOAL_KIND, goal=goal.id if goal else None,
                           created_by=by, body=body, send_at=when)


# --- what the worker, the coordinator and the person see ------------------------------------

def upcoming(person: Person, limit: int = 20) -> list[Reminder]:
    return list(Reminder.select()
                .where((Reminder.person == person.id) & Reminder.status.in_(OPEN_STATUSES))
                .order_by(Reminder.send_at)
                .limit(limit))


def reminder_status(person: Person) -> dict:
    """Consent state for the worker's and the coordinator's screens: on or off, how many devices."""
    devices = (ReminderDevice.select()
               .join(PushSubscription, on=(PushSubscription.device == ReminderDevice.id))
               .where((ReminderDevice.person == person.id) & ReminderDevice.revoked_at.is_null())
               .distinct()
               .count())
    consent = (Consent.select()
               .where(Consent.person == person.id)
               .order_by(Consent.given_at.desc(), Consent.id.desc())
               .first())
    pending = (Reminder.select()
               .where((Reminder.person == person.id) & Reminder.status.in_(OPEN_STATUSES))
               .count())
    last_sent = (Reminder.select(Reminder.sent_at)
                 .where((Reminder.person == person.id) & (Reminder.status == "sent"))
                 .order_by(Reminder.sent_at.desc())
                 .first())
    return {
        "reminders_on": bool(person.reminders_opt_in),
        "devices": devices,
        "consent_given_at": consent.given_at if consent else None,
        "consent_text_version": consent.text_version if consent else None,
        "consent_withdrawn_at": consent.withdrawn_at if consent else None,
        "pending_reminders": pending,
        "last_sent_at": last_sent.sent_at if last_sent else None,
    }
