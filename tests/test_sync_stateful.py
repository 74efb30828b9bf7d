"""A Hypothesis state machine over sync.py: two workers, three devices, offline edits, lost
acknowledgements, retries, interleaved batches, reassignment and deletes. After every step the server
equals a simple model (values, revs, conflicts, mutations applied once); after every full pull a device
holds exactly its scoped view of the server."""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from pg_empty import empty_postgres

from server import sync
from server.db import database, is_postgres, write_transaction
from server.models import (
    ALL_MODELS,
    AppliedMutation,
    CaseloadAssignment,
    ChangeCounter,
    Conflict,
    Goal,
    Person,
    Team,
    User,
    Visit,
)
from server.sync.revisions import current_rev, next_rev

SETTINGS = settings(max_examples=30, stateful_step_count=50, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)
VALUES = ["a", "b", "c"]


def reset_database():
    if is_postgres():
        empty_postgres(database)
    else:
        for model in reversed(ALL_MODELS):
            if model is not ChangeCounter:
                model.delete().execute()
        ChangeCounter.update(value=0).execute()


class SyncMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        reset_database()
        self.rev = 0
        self.ids = 0
        with write_transaction():
            team = Team.create(name="Team")
            self.workers = [User.create(email=f"w{i}@example.test", name=f"W{i}", role="peer_worker", team=team,
                                        password_hash="unused") for i in range(2)]
            self.people = []
            self.goals = {}  # goal uuid -> {"person", "title", "last": {field: (rev, device)}}
            for i in range(3):
                person = Person.create(uuid=uuid.UUID(int=1000 + i), team=team, display_name=f"P{i}",
                                       preferred_contact="a", rev=self._rev())
                self.people.append(person)
                goal = Goal.create(uuid=uuid.UUID(int=2000 + i), person=person, title="a", rev=self._rev())
                self.goals[str(goal.uuid)] = {"person": i, "title": "a", "last": {}}
        # P0 with W0, P1 with W1, P2 shared
        self.caseload = {0: set(), 1: set()}
        for person_index, workers in ((0, [0]), (1, [1]), (2, [0, 1])):
            for w in workers:
                self.assign(person_index, w)
        self.persons = {i: {"preferred_contact": "a", "last": {}} for i in range(3)}
        self.visits = {}  # uuid -> {"person", "author", "notes", "deleted"}
        self.applied = {}  # mutation id -> expected status (applied|conflict|rejected)
        self.conflicts = []  # in creation order, as the server's conflict rows (by id)
        self.devices = []
        for name, w in (("W0 phone", 0), ("W0 tablet", 0), ("W1 phone", 1)):
            device = sync.register_device(self.workers[w], name)
            self.devices.append({"device": device, "worker": w, "outbox": [], "store": {}, "cursor": 0})
        for d in range(len(self.devices)):
            self.pull_everything(d, 50)

    # --- model helpers -----------------------------------------------------------------------------
    def new_id(self) -> str:
        """Deterministic ids, so a failing example replays exactly."""
        self.ids += 1
        return str(uuid.UUID(int=(1 << 64) + self.ids))

    def _rev(self) -> int:
        self.rev += 1
        return next_rev()

    def assign(self, person_index, w):
        with write_transaction():
            self.people[person_index].assign_to(self.workers[w])
        self.rev += 1
        self.caseload[w].add(person_index)

    def person_index(self, person_uuid) -> int:
        return next(i for i, p in enumerate(self.people) if str(p.uuid) == str(person_uuid))

    def expect(self, dev, m) -> str:
        """Apply one first-time mutation to the model; returns the status the server must answer."""
        w = dev["worker"]
        did = dev["device"].id
        fields = m["fields"]
        if m["entity"] == "visit":
            visit = self.visits.get(m["record_id"])
            if visit is None:
                if m["op"] == "delete" or "person_id" not in fields:
                    return "rejected"
                p = self.person_index(fields["person_id"])
                if p not in self.caseload[w]:
                    return "rejected"
                self.rev += 1
                self.visits[m["record_id"]] = {"person": p, "author": w, "notes": fields.get("notes", ""),
                                               "deleted": False}
                return "applied"
            if visit["author"] != w or visit["person"] not in self.caseload[w]:
                return "rejected"
            if m["op"] == "delete":
                if not visit["deleted"]:
                    self.rev += 1
                    visit["deleted"] = True
                return "applied"
            self.rev += 1
            visit["deleted"] = False
            visit["notes"] = fields.get("notes", visit["notes"])
            return "applied"
        if m["entity"] == "conflict":
            return self.expect_resolution(dev, m)
        if m["entity"] == "goal":
            record = self.goals[m["record_id"]]
            p, field = record["person"], "title"
        else:
            p = self.person_index(m["record_id"])
            record, field = self.persons[p], "preferred_contact"
        if p not in self.caseload[w]:
            return "rejected"
        self.rev += 1
        status = "applied"
        if record[field] != fields[field]:
            last = record["last"].get(field)
            if last and last[0] > (m["base_rev"] or 0) and last[1] != did:
                status = "conflict"
                self.conflicts.append({"record": record, "person": p, "field": field, "kept": fields[field],
                                       "lost": record[field], "resolution": ""})
            record["last"][field] = (self.rev, did)
            record[field] = fields[field]
        return status

    def expect_resolution(self, dev, m) -> str:
        """A restore puts the lost value back as a new change (keeping what it overwrites, if that moved on
        since); a dismiss only marks the conflict resolved."""
        order = [str(u) for (u,) in Conflict.select(Conflict.uuid).order_by(Conflict.id).tuples()]
        conflict = self.conflicts[order.index(m["record_id"])]
        if conflict["person"] not in self.caseload[dev["worker"]] or conflict["resolution"]:
            return "rejected"
        self.rev += 1
        status = "applied"
        if m["fields"]["action"] == "restore":
            record, field = conflict["record"], conflict["field"]
            now = record[field]
            if now not in (conflict["kept"], conflict["lost"]):
                status = "conflict"
                self.conflicts.append({"record": record, "person": conflict["person"], "field": field,
                                       "kept": conflict["lost"], "lost": now, "resolution": ""})
            record[field] = conflict["lost"]
            record["last"][field] = (self.rev, dev["device"].id)
            conflict["resolution"] = "restored"
        else:
            conflict["resolution"] = "dismissed"
        return status

    def scoped_view(self, w) -> dict:
        view = {}
        for i in self.caseload[w]:
            view[("person", str(self.people[i].uuid))] = self.persons[i]["preferred_contact"]
        for gid, goal in self.goals.items():
            if goal["person"] in self.caseload[w]:
                view[("goal", gid)] = goal["title"]
        for vid, visit in self.visits.items():
            if visit["person"] in self.caseload[w] and not visit["deleted"]:
                view[("visit", vid)] = visit["notes"]
        in_scope = [self.people[i].id for i in self.caseload[w]]
        for conflict in Conflict.select().where(Conflict.person.in_(in_scope)):
            view[("conflict", str(conflict.uuid))] = (conflict.field, conflict.resolution or None)
        return view

    # --- rules ---------------------------------------------------------------------------------------
    @rule(d=st.integers(0, 2), data=st.data())
    def log_visit_offline(self, d, data):
        dev = self.devices[d]
        people = [rid for (entity, rid) in dev["store"] if entity == "person"]
        if not people:
            return
        person_id = data.draw(st.sampled_from(sorted(people)))
        dev["outbox"].append({"id": self.new_id(), "entity": "visit", "record_id": self.new_id(),
                              "op": "upsert", "base_rev": None,
                              "fields": {"person_id": person_id, "started_at": "2026-11-20T10:00:00+00:00",
                                         "notes": data.draw(st.sampled_from(VALUES))}})

    @rule(d=st.integers(0, 2), data=st.data(), delete=st.booleans())
    def change_own_visit_offline(self, d, data, delete):
        dev = self.devices[d]
        mine = sorted({m["record_id"] for m in dev["outbox"] if m["entity"] == "visit"}
                      | {rid for (entity, rid), rec in dev["store"].items()
                         if entity == "visit" and rec["fields"]["author_id"] == str(self.workers[dev["worker"]].uuid)})
        if not mine:
            return
        vid = data.draw(st.sampled_from(mine))
        base = dev["store"].get(("visit", vid), {}).get("rev")
        fields = {} if delete else {"notes": data.draw(st.sampled_from(VALUES))}
        dev["outbox"].append({"id": self.new_id(), "entity": "visit", "record_id": vid,
                              "op": "delete" if delete else "upsert", "base_rev": base, "fields": fields})

    @rule(d=st.integers(0, 2), data=st.data(), on_goal=st.booleans())
    def edit_shared_field_offline(self, d, data, on_goal):
        dev = self.devices[d]
        entity, field = ("goal", "title") if on_goal else ("person", "preferred_contact")
        known = sorted(rid for (ent, rid) in dev["store"] if ent == entity)
        if not known:
            return
        rid = data.draw(st.sampled_from(known))
        dev["outbox"].append({"id": self.new_id(), "entity": entity, "record_id": rid, "op": "upsert",
                              "base_rev": dev["store"][(entity, rid)]["rev"],
                              "fields": {field: data.draw(st.sampled_from(VALUES))}})

    @rule(data=st.data(), on_goal=st.booleans(), values=st.tuples(st.sampled_from(VALUES), st.sampled_from(VALUES)))
    def edit_one_field_on_two_devices_offline(self, data, on_goal, values):
        """The classic: two phones change the same field from the same starting point before either syncs."""
        entity, field = ("goal", "title") if on_goal else ("person", "preferred_contact")
        shared = sorted({rid for (ent, rid) in self.devices[0]["store"] if ent == entity}
                        & {rid for (ent, rid) in self.devices[1 if data.draw(st.booleans()) else 2]["store"]
                           if ent == entity})
        if not shared:
            return
        rid = data.draw(st.sampled_from(shared))
        for dev, value in zip((d for d in self.devices if (entity, rid) in d["store"]), values, strict=False):
            dev["outbox"].append({"id": self.new_id(), "entity": entity, "record_id": rid, "op": "upsert",
                                  "base_rev": dev["store"][(entity, rid)]["rev"], "fields": {field: value}})

    @rule(d=st.integers(0, 2), data=st.data(), restore=st.booleans())
    def resolve_conflict_offline(self, d, data, restore):
        dev = self.devices[d]
        open_conflicts = sorted((rec["rev"], rec["fields"]["target_id"], rec["fields"]["field"], rid)
                                for (entity, rid), rec in dev["store"].items()
                                if entity == "conflict" and rec["fields"]["resolution"] is None)
        if not open_conflicts:
            return
        cid = data.draw(st.sampled_from(open_conflicts))[-1]
        dev["outbox"].append({"id": self.new_id(), "entity": "conflict", "record_id": cid, "op": "upsert",
                              "base_rev": dev["store"][("conflict", cid)]["rev"],
                              "fields": {"action": "restore" if restore else "dismiss"}})

    @precondition(lambda self: any(dev["outbox"] for dev in self.devices))
    @rule(d=st.integers(0, 2), size=st.integers(1, 4), ack_lost=st.booleans())
    def push(self, d, size, ack_lost):
        dev = self.devices[d]
        batch = dev["outbox"][:size]
        if not batch:
            return
        expected = []
        for m in batch:
            if m["id"] in self.applied:
                expected.append(("duplicate", self.applied[m["id"]]))
            else:
                self.applied[m["id"]] = self.expect(dev, m)
                expected.append((self.applied[m["id"]], None))
        results = sync.apply_batch(self.workers[dev["worker"]], dev["device"], batch)
        assert [(r["status"], r.get("outcome")) for r in results] == expected
        if not ack_lost:  # the response arrived: the device may forget what the server has
            del dev["outbox"][:len(batch)]

    @rule(person=st.integers(0, 2), w=st.integers(0, 1))
    def reassign(self, person, w):
        others = [o for o in (0, 1) if o != w and person in self.caseload[o]]
        with write_transaction():
            Person.get_by_id(self.people[person].id).reassign(self.workers[w])
        for o in others:
            self.caseload[o].discard(person)
            self.rev += 1
        if person not in self.caseload[w]:
            self.caseload[w].add(person)
            self.rev += 1

    @rule(person=st.integers(0, 2), w=st.integers(0, 1))
    def leave_and_come_back(self, person, w):
        """A person leaves this worker's caseload and comes back before the worker's phones pull: the whole
        history (tombstones of what was deleted meanwhile included) must reach the phones, across pages."""
        if person not in self.caseload[w]:
            return
        self.reassign(person, 1 - w)
        self.reassign(person, w)

    @rule(d=st.integers(0, 2), limit=st.sampled_from([1, 2, 3]))
    def pull_one_page(self, d, limit):
        """A sync cut short after one page (signal lost): the phone keeps that page and its cursor, and
        later pulls carry on from there."""
        dev = self.devices[d]
        page = sync.pull_changes(self.workers[dev["worker"]], dev["device"], dev["cursor"], limit)
        self.take_page(dev, page, set())

    def take_page(self, dev, page, seen):
        """As the PWA applies a page: changes first, then purges."""
        for change in page["changes"]:
            key = (change["entity"], change["record_id"])
            assert key not in seen, f"{key} pulled twice in one sync"
            seen.add(key)
            if change["deleted"]:
                dev["store"].pop(key, None)
            else:
                dev["store"][key] = change
        for item in page["purge"]:
            dev["store"].pop((item["entity"], item["record_id"]), None)
        assert page["cursor"] >= dev["cursor"]
        dev["cursor"] = page["cursor"]

    @rule(d=st.integers(0, 2), limit=st.sampled_from([2, 3, 50]))
    def pull_everything(self, d, limit):
        dev = self.devices[d]
        seen = set()
        while True:
            page = sync.pull_changes(self.workers[dev["worker"]], dev["device"], dev["cursor"], limit)
            self.take_page(dev, page, seen)
            if not page["more"]:
                break
        field_of = {"person": "preferred_contact", "goal": "title", "visit": "notes"}
        held = {key: (rec["fields"]["field"], rec["fields"]["resolution"]) if key[0] == "conflict"
                else rec["fields"][field_of[key[0]]] for key, rec in dev["store"].items()}
        view = self.scoped_view(dev["worker"])
        assert held == view, {"extra": {k: v for k, v in held.items() if view.get(k) != v},
                              "missing": {k: v for k, v in view.items() if held.get(k) != v}}

    # --- invariants --------------------------------------------------------------------------------
    @invariant()
    def server_equals_model(self):
        assert current_rev() == self.rev
        for vid, visit in self.visits.items():
            row = Visit.get(Visit.uuid == vid)
            assert (row.notes, row.deleted, row.person_id) == (visit["notes"], visit["deleted"],
                                                                self.people[visit["person"]].id)
        assert Visit.select().count() == len(self.visits)  # no record twice
        for gid, goal in self.goals.items():
            assert Goal.get(Goal.uuid == gid).title == goal["title"]
        for i, person in self.persons.items():
            assert Person.get_by_id(self.people[i].id).preferred_contact == person["preferred_contact"]
        rows = list(Conflict.select().order_by(Conflict.id))
        assert [(json.loads(r.kept_value), json.loads(r.lost_value), r.field, r.resolution) for r in rows] == [
            (c["kept"], c["lost"], c["field"], c["resolution"]) for c in self.conflicts]
        assert AppliedMutation.select().count() == len(self.applied)
        for w in (0, 1):
            assigned = {a.person_id for a in CaseloadAssignment.select()
                        .where((CaseloadAssignment.worker == self.workers[w]) & CaseloadAssignment.ended_at.is_null())}
            assert assigned == {self.people[i].id for i in self.caseload[w]}


def test_sync_state_machine(app):
    with database.connection_context():
        run_state_machine_as_test(SyncMachine, settings=SETTINGS)


class ConflictMachine(SyncMachine):
    """The same world with only shared-field edits, pushes, pulls and reassignment, so that conflicts are
    kept, seen by both sides, restored and dismissed often within a small, deterministic run."""

    def log_visit_offline(self, d, data):  # not a rule here
        return None

    def change_own_visit_offline(self, d, data, delete):  # not a rule here
        return None

    @initialize()
    def start_with_a_conflict(self):
        """Two phones of two workers change the shared person's contact from the same rev, both sync."""
        shared = str(self.people[2].uuid)
        for d, value in ((0, "b"), (2, "c")):
            dev = self.devices[d]
            dev["outbox"].append({"id": self.new_id(), "entity": "person", "record_id": shared, "op": "upsert",
                                  "base_rev": dev["store"][("person", shared)]["rev"],
                                  "fields": {"preferred_contact": value}})
            self.push(d, 1, False)
        for d in range(3):
            self.pull_everything(d, 50)


def test_conflict_state_machine(app):
    with database.connection_context():
        run_state_machine_as_test(ConflictMachine, settings=settings(SETTINGS, max_examples=20))


class PagingMachine(SyncMachine):
    """Only visits, deletes, people leaving and coming back, and pulls cut into small pages (some cut short):
    the family of orderings where a tombstone or a purge can fall between two pages, explored on purpose."""

    def edit_shared_field_offline(self, d, data, on_goal):  # not a rule here
        return None

    def edit_one_field_on_two_devices_offline(self, data, on_goal, values):  # not a rule here
        return None

    def resolve_conflict_offline(self, d, data, restore):  # not a rule here
        return None

    def reassign(self, person, w):  # only as part of leave_and_come_back here
        return SyncMachine.reassign(self, person, w)

    @rule(d=st.integers(0, 2), limit=st.sampled_from([1, 2]))
    def pull_everything_in_small_pages(self, d, limit):
        self.pull_everything(d, limit)

    @rule(d=st.integers(0, 2), data=st.data(), others=st.integers(0, 3))
    def visit_deleted_then_person_away_and_back(self, d, data, others):
        """The ordering that once left a deleted visit on a phone: a visit this phone holds is deleted, other
        work of the same worker syncs, and the visit's person leaves and comes back before the phone pulls.
        What follows (pulls in pages of 1 to 50, some cut short, on any device) is left to the search."""
        dev = self.devices[d]
        me = str(self.workers[dev["worker"]].uuid)
        held = sorted(rid for (entity, rid), rec in dev["store"].items()
                      if entity == "visit" and rec["fields"]["author_id"] == me)
        if not held:
            return
        vid = data.draw(st.sampled_from(held))
        person = self.person_index(dev["store"][("visit", vid)]["fields"]["person_id"])
        dev["outbox"].append({"id": self.new_id(), "entity": "visit", "record_id": vid, "op": "delete",
                              "base_rev": dev["store"][("visit", vid)]["rev"], "fields": {}})
        elsewhere = sorted(str(self.people[i].uuid) for i in self.caseload[dev["worker"]] if i != person)
        for _ in range(others if elsewhere else 0):
            dev["outbox"].append({"id": self.new_id(), "entity": "visit", "record_id": self.new_id(),
                                  "op": "upsert", "base_rev": None,
                                  "fields": {"person_id": data.draw(st.sampled_from(elsewhere)),
                                             "started_at": "2026-11-20T10:00:00+00:00", "notes": "a"}})
        while dev["outbox"]:
            self.push(d, 4, False)
        self.leave_and_come_back(person, dev["worker"])


def test_paging_state_machine(app):
    with database.connection_context():
        run_state_machine_as_test(PagingMachine, settings=settings(SETTINGS, max_examples=40))
