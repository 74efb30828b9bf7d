"""How long we keep a person's record (issue 16); their right to see it is subject_access.py.

Retention: ALONGSIDE_RETENTION_YEARS (default 20, the NHS Records Management Code of Practice for mental
health records) after an engagement closed. `due_people` lists who is due; `apply_retention` erases (every
record becomes a tombstone with its content blanked) or anonymises (text blanked, figures kept), ends their
caseload assignments (phones purge them), deletes reminder and contact data, and registers each in ErasedRecord
with an audit entry. The command is `flask records retention` (server/records_cli.py)."""

from __future__ import annotations

import datetime as dt

from peewee import fn

from ..db import write_transaction
from ..models import (
    AuditEvent,
    Conflict,
    Consent,
    ContactPoint,
    ErasedRecord,
    Goal,
    GoalProgress,
    Invite,
    Person,
    PushSubscription,
    Referral,
    Reminder,
    ReminderDevice,
    Review,
    User,
    Visit,
)
from ..sync.revisions import next_rev, stamp_change
from . import subject_access  # noqa: F401 - its routes (a person's right to their record)

_UNKNOWN = object()


def closed_on(person: Person, last_visit=_UNKNOWN) -> dt.date:
    """When the engagement closed, as the latest of: its planned end, its last visit, the record's last change
    (status set to closed). The latest is the safe choice: a record is never kept for less than the period.
    `last_visit`: the start of their last visit when the caller already read it (None: they had none)."""
    if last_visit is _UNKNOWN:
        last_visit = (Visit.select(Visit.started_at).where(Visit.person == person)
                      .order_by(Visit.started_at.desc()).scalar())
    days = [d for d in (person.planned_end, _date(last_visit), _date(person.updated_at), person.closed_at) if d]
    return max(days)


def _date(value) -> dt.date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])


def due_people(years: int, today: dt.date) -> list[tuple[Person, dt.date]]:
    """Closed engagements whose retention period has passed, oldest first."""
    due = []
    closed = Person.select().where((Person.status == "closed") & ~Person.deleted)
    # Everyone's last visit in one query (grouped), not one query per closed person.
    last_visits = dict(Visit.select(Visit.person, fn.MAX(Visit.started_at))
                       .where(Visit.person.in_(closed.select(Person.id))).group_by(Visit.person).tuples())
    for person in closed.order_by(Person.id):
        ended = closed_on(person, last_visits.get(person.id))
        try:
            keep_until = ended.replace(year=ended.year + years)
        except ValueError:  # 29 February
            keep_until = ended.replace(year=ended.year + years, day=28)
        if keep_until <= today:
            due.append((person, ended))
    return sorted(due, key=lambda item: item[1])


BLANK = {Visit: ("notes", "concern_notes", "concern_ack_note"), Goal: ("title", "steps"),
         GoalProgress: ("note",), Referral: ("notes",), Review: ("comment",)}


def apply_retention(person: Person, action: str, by: User | None = None) -> int:
    """Erase or anonymise one person's records; returns how many synced records changed. One transaction."""
    if action not in ("erase", "anonymise"):
        raise ValueError(action)
    ended = closed_on(person)
    with write_transaction():
        rev = next_rev()
        visits = list(Visit.select().where(Visit.person == person))
        goals = list(Goal.select().where(Goal.person == person))
        records = [*visits, *goals,
                   *GoalProgress.select().where(GoalProgress.goal.in_([g.id for g in goals])),
                   *Referral.select().where(Referral.person == person),
                   *Review.select().where(Review.visit.in_([v.id for v in visits])),
                   *Conflict.select().where(Conflict.person == person)]
        for record in records:
            for name in BLANK.get(type(record), ()):
                setattr(record, name, "")
            if isinstance(record, Conflict):
                record.kept_value = record.lost_value = None
            if action == "erase":
                record.deleted = True
            stamp_change(record, rev=rev)
            record.save()
        person.display_name = "Erased" if action == "erase" else "Anonymised"
        person.preferred_contact = ""
        person.deleted = action == "erase"
        stamp_change(person, rev=rev)
        person.save()
        for worker in list(person.current_workers()):
            person.unassign(worker)  # the person leaves every phone (purge)
        for model in (ContactPoint, PushSubscription, Reminder, Invite, Consent, ReminderDevice):
            model.delete().where(model.person == person).execute()
        ErasedRecord.create(person_uuid=person.uuid, action=action, closed_on=ended, records=len(records) + 1, by=by)
        AuditEvent.record(by, f"retention.{action}", "person", person.uuid, team=person.team,
                          detail=f"closed {ended}; {len(records) + 1} records")
    return len(records) + 1
