"""The sync engine: applies pushed mutations (at most once, in order, authorised, conflicts kept per
field) and answers pulls (scoped to the caseload, paged by rev, a person's whole history on joining,
`purge` on leaving). Plain functions over the models, no Flask: the HTTP views in api/sync.py are thin."""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuidlib
from dataclasses import dataclass, field

import peewee
from marshmallow import ValidationError

from . import changes, reminder_schedule
from .changes import current_rev, next_rev
from .db import database, is_postgres, utcnow, write_transaction
from .models import (
    AppliedMutation,
    CaseloadAssignment,
    Conflict,
    Device,
    Goal,
    GoalProgress,
    Person,
    Referral,
    Resource,
    Review,
    User,
    Visit,
)
from .schemas import FIELD_SCHEMAS, PULL_ONLY_ENTITIES, READ_ONLY_FIELDS, MutationSchema

# Records that only their author adds to or corrects: the later arrival simply wins, never a conflict.
APPEND_ONLY = {"visit", "goal_progress"}
MODELS = {"person": Person, "visit": Visit, "goal": Goal, "goal_progress": GoalProgress, "referral": Referral}
# Parents before children inside one rev, so a device with foreign keys can apply a page in order.
PULL_ORDER = ("resource", "person", "goal", "visit", "goal_progress", "referral", "review", "conflict")
DEVICE_TOUCH_SECONDS = 15

_MUTATION_SCHEMA = MutationSchema()
_FIELD_SCHEMAS = {name: schema() for name, schema in FIELD_SCHEMAS.items()}


# A record outside the caller's scope is refused exactly as one that does not exist (security finding 12).
NO_SUCH_PERSON = "No such person on your caseload."
NO_SUCH_GOAL = "No such goal on your caseload."


class SyncError(Exception):
    """A whole request is refused (unknown or revoked device): the view answers status/code/message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Rejected(Exception):
    """One mutation is refused; the rest of the batch goes on. `errors` names each field and why."""

    def __init__(self, code: str, errors: dict):
        super().__init__(code)
        self.code, self.errors = code, errors


# --- devices -----------------------------------------------------------------------------------

def register_device(user: User, name: str) -> Device:
    with write_transaction():
        return Device.create(user=user, name=name.strip()[:80] or "Phone", last_seen_at=utcnow())


def device_for(user: User, device_id) -> Device:
    """The caller's own, unrevoked device, or SyncError (403)."""
    device = Device.get_or_none(Device.uuid == device_id)
    if device is None or device.user_id != user.id:
        raise SyncError(403, "unknown_device", "This device is not registered to you. Sign in again to register it.")
    if device.revoked_at is not None:
        raise SyncError(403, "device_revoked", "This device was signed out by a coordinator. Its local data will be "
                                               "removed; sign in again on a trusted device.")
    return device


def touch_device(device: Device, synced: bool) -> None:
    """Keep last_seen_at / last_sync_at fresh without turning every pull into a write."""
    now = utcnow()
    last = device.last_sync_at if synced else device.last_seen_at
    if last is not None and (now - last).total_seconds() < DEVICE_TOUCH_SECONDS:
        return
    values = {Device.last_seen_at: now}
    if synced:
        values[Device.last_sync_at] = now
    with write_transaction():
        Device.update(values).where(Device.id == device.id).execute()


# --- values in and out -------------------------------------------------------------------------

# Serialisers take a model's __data__ (Python values) or a raw database row (a pull reads rows without
# peewee's per-value conversion: on SQLite a UUID is 32 hex digits and a time is text).

def _uuid_str(value) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return value if len(value) == 36 else str(uuidlib.UUID(value))
    return str(value)


def _iso_dt(value) -> str | None:
    if value is None:
        return None
    if type(value) is str:  # SQLite: "2026-11-20 10:00:00[.ffffff]", naive UTC
        return value.replace(" ", "T", 1) + "+00:00"
    return value.isoformat() + "+00:00"


def _iso_date(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _jsonable(value):
    if isinstance(value, dt.datetime):
        return _iso_dt(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuidlib.UUID):
        return str(value)
    return value


def person_fields(r: dict) -> dict:
    return {
        "display_name": r["display_name"],
        "preferred_contact": r["preferred_contact"],
        "engagement_start": _iso_date(r["engagement_start"]),
        "planned_end": _iso_date(r["planned_end"]),
        "status": r["status"],
        "reminders_opt_in": bool(r["reminders_opt_in"]),
        "added_in_field": bool(r["added_in_field"]),
        "confirmed": r["confirmed_at"] is not None,
    }


def visit_fields(r: dict) -> dict:
    return {
        "person_id": _uuid_str(r["p_uuid"]),
        "author_id": _uuid_str(r["a_uuid"]),
        "started_at": _iso_dt(r["started_at"]),
        "duration_minutes": r["duration_minutes"],
        "mode": r["mode"],
        "location_type": r["location_type"],
        "attendance": r["attendance"],
        "group_session": bool(r["group_session"]),
        "notes": r["notes"],
        "goal_ids": json.loads(r["goal_ids"] or "[]"),
        "wellbeing": r["wellbeing"],
        "concern": r["concern"],
        "concern_notes": r["concern_notes"],
        "next_visit_at": _iso_dt(r["next_visit_at"]),
        "reviewed": r["reviewed_at"] is not None,
        "concern_acknowledged": r["concern_ack_at"] is not None,
    }


def goal_fields(r: dict) -> dict:
    return {
        "person_id": _uuid_str(r["p_uuid"]),
        "title": r["title"],
        "life_area": r["life_area"],
        "steps": r["steps"],
        "status": r["status"],
        "target_date": _iso_date(r["target_date"]),
        "achieved_at": _iso_dt(r["achieved_at"]),
    }


def goal_progress_fields(r: dict) -> dict:
    return {
        "goal_id": _uuid_str(r["g_uuid"]),
        "person_id": _uuid_str(r["p_uuid"]),
        "visit_id": _uuid_str(r["v_uuid"]),
        "author_id": _uuid_str(r["a_uuid"]),
        "rating": r["rating"],
        "note": r["note"],
    }


def referral_fields(r: dict) -> dict:
    return {
        "person_id": _uuid_str(r["p_uuid"]),
        "resource_id": _uuid_str(r["res_uuid"]),
        "status": r["status"],
        "notes": r["notes"],
        "follow_up_at": _iso_dt(r["follow_up_at"]),
    }


def resource_fields(r: dict) -> dict:
    return {name: r[name] for name in ("name", "category", "description", "address", "phone", "website",
                                       "opening_hours", "area")} | {"archived": bool(r["archived"])}


def review_fields(r: dict) -> dict:
    return {
        "visit_id": _uuid_str(r["v_uuid"]),
        "person_id": _uuid_str(r["p_uuid"]),
        "reviewer_name": r["reviewer_name"],
        "comment": r["comment"],
        "created_at": _iso_dt(r["created_at"]),
    }


def conflict_fields(r: dict) -> dict:
    return {
        "person_id": _uuid_str(r["p_uuid"]),
        "target_entity": r["entity"],
        "target_id": _uuid_str(r["record_id"]),
        "field": r["field"],
        "kept_value": json.loads(r["kept_value"]) if r["kept_value"] is not None else None,
        "lost_value": json.loads(r["lost_value"]) if r["lost_value"] is not None else None,
        "lost_by": r["lost_by_name"],
        "won_by": r["won_by_name"],
        "created_at": _iso_dt(r["created_at"]),
        "resolution": r["resolution"] or None,
    }


# --- push ----------------------------------------------------------------------------------------

def apply_batch(user: User, device: Device, mutations: list) -> list[dict]:
    """Apply a batch in order, in one write transaction; one result per mutation, in the same order.
    The change-counter lock is taken before the first write that needs a rev and held to the commit, so
    batches (and their revs) commit one after another. New visits (the usual batch) are checked before it
    and written, with their revs, together at the end; the checks of other mutations run under it."""
    for attempt in range(3):
        try:
            with write_transaction(), changes.reserved():
                batch = _Batch(user, device, mutations)
                results = [batch.apply(raw) for raw in mutations]
                batch.finish()
            for result in results:
                if isinstance(result.get("rev"), _LateRev):
                    result["rev"] = result["rev"].value
            return results
        except peewee.IntegrityError:
            # The unique mutation id is the last word on at-most-once: if another writer slipped the same id
            # in first, start again and this time answer `duplicate`.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


_ENVELOPE_KEYS = {"id", "entity", "record_id", "op", "base_rev", "fields"}
_ENTITIES = set(FIELD_SCHEMAS)


def _plain_envelope(raw) -> _Mutation | None:
    """The common case without marshmallow's overhead: a mutation envelope that MutationSchema would accept
    as it stands. Anything unusual returns None and goes through the schema."""
    try:
        if (not raw.keys() <= _ENVELOPE_KEYS or raw["entity"] not in _ENTITIES
                or raw["op"] not in ("upsert", "delete")):
            return None
        base = raw.get("base_rev")
        if base is not None and (type(base) is not int or base < 0):
            return None
        fields_ = raw.get("fields", {})
        if type(fields_) is not dict or any(type(k) is not str or len(k) > 60 for k in fields_):
            return None
        mid, rid = raw["id"], raw["record_id"]
        if type(mid) is not str or type(rid) is not str:
            return None
        return _Mutation(uuidlib.UUID(mid), raw["entity"], uuidlib.UUID(rid), raw["op"], base, fields_)
    except (KeyError, ValueError, AttributeError, TypeError):
        return None


def _as_uuid(value) -> uuidlib.UUID:
    return value if isinstance(value, uuidlib.UUID) else uuidlib.UUID(str(value))


def _messages(messages) -> dict:
    """marshmallow messages -> {field: [reason, ...]}."""
    if isinstance(messages, list):
        return {"_schema": [str(m) for m in messages]}
    out = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            for sub_key, sub_value in _messages(value).items():
                out[f"{key}.{sub_key}" if key not in ("fields", "_schema") else sub_key] = sub_value
        elif isinstance(value, list):
            out[str(key)] = [str(v) if not isinstance(v, dict) else json.dumps(v) for v in value]
        else:
            out[str(key)] = [str(value)]
    return out


@dataclass
class _Mutation:
    id: uuidlib.UUID
    entity: str
    record_id: uuidlib.UUID
    op: str
    base_rev: int | None
    fields: dict


@dataclass
class _Outcome:
    status: str
    rev: int | None = None
    conflicts: list = field(default_factory=list)


class _LateRev:
    """The rev of a new visit: given when its row is written with the others of its run (flush), under the
    counter lock, so the checks before it run without the lock. Resolved in every answer before it leaves."""

    __slots__ = ("value",)

    def __init__(self):
        self.value: int | None = None


@dataclass
class _Seen:
    """A mutation already answered: from the table, or earlier in this batch (not yet written)."""

    user_id: int
    status: str
    rev: int | None
    result: str


class _Batch:
    def __init__(self, user: User, device: Device, mutations: list):
        self.user = user
        self.device = device
        self.coordinator = user.is_coordinator
        self._caseload: set[int] | None = None
        self.people: dict = {}  # uuid -> Person, for this batch
        self.pending: list[dict] = []  # AppliedMutation rows, written in one statement at the end
        self.visit_people: set[int] = set()  # people whose visits changed: their reminders follow, once each
        self.new_visits: list[dict] = []
        self.seen: dict = self._previous(mutations)
        self.existing = self._existing(mutations)

    @staticmethod
    def _uuids(mutations: list, key: str, entity: str | None = None) -> list[uuidlib.UUID]:
        out = []
        for raw in mutations:
            if isinstance(raw, dict) and (entity is None or raw.get("entity") == entity):
                try:
                    out.append(uuidlib.UUID(str(raw.get(key))))
                except ValueError:
                    pass
        return out

    def _previous(self, mutations: list) -> dict:
        """One query for every mutation id of the batch that was seen before (at-most-once)."""
        ids = self._uuids(mutations, "id")
        seen = {}
        for start in range(0, len(ids), 500):
            for row in (AppliedMutation
                        .select(AppliedMutation.mutation_id, AppliedMutation.user, AppliedMutation.status,
                                AppliedMutation.rev, AppliedMutation.result)
                        .where(AppliedMutation.mutation_id.in_(ids[start:start + 500]))
                        .tuples()):
                seen[_as_uuid(row[0])] = _Seen(*row[1:])
        return seen

    def _existing(self, mutations: list) -> dict[str, set]:
        """Which of the batch's records exist already, one query per entity: new records skip the lookup."""
        existing = {}
        for entity, model in MODELS.items():
            ids = self._uuids(mutations, "record_id", entity)
            found = set()
            if not ids:
                existing[entity] = found
                continue
            for start in range(0, len(ids), 500):
                found.update(_as_uuid(u) for (u,) in model.select(model.uuid)
                             .where(model.uuid.in_(ids[start:start + 500])).tuples())
            existing[entity] = found
        return existing

    def lookup(self, model, m: _Mutation):
        if m.record_id not in self.existing[m.entity]:
            return None
        return model.get_or_none(model.uuid == m.record_id)

    def finish(self) -> None:
        """Still inside the write transaction: the answers are stored, reminders follow the visits, and the
        device is marked as seen."""
        if self.pending:  # before the counter lock: it needs no rev
            now = utcnow()
            Device.update(last_seen_at=now, last_sync_at=now).where(Device.id == self.device.id).execute()
        self.flush()
        for row in self.pending:
            if isinstance(row["rev"], _LateRev):
                row["rev"] = row["rev"].value
        _insert_rows(AppliedMutation, self.pending)
        # Reminders follow each person's next visit. Any visit written here took a rev, so the counter lock is
        # held: reminder_schedule relies on that.
        reminder_schedule.visits_changed(self.visit_people)

    def record(self, m: _Mutation, status: str, rev: int | None, result: dict) -> None:
        text = json.dumps(result, default=str)
        self.pending.append({"mutation_id": m.id, "device": self.device.id, "user": self.user.id,
                             "entity": m.entity, "record_id": m.record_id, "status": status, "rev": rev,
                             "result": text, "created_at": utcnow()})
        self.seen[m.id] = _Seen(self.user.id, status, rev, text)
        if status != "rejected" and m.entity in self.existing:
            self.existing[m.entity].add(m.record_id)

    def visit_changed(self, visit: Visit) -> None:
        self.visit_people.add(visit.person_id)

    # scope -------------------------------------------------------------------------------------
    @property
    def caseload(self) -> set[int]:
        if self._caseload is None:
            self._caseload = {row.person_id for row in (
                CaseloadAssignment.select(CaseloadAssignment.person)
                .where((CaseloadAssignment.worker == self.user) & CaseloadAssignment.ended_at.is_null()))}
        return self._caseload

    def in_scope(self, person: Person) -> bool:
        if self.coordinator:
            return person.team_id == self.user.team_id
        return person.id in self.caseload

    def person_in_scope(self, person_uuid, field_name: str) -> Person:
        person = self.people.get(person_uuid)
        if person is None:
            person = self.people[person_uuid] = Person.get_or_none(Person.uuid == person_uuid)
        if person is None or not self.in_scope(person):  # alike, so ids outside scope cannot be probed
            raise Rejected("not_found", {field_name: [NO_SUCH_PERSON]})
        if person.deleted:
            raise Rejected("forbidden", {field_name: ["This person has been removed."]})
        return person

    # one mutation --------------------------------------------------------------------------------
    def apply(self, raw) -> dict:
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        shown_id = raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else None
        if isinstance(raw, dict) and raw.get("entity") in PULL_ONLY_ENTITIES + ("assignment", "caseload"):
            reason = ("Only a coordinator can assign caseloads." if raw["entity"] in ("assignment", "caseload")
                      else "Resources and reviews are kept by coordinators; devices only receive them.")
            return {"id": shown_id, "status": "rejected", "code": "forbidden", "rev": None,
                    "errors": {"entity": [reason]}}
        m = _plain_envelope(raw)
        if m is None:  # not plainly valid: MutationSchema decides, and names each field and reason
            try:
                loaded = _MUTATION_SCHEMA.load(raw)
            except ValidationError as exc:
                return {"id": shown_id, "status": "rejected", "code": "invalid", "rev": None,
                        "errors": _messages(exc.messages)}
            m = _Mutation(loaded["id"], loaded["entity"], loaded["record_id"], loaded["op"], loaded["base_rev"],
                          loaded["fields_"])
        mid = str(m.id)

        previous = self.seen.get(m.id)
        if previous is not None:
            if previous.user_id != self.user.id:
                return {"id": mid, "status": "rejected", "code": "invalid", "rev": None,
                        "errors": {"id": ["This mutation id was already used."]}}
            stored = json.loads(previous.result or "{}")
            return {"id": mid, "status": "duplicate", "outcome": previous.status, "rev": previous.rev,
                    "code": stored.get("code"), "errors": stored.get("errors", {}),
                    "conflicts": stored.get("conflicts", [])}

        new_visit = m.entity == "visit" and m.op == "upsert" and m.record_id not in self.existing["visit"]
        try:
            if new_visit:  # checks come first and only then is anything written: no savepoint needed
                outcome = self.apply_visit(m)
            else:
                self.flush()  # anything but another new visit may read what is waiting to be written
                changes.hold()  # the counter lock, before the savepoint (see changes.hold)
                with database.atomic():  # a savepoint: a mutation that fails half-way leaves nothing behind
                    outcome = getattr(self, "apply_" + m.entity)(m)
        except Rejected as exc:
            # Kept with what was typed, so nothing is lost even when it cannot be applied.
            self.record(m, "rejected", None, {"code": exc.code, "errors": exc.errors, "fields": m.fields,
                                              "op": m.op})
            return {"id": mid, "status": "rejected", "code": exc.code, "rev": None, "errors": exc.errors}
        self.record(m, outcome.status, outcome.rev, {"conflicts": outcome.conflicts} if outcome.conflicts else {})
        response = {"id": mid, "status": outcome.status, "rev": outcome.rev, "errors": {}}
        if outcome.conflicts:
            response["conflicts"] = outcome.conflicts
        return response

    # loading fields ---------------------------------------------------------------------------
    def load_fields(self, m: _Mutation, current: dict | None, new: bool) -> dict:
        """Validate `fields` for this entity. Read-only fields pass only when unchanged (a device may
        echo a whole record back); otherwise each is refused with its reason."""
        errors = {}
        data = dict(m.fields)
        read_only = READ_ONLY_FIELDS.get(m.entity, {})
        for name in list(data):
            if name in read_only:
                same = (current is not None and current.get(name) == data[name]) or (
                    current is None and data[name] in (None, False, "", []))
                del data[name]
                if not same:
                    errors[name] = [read_only[name] if not self.coordinator or "coordinator" not in read_only[name]
                                    else "Change this on the coordinator pages."]
        try:
            loaded = _FIELD_SCHEMAS[m.entity].load(data, partial=not new)
        except ValidationError as exc:
            errors.update(_messages(exc.messages))
            loaded = {}
        if errors:
            raise Rejected("invalid", errors)
        return loaded

    # writing ------------------------------------------------------------------------------------
    def stamp(self, rev: int) -> list:
        return [rev, self.device.id, self.user.id]

    def write(self, m: _Mutation, record, person: Person | None, values: dict, public: dict,
              current_public: dict) -> _Outcome:
        """Apply changed values to an existing record. `values` are model attribute values keyed by the
        public field name; conflicts are kept per field unless the record is append-only."""
        rev = next_rev()
        conflicts = []
        conflicting = m.entity not in APPEND_ONLY
        frevs = json.loads(record.field_revs or "{}") if conflicting else {}
        base = m.base_rev or 0
        if record.deleted:
            last = frevs.get("deleted")
            if conflicting and last and last[0] > base and last[1] != self.device.id:
                conflicts.append(self.keep_conflict(m, record, person, "deleted", False, True, last[2], rev))
            record.deleted = False
            frevs["deleted"] = self.stamp(rev)
        for name, value in values.items():
            attr = ATTRS.get(m.entity, {}).get(name, name)
            if record.__data__.get(attr) == value:
                continue  # nothing changes, so nothing is lost
            if conflicting:
                last = frevs.get(name)
                if last and last[0] > base and last[1] != self.device.id:
                    conflicts.append(self.keep_conflict(m, record, person, name, public.get(name),
                                                        current_public.get(name), last[2], rev))
                frevs[name] = self.stamp(rev)
            setattr(record, attr, value)
        if conflicting:
            record.field_revs = json.dumps(frevs)
        record.rev = rev
        record.updated_at = utcnow()
        record.save()
        return _Outcome("conflict" if conflicts else "applied", rev, conflicts)

    def keep_conflict(self, m, record, person, name, kept, lost, lost_by_id, rev) -> dict:
        conflict = Conflict.create(
            person=person, entity=m.entity, record_id=record.uuid, field=name,
            kept_value=json.dumps(_jsonable(kept)), lost_value=json.dumps(_jsonable(lost)),
            lost_by=lost_by_id if lost_by_id and User.get_or_none(User.id == lost_by_id) else None,
            won_by=self.user, rev=rev)
        return {"id": str(conflict.uuid), "field": name}

    def delete(self, m: _Mutation, record, person: Person | None) -> _Outcome:
        if record.deleted:
            return _Outcome("applied", record.rev)  # already a tombstone: nothing more to do
        rev = next_rev()
        conflicts = []
        if m.entity not in APPEND_ONLY:
            frevs = json.loads(record.field_revs or "{}")
            base = m.base_rev or 0
            later = [v for v in frevs.values() if v[0] > base and v[1] != self.device.id]
            if later:
                newest = max(later)
                conflicts.append(self.keep_conflict(m, record, person, "deleted", True, False, newest[2], rev))
            frevs["deleted"] = self.stamp(rev)
            record.field_revs = json.dumps(frevs)
        record.deleted = True
        record.rev = rev
        record.updated_at = utcnow()
        record.save()
        return _Outcome("conflict" if conflicts else "applied", rev, conflicts)

    def create(self, m: _Mutation, model, values: dict, **extra) -> tuple[object, int]:
        rev = next_rev()
        attrs = {ATTRS.get(m.entity, {}).get(name, name): value for name, value in values.items()}
        if m.entity not in APPEND_ONLY:
            attrs["field_revs"] = json.dumps({name: self.stamp(rev) for name in values})
        now = utcnow()
        record = model.create(uuid=m.record_id, rev=rev, created_at=now, updated_at=now, **attrs, **extra)
        return record, rev

    def create_visit_later(self, m: _Mutation, values: dict, person: Person) -> _LateRev:
        """The hot path (a new visit logged in the field): the row is written with the others of its run in
        one INSERT, before anything else in the batch reads the table, still in this transaction; its rev is
        given then."""
        rev = _LateRev()
        now = utcnow()
        row = dict(_VISIT_DEFAULTS)
        row.update(values)
        row.update(uuid=m.record_id, rev=rev, created_at=now, updated_at=now, person=person.id,
                   author=self.user.id)
        self.new_visits.append(row)
        self.visit_people.add(person.id)
        return rev

    def flush(self) -> None:
        """Write the new visits waiting since the last flush, taking their revs now, in batch order (every
        other mutation flushes before it takes a rev of its own)."""
        if self.new_visits:
            rows, self.new_visits = self.new_visits, []
            for row in rows:
                row["rev"].value = next_rev()
                row["rev"] = row["rev"].value
            _insert_rows(Visit, rows)

    # entities -----------------------------------------------------------------------------------
    def apply_person(self, m: _Mutation) -> _Outcome:
        record = self.lookup(Person, m)
        if record is not None and not self.in_scope(record):
            raise Rejected("forbidden", {"record_id": ["This person is not on your caseload."]})
        if m.op == "delete":
            if record is None:
                raise Rejected("not_found", {"record_id": ["No such person."]})
            if not self.coordinator:
                raise Rejected("forbidden", {"record_id": ["Only a coordinator can remove a person."]})
            return self.delete(m, record, record)
        if record is None:
            values = self.load_fields(m, None, new=True)
            if self.user.team_id is None:
                raise Rejected("forbidden", {"record_id": ["You are not in a team, so you cannot add people."]})
            record, rev = self.create(m, Person, values, team=self.user.team_id, created_by=self.user,
                                      added_in_field=not self.coordinator)
            if not self.coordinator:  # met in the field: joins this worker's caseload, flagged for the coordinator
                CaseloadAssignment.create(person=record, worker=self.user, assigned_by=self.user, rev=rev)
                self.caseload.add(record.id)
            return _Outcome("applied", rev)
        current = person_fields(record.__data__)
        values = self.load_fields(m, current, new=False)
        return self.write(m, record, record, values, _public(values), current)

    def apply_visit(self, m: _Mutation) -> _Outcome:
        record = self.lookup(Visit, m)
        if record is None:
            if m.op == "delete":
                raise Rejected("not_found", {"record_id": ["No such visit."]})
            values = self.load_fields(m, None, new=True)
            person = self.person_in_scope(values.pop("person_id"), "person_id")
            rev = self.create_visit_later(m, _visit_values(values), person)
            return _Outcome("applied", rev)
        person = Person.get_by_id(record.person_id)
        if record.author_id != self.user.id:
            raise Rejected("forbidden", {"record_id": ["Only the visit's author can change it."]})
        if not self.in_scope(person):
            raise Rejected("forbidden", {"person_id": ["This person is not on your caseload."]})
        if m.op == "delete":
            outcome = self.delete(m, record, person)
            self.visit_changed(record)
            return outcome
        current = visit_fields(record.__data__ | {"p_uuid": person.uuid, "a_uuid": self.user.uuid})
        values = self.load_fields(m, current, new=False)
        _same_parent(values, "person_id", person.uuid, "A visit cannot move to another person.")
        outcome = self.write(m, record, person, _visit_values(values), {}, {})
        self.visit_changed(record)
        return outcome

    def apply_goal(self, m: _Mutation) -> _Outcome:
        record = self.lookup(Goal, m)
        if record is None:
            if m.op == "delete":
                raise Rejected("not_found", {"record_id": ["No such goal."]})
            values = self.load_fields(m, None, new=True)
            person = self.person_in_scope(values.pop("person_id"), "person_id")
            record, rev = self.create(m, Goal, _goal_values(values, None), person=person, created_by=self.user)
            return _Outcome("applied", rev)
        person = Person.get_by_id(record.person_id)
        if not self.in_scope(person):
            raise Rejected("forbidden", {"person_id": ["This person is not on your caseload."]})
        if m.op == "delete":
            return self.delete(m, record, person)
        current = goal_fields(record.__data__ | {"p_uuid": person.uuid})
        values = self.load_fields(m, current, new=False)
        _same_parent(values, "person_id", person.uuid, "A goal cannot move to another person.")
        return self.write(m, record, person, _goal_values(values, record), _public(values), current)

    def apply_goal_progress(self, m: _Mutation) -> _Outcome:
        record = self.lookup(GoalProgress, m)
        if record is None:
            if m.op == "delete":
                raise Rejected("not_found", {"record_id": ["No such goal progress."]})
            values = self.load_fields(m, None, new=True)
            goal = Goal.get_or_none(Goal.uuid == values.pop("goal_id"))
            person = Person.get_by_id(goal.person_id) if goal is not None else None
            if goal is None or goal.deleted or not self.in_scope(person):  # alike: see person_in_scope
                raise Rejected("not_found", {"goal_id": [NO_SUCH_GOAL]})
            values = self.progress_visit(values, goal)
            record, rev = self.create(m, GoalProgress, values, goal=goal, author=self.user)
            return _Outcome("applied", rev)
        goal = Goal.get_by_id(record.goal_id)
        person = Person.get_by_id(goal.person_id)
        if record.author_id != self.user.id:
            raise Rejected("forbidden", {"record_id": ["Only the author can change this goal progress."]})
        if not self.in_scope(person):
            raise Rejected("forbidden", {"goal_id": ["This goal's person is not on your caseload."]})
        if m.op == "delete":
            return self.delete(m, record, person)
        values = self.load_fields(m, None, new=False)
        _same_parent(values, "goal_id", goal.uuid, "Goal progress cannot move to another goal.")
        return self.write(m, record, person, self.progress_visit(values, goal), {}, {})

    def progress_visit(self, values: dict, goal: Goal) -> dict:
        if "visit_id" in values:
            visit_id = values.pop("visit_id")
            if visit_id is None:
                values["visit"] = None
            else:
                visit = Visit.get_or_none(Visit.uuid == visit_id)
                if visit is None or visit.person_id != goal.person_id:
                    raise Rejected("invalid", {"visit_id": ["No visit with this person has this id."]})
                values["visit"] = visit.id
        return values

    def apply_referral(self, m: _Mutation) -> _Outcome:
        record = self.lookup(Referral, m)
        if record is None:
            if m.op == "delete":
                raise Rejected("not_found", {"record_id": ["No such referral."]})
            values = self.load_fields(m, None, new=True)
            person = self.person_in_scope(values.pop("person_id"), "person_id")
            values = _referral_values(values)
            record, rev = self.create(m, Referral, values, person=person, created_by=self.user)
            return _Outcome("applied", rev)
        person = Person.get_by_id(record.person_id)
        if not self.in_scope(person):
            raise Rejected("forbidden", {"person_id": ["This person is not on your caseload."]})
        if m.op == "delete":
            return self.delete(m, record, person)
        current = referral_fields(record.__data__ | {
            "p_uuid": person.uuid, "res_uuid": Resource.get_by_id(record.resource_id).uuid})
        values = self.load_fields(m, current, new=False)
        _same_parent(values, "person_id", person.uuid, "A referral cannot move to another person.")
        public = _public(values)
        return self.write(m, record, person, _referral_values(values), public, current)

    def apply_conflict(self, m: _Mutation) -> _Outcome:
        conflict = Conflict.get_or_none(Conflict.uuid == m.record_id)
        if conflict is None or conflict.deleted or conflict.person_id is None:
            raise Rejected("not_found", {"record_id": ["No such conflict."]})
        person = Person.get_by_id(conflict.person_id)
        if not self.in_scope(person):
            raise Rejected("forbidden", {"record_id": ["This person is not on your caseload."]})
        if m.op == "delete":
            raise Rejected("invalid", {"op": ["Resolve a conflict with upsert and action restore or dismiss."]})
        action = self.load_fields(m, None, new=True)["action"]
        if conflict.resolution:
            raise Rejected("invalid", {"action": [f"This conflict was already resolved ({conflict.resolution})."]})
        rev = next_rev()
        conflicts = []
        if action == "restore":
            conflicts = self.restore(conflict, person, rev)
        conflict.resolution = "restored" if action == "restore" else "dismissed"
        conflict.resolved_at = utcnow()
        conflict.resolved_by = self.user
        conflict.rev = rev
        conflict.updated_at = utcnow()
        conflict.save()
        return _Outcome("conflict" if conflicts else "applied", rev, conflicts)

    def restore(self, conflict: Conflict, person: Person, rev: int) -> list:
        """Put the overwritten value back as a new change. If the field moved on since the conflict was kept,
        what it holds now is kept in turn, so a restore never loses anything either."""
        model = MODELS[conflict.entity]
        record = model.get_or_none(model.uuid == conflict.record_id)
        if record is None:
            raise Rejected("not_found", {"record_id": ["The record this conflict belongs to is gone."]})
        lost = json.loads(conflict.lost_value) if conflict.lost_value is not None else None
        kept = json.loads(conflict.kept_value) if conflict.kept_value is not None else None
        frevs = json.loads(record.field_revs or "{}")
        name = conflict.field
        m = _Mutation(uuidlib.uuid4(), conflict.entity, record.uuid, "upsert", rev, {})
        if name == "deleted":
            now_value = bool(record.deleted)
            record.deleted = bool(lost)
        else:
            current = _record_public(conflict.entity, record, person)
            now_value = current.get(name)
            try:
                loaded = _FIELD_SCHEMAS[conflict.entity].load({name: lost}, partial=True)
            except ValidationError as exc:
                raise Rejected("invalid", {"action": ["The kept value can no longer be restored."]}) from exc
            converters = {"goal": lambda v: _goal_values(v, record), "referral": _referral_values}
            values = converters.get(conflict.entity, lambda v: v)(loaded)
            for key, value in values.items():
                setattr(record, ATTRS.get(conflict.entity, {}).get(key, key), value)
        extra = []
        if now_value != kept and now_value != lost:
            last = frevs.get(name) or [0, 0, None]
            extra.append(self.keep_conflict(m, record, person, name, lost, now_value, last[2], rev))
        frevs[name] = self.stamp(rev)
        record.field_revs = json.dumps(frevs)
        record.rev = rev
        record.updated_at = utcnow()
        record.save()
        return extra


def _insert_rows(model, rows: list[dict]) -> None:
    """Many rows of one model in one prepared INSERT (peewee's insert_many builds SQL per value, which is
    most of a busy push's time). Rows are keyed by field name and carry every column but `id`."""
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join([database.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from the model
    params = [[f.db_value(row[f.name]) for f in fields] for row in rows]
    with peewee.__exception_wrapper__:  # driver errors as peewee's (IntegrityError: apply_batch retries)
        _insert(sql, marks, params)


def _insert(sql: str, marks: str, params: list) -> None:
    if is_postgres():
        import psycopg2.extras  # noqa: PLC0415 - PostgreSQL only. executemany is a round trip per row

        psycopg2.extras.execute_values(database.cursor(), sql.replace(f"({marks})", "%s"), params,
                                       page_size=len(params))
    else:
        database.cursor().executemany(sql, params)


def _default(field):
    return field.default() if callable(field.default) else field.default


# Every column of a new visit, so rows of one INSERT agree on their columns.
_VISIT_DEFAULTS = {name: _default(f) for name, f in Visit._meta.fields.items() if name != "id"}

# Public field name -> model attribute, where they differ.
ATTRS = {
    "referral": {"resource_id": "resource"},
}


def _same_parent(values: dict, name: str, current_uuid, message: str) -> None:
    if name in values:
        if values[name] != current_uuid:
            raise Rejected("invalid", {name: [message]})
        del values[name]


def _public(values: dict) -> dict:
    return {name: _jsonable(value) for name, value in values.items()}


def _visit_values(values: dict) -> dict:
    if "goal_ids" in values:
        values["goal_ids"] = json.dumps([str(g) for g in values["goal_ids"]])
    return values


def _goal_values(values: dict, record: Goal | None) -> dict:
    if values.get("status") == "achieved" and (record is None or record.achieved_at is None):
        values["achieved_at"] = utcnow()
    return values


def _referral_values(values: dict) -> dict:
    if "resource_id" in values:
        resource = Resource.get_or_none(Resource.uuid == values["resource_id"])
        if resource is None or resource.deleted:
            raise Rejected("not_found", {"resource_id": ["No such resource in the directory."]})
        values["resource_id"] = resource.id
    return values


def _record_public(entity: str, record, person: Person) -> dict:
    row = dict(record.__data__)
    row["p_uuid"] = person.uuid
    if entity == "referral":
        row["res_uuid"] = Resource.get_by_id(record.resource_id).uuid
        return referral_fields(row)
    if entity == "goal":
        return goal_fields(row)
    return person_fields(row)


# --- pull ----------------------------------------------------------------------------------------

@dataclass
class _Scope:
    """Who is in a pull's scope at snapshot `snapshot`: people steady since before `cursor`, people who
    joined after it (whole history), people who left after it (purge)."""

    cursor: int
    snapshot: int
    coordinator: bool  # a coordinator's scope is their team's people; a worker's, their open caseload
    scope_id: int  # the team's id or the worker's id
    joined: dict  # person id -> rev of the assignment that brought them in
    left: dict  # person id -> rev of the assignment's end


def _scope(user: User, cursor: int, snapshot: int) -> _Scope:
    if user.is_coordinator:
        return _Scope(cursor, snapshot, True, user.team_id or 0, {}, {})
    open_rows: dict[int, int] = {}
    uncertain: set[int] = set()
    ended: dict[int, int] = {}
    rows = (CaseloadAssignment
            .select(CaseloadAssignment.person, CaseloadAssignment.rev, CaseloadAssignment.ended_at)
            .where((CaseloadAssignment.worker == user)
                   & (CaseloadAssignment.ended_at.is_null() | (CaseloadAssignment.rev > cursor)))
            .tuples())
    for person_id, rev, ended_at in rows:
        if rev > snapshot:
            uncertain.add(person_id)  # changed after our snapshot: the next pull sees it settled
        elif ended_at is None:
            open_rows[person_id] = min(rev, open_rows.get(person_id, rev))
        else:
            ended[person_id] = max(rev, ended.get(person_id, 0))
    joined = {pid: rev for pid, rev in open_rows.items() if rev > cursor and pid not in uncertain}
    left = {pid: rev for pid, rev in ended.items() if pid not in open_rows and pid not in uncertain}
    return _Scope(cursor, snapshot, False, user.id, joined, left)


@dataclass
class _Source:
    """One entity's pull query: how to select its rows (with the uuids it refers to) and which column names
    the person whose scope it is in."""

    entity: str
    model: type
    select: object  # () -> query
    person_col: object  # () -> expression
    fields: object  # row -> dict


def _sources() -> list[_Source]:
    author = User.alias("author")
    lost_by = User.alias("lost_by")
    won_by = User.alias("won_by")
    reviewer = User.alias("reviewer")
    return [
        _Source("resource", Resource, lambda: Resource.select(), None, resource_fields),
        _Source("person", Person, lambda: Person.select(), lambda: Person.id, person_fields),
        _Source("goal", Goal,
                lambda: Goal.select(Goal, Person.uuid.alias("p_uuid")).join(Person, on=(Goal.person == Person.id)),
                lambda: Goal.person, goal_fields),
        _Source("visit", Visit,
                lambda: (Visit.select(Visit, Person.uuid.alias("p_uuid"), author.uuid.alias("a_uuid"))
                         .join(Person, on=(Visit.person == Person.id))
                         .join_from(Visit, author, on=(Visit.author == author.id))),
                lambda: Visit.person, visit_fields),
        _Source("goal_progress", GoalProgress,
                lambda: (GoalProgress.select(GoalProgress, Goal.uuid.alias("g_uuid"), Person.uuid.alias("p_uuid"),
                                             Visit.uuid.alias("v_uuid"), author.uuid.alias("a_uuid"))
                         .join(Goal, on=(GoalProgress.goal == Goal.id))
                         .join(Person, on=(Goal.person == Person.id))
                         .join_from(GoalProgress, Visit, peewee.JOIN.LEFT_OUTER, on=(GoalProgress.visit == Visit.id))
                         .join_from(GoalProgress, author, peewee.JOIN.LEFT_OUTER,
                                    on=(GoalProgress.author == author.id))),
                lambda: Goal.person, goal_progress_fields),
        _Source("referral", Referral,
                lambda: (Referral.select(Referral, Person.uuid.alias("p_uuid"), Resource.uuid.alias("res_uuid"))
                         .join(Person, on=(Referral.person == Person.id))
                         .join_from(Referral, Resource, on=(Referral.resource == Resource.id))),
                lambda: Referral.person, referral_fields),
        _Source("review", Review,
                lambda: (Review.select(Review, Visit.uuid.alias("v_uuid"), Person.uuid.alias("p_uuid"),
                                       reviewer.name.alias("reviewer_name"))
                         .join(Visit, on=(Review.visit == Visit.id))
                         .join(Person, on=(Visit.person == Person.id))
                         .join_from(Review, reviewer, on=(Review.reviewer == reviewer.id))),
                lambda: Visit.person, review_fields),
        _Source("conflict", Conflict,
                lambda: (Conflict.select(Conflict, Person.uuid.alias("p_uuid"), lost_by.name.alias("lost_by_name"),
                                         won_by.name.alias("won_by_name"))
                         .join(Person, on=(Conflict.person == Person.id))
                         .join_from(Conflict, lost_by, peewee.JOIN.LEFT_OUTER, on=(Conflict.lost_by == lost_by.id))
                         .join_from(Conflict, won_by, peewee.JOIN.LEFT_OUTER, on=(Conflict.won_by == won_by.id))),
                lambda: Conflict.person, conflict_fields),
    ]


_ORDER = {name: i for i, name in enumerate(PULL_ORDER)}


# Pull queries are built once per shape and kept as SQL with numbered slots: building them with peewee on
# every pull cost more than running them. Distinct sentinel numbers mark where each value goes.
_SENTINELS = {"low": -9_100_000_001, "high": -9_100_000_002, "scope": -9_100_000_003,
              "cursor": -9_100_000_004, "snapshot": -9_100_000_005, "exact": -9_100_000_006,
              "limit": 9_100_000_007}
_SQL_CACHE: dict = {}


def _cached_rows(key: tuple, build, values: dict) -> list[dict]:
    """Run the query `build(sentinels)` describes with `values`; rows as dicts of raw column values
    (peewee's per-value conversion is most of a big pull's time; the serialisers read raw values)."""
    key = (type(database.obj), *key)
    entry = _SQL_CACHE.get(key)
    if entry is None:
        sentinels = {name: _SENTINELS[name] for name in values}
        sql, params = build(sentinels).sql()
        by_value = {v: name for name, v in sentinels.items()}
        slots = [(by_value[p], None) if type(p) is int and p in by_value else (None, p) for p in params]
        if any(str(v) in sql for v in sentinels.values()):
            raise RuntimeError("a pull value was inlined into SQL; it cannot be cached")
        entry = _SQL_CACHE[key] = (sql, slots)
    sql, slots = entry
    cursor = database.execute_sql(sql, [values[name] if name else const for name, const in slots])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _steady_rows(src: _Source, scope: _Scope, low: int, high: int, limit: int | None) -> list[dict]:
    """Changes in (low, high] to records of people in scope since before the cursor (and resources)."""

    def build(v):
        q = src.select().where((src.model.rev > v["low"]) & (src.model.rev <= v["high"]))
        if src.person_col is not None:
            if scope.coordinator:
                people = Person.select(Person.id).where(Person.team == v["scope"])
            else:
                people = (CaseloadAssignment
                          .select(CaseloadAssignment.person)
                          .where((CaseloadAssignment.worker == v["scope"])
                                 & CaseloadAssignment.ended_at.is_null()
                                 & (CaseloadAssignment.rev <= v["cursor"])))
            q = q.where(src.person_col().in_(people))
        q = q.order_by(src.model.rev, src.model.id)
        return q.limit(v["limit"]) if "limit" in v else q

    values = {"low": low, "high": high, "scope": scope.scope_id, "cursor": scope.cursor}
    if limit:
        values["limit"] = limit
    return _cached_rows(("steady", src.entity, scope.coordinator, bool(limit)), build, values)


def _joined_rows(src: _Source, scope: _Scope, exact: int | None, limit: int | None) -> list[dict]:
    """The whole history of people who joined the caseload after the cursor, each record at the rev of its
    own last change or of the joining, whichever is later. Tombstones come too, however old: a device may
    still hold a record of someone who left and came back, and leaving out tombstones older than the cursor
    loses them when paging (a tombstone rides at the joining's rev, so a page can end past its own rev
    before it is sent, and the next page's cursor then filtered it out, leaving a deleted visit on a phone)."""

    def build(v):
        assignment = CaseloadAssignment.alias("joining")
        vrev = peewee.Case(None, [(assignment.rev > src.model.rev, assignment.rev)], src.model.rev)
        q = (src.select()
             .select_extend(vrev.alias("vrev"))
             .join_from(src.model, assignment, on=(
                 (assignment.person == src.person_col())
                 & (assignment.worker == v["scope"])
                 & assignment.ended_at.is_null()
                 & (assignment.rev > v["cursor"])
                 & (assignment.rev <= v["snapshot"])))
             .where(src.model.rev <= v["snapshot"]))
        if "exact" in v:
            q = q.where(vrev == v["exact"])
        q = q.order_by(vrev, src.model.id)
        return q.limit(v["limit"]) if "limit" in v else q

    values = {"scope": scope.scope_id, "cursor": scope.cursor, "snapshot": scope.snapshot}
    if exact is not None:
        values["exact"] = exact
    if limit:
        values["limit"] = limit
    return _cached_rows(("joined", src.entity, exact is not None, bool(limit)), build, values)


def _change(src: _Source, row: dict, rev: int) -> dict:
    deleted = bool(row["deleted"])
    return {"entity": src.entity, "record_id": _uuid_str(row["uuid"]), "rev": rev, "deleted": deleted,
            "fields": {} if deleted else src.fields(row)}


def pull_changes(user: User, device: Device, cursor: int = 0, limit: int = 500) -> dict:
    """Everything in this user's scope that changed after `cursor`, oldest first, about `limit` at a time.
    A page always ends on a rev boundary; `cursor` in the answer is where the next pull starts."""
    # Every row with a rev up to the snapshot has committed (revs commit in order), and every query below is
    # bounded by it: a later commit waits for the next pull instead of slipping past the cursor.
    snapshot = current_rev()
    if snapshot <= cursor:  # nothing at all has changed since: no more queries
        touch_device(device, synced=True)
        return {"changes": [], "purge": [], "cursor": cursor, "more": False}
    with database.atomic():  # one read snapshot on SQLite as well
        scope = _scope(user, cursor, snapshot)
        found: list[tuple] = []  # (rev, order, id, source, row)
        truncated: list[tuple] = []  # (source, kind, highest rev fetched)
        for src in _sources():
            runs = [("steady", _steady_rows(src, scope, cursor, snapshot, limit + 1))]
            if scope.joined and src.person_col is not None:
                runs.append(("joined", _joined_rows(src, scope, None, limit + 1)))
            for kind, rows in runs:
                for row in rows:
                    rev = row["vrev"] if kind == "joined" else row["rev"]
                    found.append((rev, _ORDER[src.entity], row["id"], src, row))
                if len(rows) > limit:
                    top = rows[-1]["vrev"] if kind == "joined" else rows[-1]["rev"]
                    truncated.append((src, kind, top))
        found.sort(key=lambda item: item[:3])
        if truncated or len(found) > limit:
            upto = found[limit - 1][0]
            for src, kind, top in truncated:
                if top == upto:  # this source may hold more rows at exactly `upto`: fetch them all
                    seen = {item[2] for item in found if item[3] is src}
                    rows = (_steady_rows(src, scope, upto - 1, upto, None) if kind == "steady"
                            else _joined_rows(src, scope, upto, None))
                    for row in rows:
                        if row["id"] not in seen:
                            found.append((upto, _ORDER[src.entity], row["id"], src, row))
            found.sort(key=lambda item: item[:3])
            more = bool(truncated) or found[-1][0] > upto
            page = [item for item in found if item[0] <= upto]
            # Nothing left beyond this page (one rev's group made it long): the page reaches the snapshot, so
            # purges after `upto` come with it instead of being skipped by the cursor.
            next_cursor = upto if more else snapshot
        else:
            page, more, next_cursor = found, False, snapshot
        purge = _purge(scope, next_cursor)
        changes = [_change(item[3], item[4], item[0]) for item in page]
    touch_device(device, synced=not more)
    return {"changes": changes, "purge": purge, "cursor": next_cursor, "more": more}


def _purge(scope: _Scope, upto: int) -> list[dict]:
    """People who left the caseload in (cursor, upto], with every record of theirs a device may hold."""
    gone = [pid for pid, rev in scope.left.items() if rev <= upto]
    if not gone:
        return []
    out = [{"entity": "person", "record_id": _uuid_str(u)}
           for (u,) in Person.select(Person.uuid).where(Person.id.in_(gone)).tuples()]
    queries = [
        ("goal", Goal.select(Goal.uuid).where(Goal.person.in_(gone))),
        ("visit", Visit.select(Visit.uuid).where(Visit.person.in_(gone))),
        ("goal_progress", GoalProgress.select(GoalProgress.uuid).join(Goal).where(Goal.person.in_(gone))),
        ("referral", Referral.select(Referral.uuid).where(Referral.person.in_(gone))),
        ("review", Review.select(Review.uuid).join(Visit).where(Visit.person.in_(gone))),
        ("conflict", Conflict.select(Conflict.uuid).where(Conflict.person.in_(gone))),
    ]
    for entity, query in queries:
        out.extend({"entity": entity, "record_id": _uuid_str(u)} for (u,) in query.tuples())
    return out
