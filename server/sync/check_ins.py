"""The sync handler of lone-working check-ins (issue 14). A check-in belongs to the worker who made it (only
they change it, only they pull it) and names a person on their caseload. Rules across fields: the expected end
is after the start and within 12 hours of it. Checking out closes the check-in from any state and erases the
place; a check-out that arrives after the coordinators were alerted closes it too, and the coordinator's page
says it came after the alert (safety/lone_working.checked_out_late records it and closes the alert)."""

from __future__ import annotations

import datetime as dt

from ..db import is_postgres, utcnow
from ..models import CheckIn, Visit
from .envelope import Mutation
from .errors import Rejected
from .revisions import stamp_change
from .writes import Outcome, create

MAX_VISIT = dt.timedelta(hours=12)
LATE_STATES = ("prompted", "escalated", "resolved")


def check_times(started_at, expected_end_at) -> None:
    if expected_end_at <= started_at:
        raise Rejected("invalid", {"expected_end_at": ["The expected end must be after the start."]})
    if expected_end_at - started_at > MAX_VISIT:
        raise Rejected("invalid", {"expected_end_at": ["The expected end must be within 12 hours of the start."]})


def _visit_id(batch, visit_uuid, person_id: int):
    if visit_uuid is None:
        return None
    row = Visit.select(Visit.id, Visit.person).where(Visit.uuid == visit_uuid).tuples().first()
    if row is None or row[1] != person_id:
        raise Rejected("invalid", {"visit_id": ["No visit with this person has this id."]})
    return row[0]


def apply_check_in(batch, m: Mutation) -> Outcome:
    if m.op == "delete":
        raise Rejected("invalid", {"op": ["A check-in is not deleted: check out instead."]})
    record = batch.lookup(CheckIn, m)
    if record is None:
        values = batch.load_fields(m, None, new=True)
        person = batch.person_in_scope(values.pop("person_id"), "person_id")
        visit = _visit_id(batch, values.pop("visit_id", None), person.id)
        check_times(values["started_at"], values["expected_end_at"])
        closed = values.get("checked_out_at") is not None
        if closed:  # started and finished without signal: nothing to watch, nothing to keep
            values["place"] = None
        record = create(batch, m, CheckIn, values, person=person.id, worker=batch.user.id, team=person.team_id,
                        visit=visit, status="closed" if closed else "open",
                        checked_out_received_at=utcnow() if closed else None)
        return Outcome("applied", record.rev)
    if record.worker_id != batch.user.id:
        raise Rejected("forbidden", {"record_id": ["Only the worker who checked in can change this check-in."]})
    if is_postgres():
        # Read under a row lock: a dispatcher pass moving it on (prompt, alert) finishes first, or skips it, so a
        # check-out always sees whether the coordinators were alerted. (SQLite: the push holds the write lock.)
        record = CheckIn.select().where(CheckIn.id == record.id).for_update().get()
    values = batch.load_fields(m, {"status": record.status}, new=False)
    person = batch.person_ref(record.person_id)
    if "person_id" in values:
        if values.pop("person_id") != batch_person_uuid(record):
            raise Rejected("invalid", {"person_id": ["A check-in cannot move to another person."]})
    if "visit_id" in values:
        record.visit = _visit_id(batch, values.pop("visit_id"), person.id)
    started = values.get("started_at", record.started_at)
    ends = values.get("expected_end_at", record.expected_end_at)
    check_times(started, ends)
    was = record.status
    finished = record.checked_out_at is not None
    if finished:  # a closed check-in keeps its check-out; its place stays erased
        values.pop("place", None)
        if values.get("checked_out_at", record.checked_out_at) is None:
            values.pop("checked_out_at")
    if "expected_end_at" in values and values["expected_end_at"] != record.expected_end_at and was in (
            "open", "prompted"):
        record.status, record.prompted_at = "open", None  # more time asked for before anyone was alerted
    for name, value in values.items():
        setattr(record, name, value)
    if not finished and record.checked_out_at is not None:
        record.status = "closed"
        record.place = None
        record.checked_out_received_at = utcnow()
    stamp_change(record, by=batch.user, device=batch.device)
    record.save()
    if not finished and record.checked_out_at is not None and was in LATE_STATES:
        from ..safety.lone_working import checked_out_late

        checked_out_late(record, was)
    return Outcome("applied", record.rev)


def batch_person_uuid(record: CheckIn):
    from ..models import Person

    return Person.select(Person.uuid).where(Person.id == record.person_id).scalar()
