"""Push: a device's outbox applied in order, at most once per mutation id, in one write transaction.

Steps: envelopes load (and new records' fields are checked) before the transaction; inside it one query each
finds the mutation ids seen before, which records exist, and the people, goals and visits the batch names;
each mutation then goes through its entity's handler (handlers.HANDLERS), in a savepoint unless it is a new
visit or goal rating, which are checked against what was loaded and written together (bulk.Deferred). The
answers are stored (AppliedMutation, with a digest of the content) and reminders follow the visits."""

from __future__ import annotations

import json
from dataclasses import dataclass

import peewee
from marshmallow import ValidationError

from .. import attendance
from ..codes import current_visit_fields
from ..db import database, utcnow, write_transaction
from ..models import AppliedMutation, Device, Goal, Person, User, Visit
from ..reminders import schedule as reminder_schedule
from ..schemas import FIELD_SCHEMAS, READ_ONLY_FIELDS
from . import concern_alerts, envelope
from .bulk import Deferred, LateRev, NewVisitRef, insert_rows, key_of, select_in
from .devices import mark_synced
from .envelope import Mutation
from .errors import NO_SUCH_PERSON, Rejected
from .handlers import HANDLERS, MODELS
from .revisions import hold, reserved
from .rules import fast_load
from .scope import Scope, parse_uuid

DEFERRABLE = {"visit", "goal_progress"}
_SCHEMAS = {name: schema() for name, schema in FIELD_SCHEMAS.items()}


@dataclass(slots=True)
class Refusal:
    """An envelope that did not load: answered, never stored (it has no usable id)."""

    id: str | None
    code: str
    errors: dict
    concern: Mutation | None = None  # a visit with a concern whose envelope did not load: still alerts


@dataclass(slots=True)
class PersonRef:
    """What a push needs of a person to check a new record against them (scope.Scope.allows reads id, team_id)."""

    id: int
    team_id: int
    deleted: bool


@dataclass(slots=True)
class GoalRef:
    id: int
    person_id: int
    deleted: bool


@dataclass(slots=True)
class Seen:
    """A mutation answered before: from the table, or earlier in this batch (not yet written)."""

    user_id: int
    status: str
    rev: object
    result: str
    digest: str | None


def apply_batch(user: User, device: Device, mutations: list) -> list[dict]:
    """Apply a batch in order; one result per mutation, in the same order. The change-counter lock is taken
    at the first write that needs a rev and held to the commit, so batches (and their revs) commit one after
    another."""
    items = [_load(raw) for raw in mutations]
    for attempt in range(3):
        try:
            with write_transaction(), reserved():
                batch = Batch(user, device, items)
                results = [batch.apply(item) for item in items]
                batch.finish()
            for result in results:
                if isinstance(result.get("rev"), LateRev):
                    result["rev"] = result["rev"].value
            return results
        except peewee.IntegrityError:
            # The unique mutation id is the last word on at-most-once: if another writer slipped the same id
            # in first, start again and this time answer `duplicate`.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _load(raw) -> Mutation | Refusal:
    try:
        m = envelope.load(raw)
    except Rejected as exc:
        return Refusal(envelope.shown_id(raw), exc.code, exc.errors, concern_alerts.refused_visit(raw))
    if m.entity == "visit":  # an old phone's pre-0090 location code is mapped, not refused (server/codes.py)
        m.fields = current_visit_fields(m.fields)
    if m.op == "upsert" and m.base_rev is None and not (m.fields.keys() & READ_ONLY_FIELDS.get(m.entity, {})):
        m.checked = fast_load(m.entity, m.fields, partial=False)  # most likely new: checked outside the lock
    return m


class Batch:
    def __init__(self, user: User, device: Device, items: list):
        self.user = user
        self.device = device
        self.coordinator = user.is_coordinator
        self.scope = Scope(user)
        self.deferred = Deferred()
        self.pending: list[dict] = []  # AppliedMutation rows, written in one statement at the end
        self.visit_people: set[int] = set()  # people whose visits changed: their reminders follow, once each
        self.run_people: set[int] = set()  # of them, those whose did-not-attend run may have changed however it stood
        mutations = [m for m in items if isinstance(m, Mutation)]
        self.seen = self._previous(mutations)
        self.existing = self._existing(mutations)
        self.refs: dict = {}  # key_of(uuid) -> PersonRef
        self.refs_by_id: dict = {}  # person id -> PersonRef
        self.people_by_id: dict = {}  # person id -> Person (whole records, read when needed)
        self.goals: dict = {}  # key_of(uuid) -> GoalRef or None
        self.visits: dict = {}  # key_of(uuid) -> (id or NewVisitRef, person id)
        self._preload(mutations)

    # loading what the batch names, one query each ------------------------------------------------
    def _previous(self, mutations: list) -> dict:
        rows = select_in([AppliedMutation.mutation_id, AppliedMutation.user, AppliedMutation.status,
                          AppliedMutation.rev, AppliedMutation.result, AppliedMutation.content_hash],
                         AppliedMutation.mutation_id, [m.id for m in mutations])
        return {key_of(row[0]): Seen(*row[1:]) for row in rows}

    def _existing(self, mutations: list) -> dict[str, set]:
        existing = {}
        for entity, model in MODELS.items():
            ids = [m.record_id for m in mutations if m.entity == entity]
            existing[entity] = {key_of(u) for (u,) in select_in([model.uuid], model.uuid, ids)}
        return existing

    def _preload(self, mutations: list) -> None:
        person_uuids, goal_uuids, visit_uuids = [], [], []
        batch_visits = {key_of(m.record_id) for m in mutations if m.entity == "visit"}
        for m in mutations:
            fields_ = m.checked if m.checked is not None else m.fields
            if m.entity == "person":
                person_uuids.append(m.record_id)
            elif m.entity in ("visit", "goal", "referral"):
                person_uuids.append(parse_uuid(fields_.get("person_id")))
            elif m.entity == "goal_progress":
                goal_uuids.append(parse_uuid(fields_.get("goal_id")))
                visit = parse_uuid(fields_.get("visit_id"))
                if visit is not None and key_of(visit) not in batch_visits:
                    visit_uuids.append(visit)
        for row in select_in([Goal.id, Goal.uuid, Goal.person, Goal.deleted], Goal.uuid, goal_uuids):
            self.goals[key_of(row[1])] = GoalRef(row[0], row[2], bool(row[3]))
        person_columns = [Person.id, Person.uuid, Person.team, Person.deleted]
        for row in select_in(person_columns, Person.uuid, person_uuids):
            self._remember(row)
        goal_people = {g.person_id for g in self.goals.values()} - self.refs_by_id.keys()
        for row in select_in(person_columns, Person.id, list(goal_people)):
            self._remember(row)
        for vid, vuuid, pid in select_in([Visit.id, Visit.uuid, Visit.person], Visit.uuid, visit_uuids):
            self.visits[key_of(vuuid)] = (vid, pid)
        self.scope.prefetch(self.refs_by_id)  # who of them is on this worker's caseload: one query

    def _remember(self, row) -> PersonRef:
        ref = PersonRef(row[0], row[2], bool(row[3]))
        self.refs[key_of(row[1])] = ref
        self.refs_by_id[ref.id] = ref
        return ref

    def remember_person(self, person: Person) -> None:
        """A person added in this batch."""
        self._remember((person.id, person.uuid, person.team_id, person.deleted))
        self.people_by_id[person.id] = person

    def person_ref(self, person_id: int) -> PersonRef:
        ref = self.refs_by_id.get(person_id)
        return ref if ref is not None else self._remember(
            Person.select(Person.id, Person.uuid, Person.team, Person.deleted).where(Person.id == person_id)
            .tuples().get())

    def person_by_id(self, person_id: int) -> Person:
        """The whole record, for a change to one of their records that may keep a conflict."""
        person = self.people_by_id.get(person_id)
        if person is None:
            person = self.people_by_id[person_id] = Person.get_by_id(person_id)
        return person

    def person_in_scope(self, person_uuid, field_name: str) -> PersonRef:
        ref = self.refs.get(key_of(person_uuid))
        if ref is None:
            row = (Person.select(Person.id, Person.uuid, Person.team, Person.deleted)
                   .where(Person.uuid == person_uuid).tuples().first())
            ref = self._remember(row) if row is not None else None
        if ref is None or not self.scope.allows(ref):
            # The same answer for an id that does not exist and one that is not yours: ids cannot be probed.
            raise Rejected("not_found", {field_name: [NO_SUCH_PERSON]})
        if ref.deleted:
            raise Rejected("forbidden", {field_name: ["This person has been removed."]})
        return ref

    def goal(self, goal_uuid) -> GoalRef | None:
        key = key_of(goal_uuid)
        if key not in self.goals:
            row = (Goal.select(Goal.id, Goal.person, Goal.deleted).where(Goal.uuid == goal_uuid).tuples().first())
            self.goals[key] = GoalRef(row[0], row[1], bool(row[2])) if row is not None else None
        return self.goals[key]

    def new_goal(self, goal) -> None:
        self.goals[key_of(goal.uuid)] = GoalRef(goal.id, goal.person_id, False)

    def new_visit(self, visit_uuid, person_id: int, missed: bool) -> None:
        self.visits[key_of(visit_uuid)] = (NewVisitRef(visit_uuid), person_id)
        self.visit_people.add(person_id)
        if missed:
            self.run_people.add(person_id)

    def visit_ref(self, visit_uuid):
        """(id or NewVisitRef, person id) of a visit a rating names, or None."""
        key = key_of(visit_uuid)
        found = self.visits.get(key)
        if found is None:
            row = Visit.select(Visit.id, Visit.person).where(Visit.uuid == visit_uuid).tuples().first()
            if row is not None:
                found = self.visits[key] = (row[0], row[1])
        return found

    def lookup(self, model, m: Mutation):
        if key_of(m.record_id) not in self.existing[m.entity]:
            return None
        return model.get_or_none(model.uuid == m.record_id)

    # one mutation ------------------------------------------------------------------------------
    def apply(self, item) -> dict:
        if isinstance(item, Refusal):
            if item.concern is not None:
                concern_alerts.on_rejected(self, item.concern)
            return {"id": item.id, "status": "rejected", "code": item.code, "rev": None, "errors": item.errors}
        m = item
        mid = str(m.id)
        previous = self.seen.get(key_of(m.id))
        if previous is not None:
            return self._repeat(m, mid, previous)
        deferrable = (m.entity in DEFERRABLE and m.op == "upsert"
                      and key_of(m.record_id) not in self.existing[m.entity])
        concern = concern_alerts.concern_before(self, m)  # None unless this sets a serious concern
        try:
            if deferrable:  # checks come first and only then is anything written: no savepoint needed
                outcome = HANDLERS[m.entity](self, m)
            else:
                self.deferred.flush()  # anything else may read what is waiting to be written
                hold()  # the counter lock, before the savepoint (see revisions.hold)
                with database.atomic():  # a savepoint: a mutation that fails half-way leaves nothing behind
                    outcome = HANDLERS[m.entity](self, m)
        except Rejected as exc:
            # Kept with what was typed, so nothing is lost even when it cannot be applied.
            self.record(m, "rejected", None, {"code": exc.code, "errors": exc.errors, "fields": m.fields,
                                              "op": m.op})
            concern_alerts.on_rejected(self, m)  # a concern is never held up by another field: someone is told
            return {"id": mid, "status": "rejected", "code": exc.code, "rev": None, "errors": exc.errors}
        self.record(m, outcome.status, outcome.rev, {"conflicts": outcome.conflicts} if outcome.conflicts else {})
        if concern is not None and outcome.status in ("applied", "conflict"):
            concern_alerts.on_applied(self, m, concern)
        response = {"id": mid, "status": outcome.status, "rev": outcome.rev, "errors": {}}
        if outcome.conflicts:
            response["conflicts"] = outcome.conflicts
        return response

    def _repeat(self, m: Mutation, mid: str, previous: Seen) -> dict:
        if previous.user_id != self.user.id:
            return {"id": mid, "status": "rejected", "code": "invalid", "rev": None,
                    "errors": {"id": ["This mutation id was already used."]}}
        if previous.digest is not None and previous.digest != m.digest:
            return {"id": mid, "status": "rejected", "code": "mutation_id_reused", "rev": None,
                    "errors": {"id": ["This mutation id was already used for a different change, so this one was "
                                      "not applied. Send it again as a new mutation."]}}
        stored = json.loads(previous.result or "{}")
        return {"id": mid, "status": "duplicate", "outcome": previous.status, "rev": previous.rev,
                "code": stored.get("code"), "errors": stored.get("errors", {}),
                "conflicts": stored.get("conflicts", [])}

    def load_fields(self, m: Mutation, current: dict | None, new: bool) -> dict:
        """Validate `fields` for this entity. Read-only fields pass only when unchanged (a device may echo a
        whole record back); otherwise each is refused with its reason."""
        if new and m.checked is not None:
            return dict(m.checked)
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
        loaded = fast_load(m.entity, data, partial=not new) if not errors else None
        if loaded is None:
            try:
                loaded = _SCHEMAS[m.entity].load(data, partial=not new)
            except ValidationError as exc:
                errors.update(envelope.messages(exc.messages))
                loaded = {}
        if errors:
            raise Rejected("invalid", errors)
        return loaded

    def record(self, m: Mutation, status: str, rev, result: dict) -> None:
        text = json.dumps(result, default=str) if result else "{}"
        self.pending.append({"mutation_id": m.id, "device": self.device.id, "user": self.user.id,
                             "entity": m.entity, "record_id": m.record_id, "status": status, "rev": rev,
                             "result": text, "content_hash": m.digest, "created_at": utcnow()})
        self.seen[key_of(m.id)] = Seen(self.user.id, status, rev, text, m.digest)
        if status != "rejected" and m.entity in self.existing:
            self.existing[m.entity].add(key_of(m.record_id))

    def finish(self) -> None:
        """Still inside the write transaction: the answers are stored, reminders follow the visits, and the
        device is marked as seen."""
        if self.pending:  # before the counter lock: it needs no rev
            mark_synced(self.device)
        self.deferred.flush()
        for row in self.pending:
            if isinstance(row["rev"], LateRev):
                row["rev"] = row["rev"].value
        insert_rows(AppliedMutation, self.pending)
        # Reminders follow each person's next visit. Any visit written here took a rev, so the counter lock is
        # held: reminder_schedule relies on that.
        reminder_schedule.visits_changed(self.visit_people)
        # The did-not-attend count follows the visits (issue 15). A new visit that was not missed can only end a
        # run, so for those people only a count above 0 is looked at again.
        attendance.refresh(self.run_people, self.visit_people - self.run_people)
