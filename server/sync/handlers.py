"""What each entity's mutation does, one handler per entity in an explicit table (HANDLERS). A handler checks
who may write (scope.py through the batch), loads the fields (push.Batch.load_fields) and lands the change
(writes.py). New visits and goal ratings, the usual day's push, are checked against what the batch loaded up
front and written together later (bulk.Deferred).

To add an entity: its fields schema in schemas.FIELD_SCHEMAS (and READ_ONLY_FIELDS), its model, a serialiser
in wire.py and a pull source in pull_queries.py, a handler here, and a line in HANDLERS."""

from __future__ import annotations

import json

from marshmallow import ValidationError

from ..codes import MISSED
from ..db import utcnow
from ..models import CaseloadAssignment, CheckIn, Conflict, Goal, GoalProgress, Person, Referral, Resource, Visit
from .bulk import NewVisitRef, defaults
from .envelope import Mutation
from .errors import NO_SUCH_GOAL, Rejected
from .revisions import field_stamps, next_rev, stamp_author, stamp_change, stamp_values
from .rules import FIELD_SCHEMAS
from .wire import goal_fields, iso_dt, person_fields, referral_fields, visit_fields
from .writes import Outcome, attr, create, delete, keep_conflict, public, write

MODELS = {"person": Person, "visit": Visit, "goal": Goal, "goal_progress": GoalProgress, "referral": Referral}
_VISIT_DEFAULTS = defaults(Visit)
_RATING_DEFAULTS = defaults(GoalProgress)
_SCHEMAS = {name: schema() for name, schema in FIELD_SCHEMAS.items()}


def _same_parent(values: dict, name: str, current_uuid, message: str) -> None:
    if name in values:
        if values[name] != current_uuid:
            raise Rejected("invalid", {name: [message]})
        del values[name]


def _not_on_caseload(name: str) -> Rejected:
    return Rejected("forbidden", {name: ["This person is not on your caseload."]})


def apply_person(batch, m: Mutation) -> Outcome:
    record = batch.lookup(Person, m)
    if record is not None and not batch.scope.allows(record):
        raise _not_on_caseload("record_id")
    if m.op == "delete":
        if record is None:
            raise Rejected("not_found", {"record_id": ["No such person."]})
        if not batch.coordinator:
            raise Rejected("forbidden", {"record_id": ["Only a coordinator can remove a person."]})
        return delete(batch, m, record, record)
    if record is None:
        values = batch.load_fields(m, None, new=True)
        if batch.user.team_id is None:
            raise Rejected("forbidden", {"record_id": ["You are not in a team, so you cannot add people."]})
        record = create(batch, m, Person, values, team=batch.user.team_id, created_by=batch.user,
                        added_in_field=not batch.coordinator)
        if not batch.coordinator:  # met in the field: joins this worker's caseload, flagged for the coordinator
            CaseloadAssignment.create(person=record, worker=batch.user, assigned_by=batch.user, rev=record.rev)
            batch.scope.joined(record.id)
        batch.remember_person(record)
        return Outcome("applied", record.rev)
    current = person_fields(record.__data__)
    values = batch.load_fields(m, current, new=False)
    return write(batch, m, record, record, _person_ending(record, values), public(values), current)


def _person_ending(record: Person, values: dict) -> dict:
    """Closing an engagement with a reason (issue 15) closes the person and dates it today unless dated."""
    if values.get("closed_reason"):
        values.setdefault("status", "closed")
        if record.closed_at is None and values.get("closed_at") is None:
            values["closed_at"] = utcnow().date()
    return values


def apply_visit(batch, m: Mutation) -> Outcome:
    record = batch.lookup(Visit, m)
    if record is None:
        if m.op == "delete":
            raise Rejected("not_found", {"record_id": ["No such visit."]})
        values = batch.load_fields(m, None, new=True)
        person = batch.person_in_scope(values.pop("person_id"), "person_id")
        row = dict(_VISIT_DEFAULTS)
        row.update(_visit_values(values))
        now = utcnow()
        if row.get("voided_reason"):  # logged and voided before it ever synced: still kept, as voided
            row["voided_at"] = now
        row.update(uuid=m.record_id, created_at=now, updated_at=now, person=person.id, author=batch.user.id)
        batch.new_visit(m.record_id, person.id, missed=row.get("attendance") in MISSED and not row.get("voided_at"))
        return Outcome("applied", batch.deferred.add(Visit, row))
    person = batch.person_by_id(record.person_id)
    if record.author_id != batch.user.id:
        raise Rejected("forbidden", {"record_id": ["Only the visit's author can change it."]})
    if not batch.scope.allows(person):
        raise _not_on_caseload("person_id")
    if m.op == "delete":
        outcome = delete(batch, m, record, person)
    else:
        current = visit_fields(record.__data__ | {"p_uuid": person.uuid, "a_uuid": batch.user.uuid})
        values = batch.load_fields(m, current, new=False)
        _same_parent(values, "person_id", person.uuid, "A visit cannot move to another person.")
        outcome = write(batch, m, record, person, _visit_edit(record, _visit_values(values)), {}, {})
    batch.visit_people.add(person.id)  # reminders follow the person's next visit
    batch.run_people.add(person.id)  # and an edit or a delete may change their did-not-attend run
    return outcome


def _visit_edit(record: Visit, values: dict) -> dict:
    """An author's edit (issue 15): voiding stamps voided_at (a voided visit stays voided), and any real change
    stamps edited_at, so a visit edited after its review shows as changed since review."""
    if "voided_reason" in values:
        reason = values["voided_reason"]
        if record.voided_at is not None and not reason:
            raise Rejected("invalid", {"voided_reason": ["A voided visit stays voided; log a new visit instead."]})
        if reason and record.voided_at is None:
            values["voided_at"] = utcnow()
    if any(record.__data__.get(name) != value for name, value in values.items()):
        values["edited_at"] = utcnow()
    return values


def _visit_values(values: dict) -> dict:
    if "goal_ids" in values:
        values["goal_ids"] = json.dumps([str(g) for g in values["goal_ids"]])
    return values


def apply_goal(batch, m: Mutation) -> Outcome:
    record = batch.lookup(Goal, m)
    if record is None:
        if m.op == "delete":
            raise Rejected("not_found", {"record_id": ["No such goal."]})
        values = batch.load_fields(m, None, new=True)
        person = batch.person_in_scope(values.pop("person_id"), "person_id")
        record = create(batch, m, Goal, _goal_values(values, None), person=person.id, created_by=batch.user)
        batch.new_goal(record)
        return Outcome("applied", record.rev)
    person = batch.person_by_id(record.person_id)
    if not batch.scope.allows(person):
        raise _not_on_caseload("person_id")
    if m.op == "delete":
        return delete(batch, m, record, person)
    current = goal_fields(record.__data__ | {"p_uuid": person.uuid})
    values = batch.load_fields(m, current, new=False)
    _same_parent(values, "person_id", person.uuid, "A goal cannot move to another person.")
    return write(batch, m, record, person, _goal_values(values, record), public(values), current)


def _goal_values(values: dict, record: Goal | None) -> dict:
    if values.get("status") == "achieved" and (record is None or record.achieved_at is None):
        values["achieved_at"] = utcnow()
    if "chime_tags" in values:  # stored as JSON in a new dict: the caller's values stay in wire form
        return {**values, "chime_tags": json.dumps(sorted(set(values["chime_tags"])))}
    return values


def apply_goal_progress(batch, m: Mutation) -> Outcome:
    record = batch.lookup(GoalProgress, m)
    if record is None:
        if m.op == "delete":
            raise Rejected("not_found", {"record_id": ["No such goal progress."]})
        values = batch.load_fields(m, None, new=True)
        goal = batch.goal(values.pop("goal_id"))
        if goal is None or goal.deleted or not batch.scope.allows(batch.person_ref(goal.person_id)):
            raise Rejected("not_found", {"goal_id": [NO_SUCH_GOAL]})  # alike: see Batch.person_in_scope
        values = _rating_visit(batch, values, goal)
        row = dict(_RATING_DEFAULTS)
        row.update(values)
        now = utcnow()
        row.update(uuid=m.record_id, created_at=now, updated_at=now, goal=goal.id, author=batch.user.id)
        _rating_changed_visit(row.get("visit"))
        return Outcome("applied", batch.deferred.add(GoalProgress, row))
    goal = Goal.get_by_id(record.goal_id)
    person = batch.person_by_id(goal.person_id)
    if record.author_id != batch.user.id:
        raise Rejected("forbidden", {"record_id": ["Only the author can change this goal progress."]})
    if not batch.scope.allows(person):
        raise Rejected("forbidden", {"goal_id": ["This goal's person is not on your caseload."]})
    if m.op == "delete":
        return delete(batch, m, record, person)
    current = {"author_id": str(batch.user.uuid), "person_id": str(person.uuid),  # read-only, may be echoed
               "created_at": iso_dt(record.created_at)}
    values = batch.load_fields(m, current, new=False)
    _same_parent(values, "goal_id", goal.uuid, "Goal progress cannot move to another goal.")
    values = _rating_visit(batch, values, goal)
    if isinstance(values.get("visit"), NewVisitRef):
        batch.deferred.flush()
        values["visit"] = Visit.get(Visit.uuid == values["visit"].uuid).id
    _rating_changed_visit(record.visit_id)
    return write(batch, m, record, person, values, {}, {})


def _rating_changed_visit(visit_id) -> None:
    """A rating of a reviewed visit changed: the visit is changed since review too (its ratings are part of it)."""
    if type(visit_id) is not int:
        return  # no visit, or one new in this batch
    visit = Visit.get_or_none((Visit.id == visit_id) & Visit.reviewed_at.is_null(False))
    if visit is not None:
        Visit.update(edited_at=utcnow(), **stamp_values(visit, ())).where(Visit.id == visit_id).execute()


def _rating_visit(batch, values: dict, goal: Goal) -> dict:
    """A rating's visit_id -> the visit column: an id, or a NewVisitRef for a visit new in this batch."""
    if "visit_id" in values:
        visit_id = values.pop("visit_id")
        if visit_id is None:
            values["visit"] = None
        else:
            visit = batch.visit_ref(visit_id)
            if visit is None or visit[1] != goal.person_id:
                raise Rejected("invalid", {"visit_id": ["No visit with this person has this id."]})
            values["visit"] = visit[0]
    if "rated_by" in values and values["rated_by"] is None:
        values["rated_by"] = ""  # not recorded: pulled as null, stored as ""
    return values


def apply_referral(batch, m: Mutation) -> Outcome:
    record = batch.lookup(Referral, m)
    if record is None:
        if m.op == "delete":
            raise Rejected("not_found", {"record_id": ["No such referral."]})
        values = batch.load_fields(m, None, new=True)
        person = batch.person_in_scope(values.pop("person_id"), "person_id")
        record = create(batch, m, Referral, _referral_values(values), person=person.id, created_by=batch.user)
        return Outcome("applied", record.rev)
    person = batch.person_by_id(record.person_id)
    if not batch.scope.allows(person):
        raise _not_on_caseload("person_id")
    if m.op == "delete":
        return delete(batch, m, record, person)
    current = referral_fields(record.__data__ | {
        "p_uuid": person.uuid, "res_uuid": Resource.get_by_id(record.resource_id).uuid})
    values = batch.load_fields(m, current, new=False)
    _same_parent(values, "person_id", person.uuid, "A referral cannot move to another person.")
    return write(batch, m, record, person, _referral_values(values), public(values), current)


def _referral_values(values: dict) -> dict:
    if "resource_id" in values:
        resource = Resource.get_or_none(Resource.uuid == values["resource_id"])
        if resource is None or resource.deleted:
            raise Rejected("not_found", {"resource_id": ["No such resource in the directory."]})
        values["resource_id"] = resource.id
    return values


def apply_conflict(batch, m: Mutation) -> Outcome:
    conflict = Conflict.get_or_none(Conflict.uuid == m.record_id)
    if conflict is None or conflict.deleted or conflict.person_id is None:
        raise Rejected("not_found", {"record_id": ["No such conflict."]})
    person = batch.person_by_id(conflict.person_id)
    if not batch.scope.allows(person):
        raise _not_on_caseload("record_id")
    if m.op == "delete":
        raise Rejected("invalid", {"op": ["Resolve a conflict with upsert and action restore or dismiss."]})
    action = batch.load_fields(m, None, new=True)["action"]
    if conflict.resolution:
        raise Rejected("invalid", {"action": [f"This conflict was already resolved ({conflict.resolution})."]})
    rev = next_rev()
    conflicts = restore(batch, conflict, person, rev) if action == "restore" else []
    conflict.resolution = "restored" if action == "restore" else "dismissed"
    conflict.resolved_at = utcnow()
    conflict.resolved_by = batch.user
    stamp_change(conflict, rev=rev)
    conflict.save()
    return Outcome("conflict" if conflicts else "applied", rev, conflicts)


def restore(batch, conflict: Conflict, person: Person, rev: int) -> list:
    """Put the overwritten value back as a new change. If the field moved on since the conflict was kept,
    what it holds now is kept in turn, so a restore never loses anything either."""
    model = MODELS[conflict.entity]
    record = model.get_or_none(model.uuid == conflict.record_id)
    if record is None:
        raise Rejected("not_found", {"record_id": ["The record this conflict belongs to is gone."]})
    lost = json.loads(conflict.lost_value) if conflict.lost_value is not None else None
    kept = json.loads(conflict.kept_value) if conflict.kept_value is not None else None
    name = conflict.field
    if name == "deleted":
        now_value = bool(record.deleted)
        record.deleted = bool(lost)
    else:
        now_value = _record_public(conflict.entity, record, person).get(name)
        try:
            loaded = _SCHEMAS[conflict.entity].load({name: lost}, partial=True)
        except ValidationError as exc:
            raise Rejected("invalid", {"action": ["The kept value can no longer be restored."]}) from exc
        converters = {"goal": lambda v: _goal_values(v, record), "referral": _referral_values}
        for key, value in converters.get(conflict.entity, lambda v: v)(loaded).items():
            setattr(record, attr(conflict.entity, key), value)
    extra = []
    if now_value != kept and now_value != lost:
        last = field_stamps(record).get(name)
        extra.append(keep_conflict(batch, conflict.entity, record, person, name, lost, now_value,
                                   stamp_author(last), rev))
    stamp_change(record, [name], by=batch.user, device=batch.device, rev=rev)
    record.save()
    return extra


def _record_public(entity: str, record, person: Person) -> dict:
    row = dict(record.__data__)
    row["p_uuid"] = person.uuid
    if entity == "referral":
        row["res_uuid"] = Resource.get_by_id(record.resource_id).uuid
        return referral_fields(row)
    if entity == "goal":
        return goal_fields(row)
    return person_fields(row)


from .check_ins import apply_check_in  # noqa: E402 - issue 14, lone working

MODELS["check_in"] = CheckIn
HANDLERS = {
    "person": apply_person,
    "visit": apply_visit,
    "goal": apply_goal,
    "goal_progress": apply_goal_progress,
    "referral": apply_referral,
    "conflict": apply_conflict,
    "check_in": apply_check_in,
}
