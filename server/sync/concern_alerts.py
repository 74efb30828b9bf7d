"""A concern never waits on an unrelated field (issue 14): inside the push transaction, a visit mutation that
carries a concern (some or serious) and is REJECTED for any reason still raises a `concern_rejected` alert naming
the worker and (when they may see them) the person; an applied visit that newly carries a serious concern raises
a `concern` alert. Both commit with the push (and the stored rejection). No Flask; no notes leave here."""

from __future__ import annotations

from ..models import Person, Visit
from ..safety.alerts import raise_alert
from .bulk import key_of
from .envelope import Mutation
from .scope import parse_uuid

LEVELS = ("low", "high")


def _person_ref(batch, person_uuid):
    """The batch's PersonRef for a person the pushing user may see, else None."""
    if person_uuid is None:
        return None
    ref = batch.refs.get(key_of(person_uuid))
    if ref is None:
        row = (Person.select(Person.id, Person.uuid, Person.team, Person.deleted)
               .where(Person.uuid == person_uuid).tuples().first())
        ref = batch._remember(row) if row is not None else None
    return ref if ref is not None and batch.scope.allows(ref) else None


def _existing(m: Mutation):
    return (Visit.select(Visit.concern, Person.uuid).join(Person).where(Visit.uuid == m.record_id).tuples().first())


def concern_before(batch, m: Mutation) -> str | None:
    """The stored visit's concern, read only when this mutation sets a serious concern on a visit that exists
    (an echo of an unchanged concern must not alert again)."""
    if m.entity != "visit" or m.op != "upsert" or m.fields.get("concern") != "high":
        return None
    if key_of(m.record_id) not in batch.existing["visit"]:
        return "none"
    row = _existing(m)
    return row[0] if row else "none"


def on_applied(batch, m: Mutation, before: str | None) -> None:
    if before is None or before == "high":
        return
    person_uuid = parse_uuid(m.fields.get("person_id"))
    if person_uuid is None:
        row = _existing(m)
        person_uuid = row[1] if row else None
    ref = _person_ref(batch, person_uuid)
    if ref is None:
        return
    raise_alert("concern", ref.team_id, subject_uuid=str(m.record_id), worker=batch.user.id, person=ref.id,
                level="high")


def refused_visit(raw) -> Mutation | None:
    """A visit envelope that did not load (a bad mutation id, base_rev, ...) but names a record and carries a
    concern: enough of it to alert on, else None."""
    if not isinstance(raw, dict) or raw.get("entity") != "visit" or raw.get("op", "upsert") != "upsert":
        return None
    fields = raw.get("fields")
    record_id = parse_uuid(raw.get("record_id"))
    if not isinstance(fields, dict) or record_id is None or fields.get("concern") not in LEVELS:
        return None
    return Mutation(None, "visit", record_id, "upsert", None, fields, "")


def on_rejected(batch, m: Mutation) -> None:
    """The visit was refused: if it carries a concern, someone is told at once (no notes, a link)."""
    if m.entity != "visit" or m.op != "upsert":
        return
    level = m.fields.get("concern")
    person_uuid = parse_uuid(m.fields.get("person_id"))
    if level is None or person_uuid is None:
        row = _existing(m) if key_of(m.record_id) in batch.existing["visit"] else None
        if row is not None:
            level = row[0] if level is None else level
            person_uuid = person_uuid or row[1]
    if level not in LEVELS:
        return
    ref = _person_ref(batch, person_uuid)
    team_id = ref.team_id if ref is not None else batch.user.team_id
    if team_id is None:
        return
    raise_alert("concern_rejected", team_id, subject_uuid=str(m.record_id), worker=batch.user.id,
                person=ref.id if ref is not None else None, level=level)
