"""How a pushed change lands on a record: field by field, each field's last change stamped (revisions.py), and
an overwritten value kept as a conflict when another device changed that field after the pushing device last
saw it. Append-only records (visits, goal ratings) are corrected only by their author: the later arrival wins."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..models import Conflict, Person, User
from .envelope import Mutation
from .revisions import changed_elsewhere, field_stamps, next_rev, stamp_author, stamp_change, stamp_new
from .wire import jsonable

APPEND_ONLY = {"visit", "goal_progress"}
# Public field name -> model attribute, where they differ.
ATTRS = {"referral": {"resource_id": "resource"}}


@dataclass
class Outcome:
    status: str
    rev: object = None  # int, or a bulk.LateRev resolved before the answer leaves
    conflicts: list = field(default_factory=list)


def attr(entity: str, name: str) -> str:
    return ATTRS.get(entity, {}).get(name, name)


def public(values: dict) -> dict:
    return {name: jsonable(value) for name, value in values.items()}


def create(batch, m: Mutation, model, values: dict, **extra):
    """A new record from a device, every field stamped as this device's change."""
    attrs = {attr(m.entity, name): value for name, value in values.items()}
    stamp = stamp_new(model, values if m.entity not in APPEND_ONLY else (), by=batch.user, device=batch.device)
    return model.create(uuid=m.record_id, **stamp, **attrs, **extra)


def write(batch, m: Mutation, record, person: Person | None, values: dict, public_new: dict,
          public_now: dict) -> Outcome:
    """Apply changed values to an existing record. `values` are model values keyed by the public field name;
    `public_new` / `public_now` are the wire forms of the new and the current values (for conflicts)."""
    rev = next_rev()
    conflicts = []
    conflicting = m.entity not in APPEND_ONLY
    stamps = field_stamps(record) if conflicting else {}
    base = m.base_rev or 0
    changed = []
    if record.deleted:
        last = stamps.get("deleted")
        if conflicting and changed_elsewhere(last, base, batch.device.id):
            conflicts.append(keep_conflict(batch, m.entity, record, person, "deleted", False, True,
                                           stamp_author(last), rev))
        record.deleted = False
        changed.append("deleted")
    for name, value in values.items():
        column = attr(m.entity, name)
        if record.__data__.get(column) == value:
            continue  # nothing changes, so nothing is lost
        if conflicting:
            last = stamps.get(name)
            if changed_elsewhere(last, base, batch.device.id):
                conflicts.append(keep_conflict(batch, m.entity, record, person, name, public_new.get(name),
                                               public_now.get(name), stamp_author(last), rev))
        changed.append(name)
        setattr(record, column, value)
    stamp_change(record, changed if conflicting else (), by=batch.user, device=batch.device, rev=rev)
    record.save()
    return Outcome("conflict" if conflicts else "applied", rev, conflicts)


def delete(batch, m: Mutation, record, person: Person | None) -> Outcome:
    """A tombstone, so every device learns of it."""
    if record.deleted:
        return Outcome("applied", record.rev)  # already a tombstone: nothing more to do
    rev = next_rev()
    conflicts = []
    conflicting = m.entity not in APPEND_ONLY
    if conflicting:
        base = m.base_rev or 0
        later = [v for v in field_stamps(record).values() if changed_elsewhere(v, base, batch.device.id)]
        if later:
            conflicts.append(keep_conflict(batch, m.entity, record, person, "deleted", True, False,
                                           stamp_author(max(later)), rev))
    record.deleted = True
    stamp_change(record, ["deleted"] if conflicting else (), by=batch.user, device=batch.device, rev=rev)
    record.save()
    return Outcome("conflict" if conflicts else "applied", rev, conflicts)


def keep_conflict(batch, entity: str, record, person, name: str, kept, lost, lost_by_id, rev: int) -> dict:
    """Keep the value a later arrival overwrote, for both sides to see and restore."""
    conflict = Conflict.create(
        person=person, entity=entity, record_id=record.uuid, field=name,
        kept_value=json.dumps(jsonable(kept)), lost_value=json.dumps(jsonable(lost)),
        lost_by=lost_by_id if lost_by_id and User.get_or_none(User.id == lost_by_id) else None,
        won_by=batch.user, **stamp_new(Conflict, rev=rev))
    return {"id": str(conflict.uuid), "field": name}
