"""Audit of reads of people's records outside the coordinator pages (which audit through coordinator.access.audit):
a sync pull and the reminders API. The rule: every read by anyone but the person's assigned worker is recorded,
with ids and counts only, never a name or health text. A worker reading their own caseload is their work, not an
event (their own changes show on the audit page from the sync log)."""

from __future__ import annotations

from collections import Counter

from .db import write_transaction
from .models import AuditEvent, CaseloadAssignment, Device, Person, User
from .sync.scope import CASELOAD, kind_of

PULL_ACTION = "sync.pull"


def assigned_people(user: User, person_uuids: set[str]) -> set[str]:
    """Which of these people (uuid text) are on the user's own open caseload."""
    if not person_uuids:
        return set()
    rows = (Person.select(Person.uuid)
            .join(CaseloadAssignment)
            .where((CaseloadAssignment.worker == user.id) & CaseloadAssignment.ended_at.is_null()
                   & Person.uuid.in_(list(person_uuids)))
            .tuples())
    return {str(u) for (u,) in rows}


def _people_in(changes: list[dict]) -> set[str]:
    people = set()
    for change in changes:
        if change["entity"] == "person":
            people.add(str(change["record_id"]))
        elif change.get("fields", {}).get("person_id"):
            people.add(str(change["fields"]["person_id"]))
    return people


def record_pull(user: User, device: Device, cursor: int, page: dict) -> bool:
    """One audit event for a pull page that carried anyone the reader is not the assigned worker of (a
    coordinator's device, say): how many people and how many records of each kind. Returns whether it did.
    A peer worker's pull is scoped to their own open caseload (sync/scope.py), so it never reads anyone else."""
    if kind_of(user) == CASELOAD:
        return False
    people = _people_in(page["changes"])
    outside = people - assigned_people(user, people)
    if not outside:
        return False
    kinds = Counter(change["entity"] for change in page["changes"])
    detail = (f"people {len(people)} ({len(outside)} not on own caseload); "
              + ", ".join(f"{entity} {count}" for entity, count in sorted(kinds.items()))
              + f"; cursor {cursor}-{page['cursor']}")
    with write_transaction():
        AuditEvent.record(user, PULL_ACTION, "device", device.uuid, detail=detail)
    return True


def record_person_read(user: User, person: Person, action: str, detail: str = "") -> bool:
    """A read of one person's record: recorded unless the reader is the person's assigned worker."""
    if assigned_people(user, {str(person.uuid)}):
        return False
    with write_transaction():
        AuditEvent.record(user, action, "person", person.uuid, team=person.team_id, detail=detail)
    return True
