"""server/sync.py without HTTP: authorisation, at-most-once, ordering, conflicts, scope, paging."""

from __future__ import annotations

import json

import pytest
from sync_support import make_resource, mutation, new_id, person_on_caseload, visit_fields

from server import sync
from server.db import utcnow, write_transaction
from server.models import AppliedMutation, CaseloadAssignment, Conflict, Device, GoalProgress, Person, Review, Visit


@pytest.fixture
def device(worker):
    return sync.register_device(worker, "Phone A")


def apply(user, device, *mutations):
    return sync.apply_batch(user, device, list(mutations))


def pull(user, device, cursor=0, limit=500):
    return sync.pull_changes(user, device, cursor, limit)


def changes_by_entity(page, entity):
    return {c["record_id"]: c for c in page["changes"] if c["entity"] == entity}


def test_worker_adds_a_person_met_in_the_field(worker, device):
    pid = new_id()
    [result] = apply(worker, device, mutation("person", pid, {"display_name": "Ana", "status": "active"}))
    assert result["status"] == "applied" and result["rev"] >= 1
    person = Person.get(Person.uuid == pid)
    assert person.added_in_field and person.created_by_id == worker.id and person.team_id == worker.team_id
    assert [w.id for w in person.current_workers()] == [worker.id]
    page = pull(worker, device)
    assert changes_by_entity(page, "person")[pid]["fields"]["added_in_field"] is True


def test_visit_create_update_delete_by_author(worker, device):
    person = person_on_caseload(worker)
    vid = new_id()
    created, updated, deleted = apply(
        worker, device,
        mutation("visit", vid, visit_fields(person.uuid, notes="first", wellbeing=6, goal_ids=[new_id()])),
        mutation("visit", vid, {"notes": "second"}, base_rev=1),
        mutation("visit", vid, op="delete"),
    )
    assert [r["status"] for r in (created, updated, deleted)] == ["applied"] * 3
    assert created["rev"] < updated["rev"] < deleted["rev"]
    visit = Visit.get(Visit.uuid == vid)
    assert visit.deleted and visit.notes == "second" and visit.author_id == worker.id and visit.rev == deleted["rev"]


def test_worker_cannot_touch_people_off_their_caseload(worker, make_user, device):
    other = make_user("peer_worker")
    theirs = person_on_caseload(other)
    results = apply(
        worker, device,
        mutation("visit", new_id(), visit_fields(theirs.uuid)),
        mutation("person", theirs.uuid, {"display_name": "Changed"}),
        mutation("goal", new_id(), {"person_id": str(theirs.uuid), "title": "Walk"}),
    )
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert results[0]["errors"] == {"person_id": ["No such person on your caseload."]}  # as for a random id
    assert results[1]["errors"] == {"record_id": ["This person is not on your caseload."]}
    assert results[0]["code"] == "not_found"
    assert Person.get_by_id(theirs.id).display_name == "Sam"


def test_only_the_author_changes_a_visit(worker, make_user, device):
    colleague = make_user("peer_worker")
    person = person_on_caseload(worker)
    with write_transaction():
        person.assign_to(colleague)
    vid = new_id()
    apply(worker, device, mutation("visit", vid, visit_fields(person.uuid)))
    their_device = sync.register_device(colleague, "Phone B")
    [result] = apply(colleague, their_device, mutation("visit", vid, {"notes": "mine now"}))
    assert result["status"] == "rejected"
    assert result["errors"] == {"record_id": ["Only the visit's author can change it."]}


def test_coordinator_only_and_read_only_fields_are_refused_by_name(worker, device):
    person = person_on_caseload(worker)
    results = apply(
        worker, device,
        mutation("person", person.uuid, {"reminders_opt_in": True, "display_name": "X"}),
        mutation("person", person.uuid, {"confirmed": True}),
        mutation("person", person.uuid, {"reminders_opt_in": False, "display_name": "Echo"}),  # unchanged: fine
        mutation("person", person.uuid, op="delete"),
        mutation("assignment", new_id(), {"worker_id": new_id()}),
        mutation("resource", new_id(), {"name": "Mine"}),
        mutation("review", new_id(), {"comment": "fine"}),
    )
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"] + ["rejected"] * 4
    assert "opt in" in results[0]["errors"]["reminders_opt_in"][0]
    assert "coordinator" in results[1]["errors"]["confirmed"][0]
    assert results[3]["errors"] == {"record_id": ["Only a coordinator can remove a person."]}
    assert results[4]["errors"] == {"entity": ["Only a coordinator can assign caseloads."]}
    assert "coordinators" in results[5]["errors"]["entity"][0]
    assert Person.get_by_id(person.id).display_name == "Echo"


def test_field_errors_name_the_field_and_reason(worker, device):
    person = person_on_caseload(worker)
    [result] = apply(worker, device, mutation("visit", new_id(), {
        "person_id": str(person.uuid), "started_at": "2026-11-20T10:00:00",  # no offset
        "wellbeing": 11, "mode": "77", "notes": "x" * 10_001, "colour": "red"}))
    assert result["status"] == "rejected" and result["code"] == "invalid"
    assert set(result["errors"]) == {"started_at", "wellbeing", "mode", "notes", "colour"}
    assert result["errors"]["colour"] == ["Unknown field."]
    [missing] = apply(worker, device, mutation("goal", new_id(), {"person_id": str(person.uuid)}))
    assert missing["errors"] == {"title": ["Missing data for required field."]}
    [bad_envelope] = apply(worker, device, {"id": "not-a-uuid", "entity": "visit", "op": "patch"})
    assert bad_envelope["status"] == "rejected"
    assert set(bad_envelope["errors"]) == {"id", "record_id", "op"}


def test_at_most_once_duplicate_replays_the_original_outcome(worker, device):
    person = person_on_caseload(worker)
    good = mutation("visit", new_id(), visit_fields(person.uuid))
    bad = mutation("visit", new_id(), visit_fields(person.uuid, wellbeing=99))
    first = apply(worker, device, good, bad)
    again = apply(worker, device, good, bad, good)
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert again[0]["outcome"] == "applied" and again[0]["rev"] == first[0]["rev"]
    assert again[1]["outcome"] == "rejected" and again[1]["errors"] == first[1]["errors"]
    assert Visit.select().count() == 1
    assert AppliedMutation.select().count() == 2
    stored = json.loads(AppliedMutation.get(AppliedMutation.mutation_id == bad["id"]).result)
    assert stored["fields"]["wellbeing"] == 99  # what was typed is kept even when refused


def test_rejected_mutation_does_not_block_the_rest_and_order_holds(worker, device):
    person = person_on_caseload(worker)
    vid = new_id()
    results = apply(
        worker, device,
        mutation("visit", vid, visit_fields(person.uuid, notes="a")),
        mutation("visit", new_id(), {"person_id": "nope"}),
        mutation("visit", vid, {"notes": "b"}),
        mutation("visit", vid, {"notes": "c"}),
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "applied"]
    revs = [r["rev"] for r in results if r["rev"]]
    assert revs == sorted(revs) and len(set(revs)) == 3
    assert Visit.get(Visit.uuid == vid).notes == "c"


def test_concurrent_edits_to_one_field_keep_a_conflict_both_sides_see(worker, make_user, device):
    colleague = make_user("peer_worker", name="Worker Two")
    person = person_on_caseload(worker)
    with write_transaction():
        person.assign_to(colleague)
    other_device = sync.register_device(colleague, "Phone B")
    base = Person.get_by_id(person.id).rev
    [first] = apply(worker, device, mutation("person", person.uuid, {"preferred_contact": "text"}, base_rev=base))
    [second] = apply(colleague, other_device,
                     mutation("person", person.uuid, {"preferred_contact": "call", "status": "paused"}, base_rev=base))
    assert first["status"] == "applied"
    assert second["status"] == "conflict" and [c["field"] for c in second["conflicts"]] == ["preferred_contact"]
    stored = Person.get_by_id(person.id)
    assert stored.preferred_contact == "call" and stored.status == "paused"  # the later arrival wins
    conflict = Conflict.get()
    assert json.loads(conflict.lost_value) == "text" and json.loads(conflict.kept_value) == "call"
    assert conflict.lost_by_id == worker.id and conflict.won_by_id == colleague.id
    for user, dev in ((worker, device), (colleague, other_device)):
        shown = changes_by_entity(pull(user, dev), "conflict")[str(conflict.uuid)]["fields"]
        assert shown["lost_value"] == "text" and shown["lost_by"] == "Worker One" and shown["resolution"] is None


def test_restoring_a_conflict_is_a_mutation_that_puts_the_value_back(worker, make_user, device):
    colleague = make_user("peer_worker")
    person = person_on_caseload(worker)
    with write_transaction():
        person.assign_to(colleague)
    other_device = sync.register_device(colleague, "Phone B")
    apply(worker, device, mutation("person", person.uuid, {"display_name": "Samuel"}, base_rev=1))
    [won] = apply(colleague, other_device, mutation("person", person.uuid, {"display_name": "Sammy"}, base_rev=1))
    conflict_id = won["conflicts"][0]["id"]
    [restore] = apply(worker, device, mutation("conflict", conflict_id, {"action": "restore"}))
    assert restore["status"] == "applied"
    assert Person.get_by_id(person.id).display_name == "Samuel"
    conflict = Conflict.get(Conflict.uuid == conflict_id)
    assert conflict.resolution == "restored" and conflict.resolved_by_id == worker.id and conflict.rev == restore["rev"]
    [again] = apply(colleague, other_device, mutation("conflict", conflict_id, {"action": "dismiss"}))
    assert again["status"] == "rejected" and "already resolved" in again["errors"]["action"][0]
    page = pull(colleague, other_device)
    assert changes_by_entity(page, "person")[str(person.uuid)]["fields"]["display_name"] == "Samuel"


def test_own_queued_edits_and_different_fields_never_conflict(worker, make_user, device):
    colleague = make_user("peer_worker")
    person = person_on_caseload(worker)
    with write_transaction():
        person.assign_to(colleague)
    other_device = sync.register_device(colleague, "Phone B")
    results = apply(worker, device,
                    mutation("person", person.uuid, {"preferred_contact": "a"}, base_rev=1),
                    mutation("person", person.uuid, {"preferred_contact": "b"}, base_rev=1))
    [other] = apply(colleague, other_device, mutation("person", person.uuid, {"status": "paused"}, base_rev=1))
    assert [r["status"] for r in results + [other]] == ["applied"] * 3
    assert Conflict.select().count() == 0


def test_append_only_visits_never_conflict(worker, device):
    person = person_on_caseload(worker)
    vid = new_id()
    apply(worker, device, mutation("visit", vid, visit_fields(person.uuid)))
    second_device = sync.register_device(worker, "Tablet")
    [a] = apply(worker, device, mutation("visit", vid, {"notes": "one"}, base_rev=1))
    [b] = apply(worker, second_device, mutation("visit", vid, {"notes": "two"}, base_rev=1))
    assert a["status"] == b["status"] == "applied" and Conflict.select().count() == 0


def test_delete_is_a_tombstone_every_device_learns(worker, device):
    person = person_on_caseload(worker)
    gid = new_id()
    apply(worker, device, mutation("goal", gid, {"person_id": str(person.uuid), "title": "Sleep better"}))
    cursor = pull(worker, device)["cursor"]
    [deleted] = apply(worker, device, mutation("goal", gid, op="delete"))
    page = pull(worker, device, cursor)
    assert page["changes"] == [{"entity": "goal", "record_id": gid, "rev": deleted["rev"], "deleted": True,
                                 "fields": {}}]


def test_pull_scope_caseload_resources_reviews(worker, coordinator, make_user, device):
    mine = person_on_caseload(worker, "Mine")
    theirs = person_on_caseload(make_user("peer_worker"), "Theirs")
    resource = make_resource()
    vid = new_id()
    apply(worker, device, mutation("visit", vid, visit_fields(mine.uuid)))
    from server.sync.revisions import next_rev

    with write_transaction():
        review = Review.create(visit=Visit.get(Visit.uuid == vid), reviewer=coordinator, comment="Good notes",
                               rev=next_rev())
        Visit.create(person=theirs, author=theirs.current_workers().get(), started_at=utcnow(), rev=next_rev())
    page = pull(worker, device)
    assert set(changes_by_entity(page, "person")) == {str(mine.uuid)}
    assert set(changes_by_entity(page, "visit")) == {vid}
    assert set(changes_by_entity(page, "resource")) == {str(resource.uuid)}
    shown = changes_by_entity(page, "review")[str(review.uuid)]["fields"]
    assert shown["comment"] == "Good notes" and shown["visit_id"] == vid
    assert page["more"] is False and page["cursor"] >= review.rev
    assert Device.get_by_id(device.id).last_sync_at is not None


def test_joining_brings_whole_history_and_leaving_purges(worker, coordinator, make_user, device):
    other = make_user("peer_worker")
    person = person_on_caseload(other, "Moved")
    other_device = sync.register_device(other, "Theirs")
    vid, gid = new_id(), new_id()
    apply(other, other_device, mutation("visit", vid, visit_fields(person.uuid)),
          mutation("goal", gid, {"person_id": str(person.uuid), "title": "Cook"}))
    cursor = pull(worker, device)["cursor"]
    assert cursor >= 3
    with write_transaction():
        person.reassign(worker, by=coordinator)
    page = pull(worker, device, cursor)
    assert {(c["entity"], c["record_id"]) for c in page["changes"]} == {
        ("person", str(person.uuid)), ("visit", vid), ("goal", gid)}
    assert all(c["rev"] > cursor for c in page["changes"])  # the joining's rev, however old the records
    other_page = pull(other, other_device, 0)
    assert other_page["changes"] == [] or all(c["entity"] == "resource" for c in other_page["changes"])
    their_cursor = pull(other, other_device, 3)
    assert {p["record_id"] for p in their_cursor["purge"]} == {str(person.uuid), vid, gid}
    # the leaver cannot write to the person any more
    [refused] = apply(other, other_device, mutation("visit", vid, {"notes": "late"}))
    assert refused["status"] == "rejected"


def test_rejoining_between_pulls_sends_history_not_purge(worker, coordinator, device):
    person = person_on_caseload(worker)
    gid = new_id()
    apply(worker, device, mutation("goal", gid, {"person_id": str(person.uuid), "title": "Walk"}))
    cursor = pull(worker, device)["cursor"]
    with write_transaction():
        person.unassign(worker)
    apply(coordinator, sync.register_device(coordinator, "Laptop"), mutation("goal", gid, op="delete"))
    with write_transaction():
        person.assign_to(worker)
    page = pull(worker, device, cursor)
    assert page["purge"] == []
    assert changes_by_entity(page, "goal")[gid]["deleted"] is True
    assert str(person.uuid) in changes_by_entity(page, "person")


def test_paging_by_limit_with_more_covers_everything_once(worker, device):
    person = person_on_caseload(worker)
    ids = [new_id() for _ in range(23)]
    apply(worker, device, *[mutation("visit", vid, visit_fields(person.uuid)) for vid in ids])
    full = pull(worker, device, 0, 1000)
    cursor, seen, pages = 0, [], 0
    while True:
        page = pull(worker, device, cursor, 5)
        pages += 1
        seen.extend((c["entity"], c["record_id"]) for c in page["changes"])
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pages >= 5
    assert sorted(seen) == sorted((c["entity"], c["record_id"]) for c in full["changes"])
    assert len(seen) == len(set(seen)) == 24


def test_a_joining_group_sharing_one_rev_stays_on_one_page(worker, coordinator, make_user, device):
    other = make_user("peer_worker")
    person = person_on_caseload(other)
    other_device = sync.register_device(other, "Theirs")
    apply(other, other_device, *[mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(12)])
    cursor = pull(worker, device)["cursor"]
    with write_transaction():
        person.reassign(worker, by=coordinator)
    page = pull(worker, device, cursor, 4)
    assert len(page["changes"]) == 13 and len({c["rev"] for c in page["changes"]}) == 1


def test_devices_revoked_or_foreign_are_refused(worker, make_user, device):
    with pytest.raises(sync.SyncError) as foreign:
        sync.device_for(make_user("peer_worker"), device.uuid)
    assert foreign.value.code == "unknown_device"
    Device.update(revoked_at=utcnow()).where(Device.id == device.id).execute()
    with pytest.raises(sync.SyncError) as revoked:
        sync.device_for(worker, device.uuid)
    assert revoked.value.code == "device_revoked" and revoked.value.status == 403


def test_goal_progress_and_referral_checks(worker, device):
    person = person_on_caseload(worker)
    resource = make_resource()
    gid, vid = new_id(), new_id()
    results = apply(
        worker, device,
        mutation("goal", gid, {"person_id": str(person.uuid), "title": "Run 5k", "status": "active"}),
        mutation("visit", vid, visit_fields(person.uuid)),
        mutation("goal_progress", new_id(), {"goal_id": gid, "visit_id": vid, "rating": 7, "note": "better"}),
        mutation("goal_progress", new_id(), {"goal_id": new_id(), "rating": 7}),
        mutation("referral", new_id(), {"person_id": str(person.uuid), "resource_id": str(resource.uuid)}),
        mutation("referral", new_id(), {"person_id": str(person.uuid), "resource_id": new_id()}),
        mutation("goal", gid, {"status": "achieved"}),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "applied", "rejected",
                                              "applied"]
    assert results[3]["errors"] == {"goal_id": ["No such goal on your caseload."]}
    assert results[5]["errors"] == {"resource_id": ["No such resource in the directory."]}
    page = pull(worker, device)
    progress = next(iter(changes_by_entity(page, "goal_progress").values()))["fields"]
    assert progress["rating"] == 7 and progress["visit_id"] == vid and progress["person_id"] == str(person.uuid)
    assert changes_by_entity(page, "goal")[gid]["fields"]["achieved_at"] is not None


def test_field_person_joins_caseload_rev_and_coordinator_sees_team(worker, coordinator, device):
    pid = new_id()
    apply(worker, device, mutation("person", pid, {"display_name": "Field"}))
    assignment = CaseloadAssignment.get()
    assert assignment.rev == Person.get(Person.uuid == pid).rev
    laptop = sync.register_device(coordinator, "Laptop")
    page = pull(coordinator, laptop)
    assert pid in changes_by_entity(page, "person")


def test_pushed_visits_move_the_persons_reminders(worker, device):
    import datetime as dt

    from server.models import Reminder

    person = person_on_caseload(worker)
    Person.update(reminders_opt_in=True).where(Person.id == person.id).execute()
    day = (utcnow() + dt.timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    vid = new_id()
    apply(worker, device, mutation("visit", vid, visit_fields(
        person.uuid, started_at=utcnow().isoformat() + "+00:00", next_visit_at=day.isoformat() + "+00:00")))

    def pending():
        return {r.kind for r in Reminder.select().where((Reminder.person == person.id)
                                                        & (Reminder.status == "pending"))}

    assert pending() == {"visit_evening", "visit_soon"}  # the hook ran inside the push's transaction
    apply(worker, device, mutation("visit", vid, op="delete"))
    assert pending() == set()


def test_a_long_last_page_still_carries_later_purges(worker, coordinator, make_user, device):
    """Found by the state machine: a page made long by one joining group, with nothing after it but a leave,
    ended the sync at the group's rev and never sent the purge."""
    other = make_user("peer_worker")
    leaving = person_on_caseload(worker, "Leaving")
    joining = person_on_caseload(other, "Joining")
    their_device = sync.register_device(other, "Theirs")
    apply(other, their_device, *[mutation("visit", new_id(), visit_fields(joining.uuid)) for _ in range(2)])
    cursor = pull(worker, device)["cursor"]
    with write_transaction():
        joining.reassign(worker, by=coordinator)
        leaving.reassign(other, by=coordinator)
    page = pull(worker, device, cursor, 2)
    assert len(page["changes"]) == 3 and page["more"] is False  # the joining person and two visits, one rev
    assert str(leaving.uuid) in {p["record_id"] for p in page["purge"]}
    assert page["cursor"] == sync.revisions.current_rev()


def test_a_returning_persons_old_tombstone_survives_a_page_boundary(worker, coordinator, make_user, device):
    """Found hunting the state machine's one-off failure: a person leaves and comes back between two syncs,
    with a visit of theirs deleted before the leave. The tombstone rides at the return's rev, so a page made
    of other changes ends past the tombstone's own rev without it, and the next page's cursor left it out as
    "older than the cursor": the deleted visit stayed on the phone, outside the worker's scope."""
    other = make_user("peer_worker")
    person = person_on_caseload(worker, "Away and back")
    steady = person_on_caseload(worker, "Steady")
    vid = new_id()
    apply(worker, device, mutation("visit", vid, visit_fields(person.uuid)))
    held = {}

    def sync_all(cursor, limit):
        while True:
            page = pull(worker, device, cursor, limit)
            for change in page["changes"]:  # as the PWA applies a page: changes, then purges
                key = (change["entity"], change["record_id"])
                held.pop(key, None) if change["deleted"] else held.__setitem__(key, change)
            for item in page["purge"]:
                held.pop((item["entity"], item["record_id"]), None)
            cursor = page["cursor"]
            if not page["more"]:
                return cursor

    cursor = sync_all(0, 500)
    assert ("visit", vid) in held
    apply(worker, sync.register_device(worker, "Tablet"), mutation("visit", vid, op="delete"))
    apply(worker, device, *[mutation("visit", new_id(), visit_fields(steady.uuid)) for _ in range(2)])
    with write_transaction():
        person.reassign(other, by=coordinator)
    with write_transaction():
        Person.get_by_id(person.id).reassign(worker, by=coordinator)
    sync_all(cursor, 2)
    assert ("visit", vid) not in held
    assert ("person", str(person.uuid)) in held
    assert {key for key in held if key[0] == "visit"} == {
        ("visit", str(v.uuid)) for v in Visit.select().where(Visit.deleted == False)}  # noqa: E712


@pytest.mark.parametrize("limit", [37, 500])
def test_many_changes_in_several_tables_page_once_each_on_rev_boundaries(worker, device, limit):
    """More changes in a table than the pull's first look fetches whole (pull.PROBE): the page's end is found
    from revs alone, and every record still comes exactly once, each rev on one page only."""
    from server.sync.pull import PROBE

    people = [person_on_caseload(worker, name=f"P{i}") for i in range(3)]
    goals = [new_id() for _ in people]
    apply(worker, device, *[mutation("goal", g, {"person_id": str(p.uuid), "title": "Walk"})
                            for g, p in zip(goals, people, strict=True)])
    visits = [(new_id(), people[i % 3]) for i in range(PROBE + 30)]
    for start in range(0, len(visits), 50):
        apply(worker, device, *[mutation("visit", vid, visit_fields(p.uuid)) for vid, p in visits[start:start + 50]])
    ratings = [mutation("goal_progress", new_id(), {"goal_id": goals[i % 3], "rating": i % 11})
               for i in range(PROBE + 10)]
    apply(worker, device, *ratings)
    full = pull(worker, device, 0, 100_000)
    assert not full["more"]
    cursor, seen, revs_by_page = 0, [], []
    while True:
        page = pull(worker, device, cursor, limit)
        seen.extend((c["entity"], c["record_id"]) for c in page["changes"])
        revs_by_page.append({c["rev"] for c in page["changes"]})
        assert all(c["rev"] <= page["cursor"] for c in page["changes"])
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert sorted(seen) == sorted((c["entity"], c["record_id"]) for c in full["changes"])
    assert len(seen) == len(set(seen)) == 3 + 3 + len(visits) + len(ratings)
    for i, revs in enumerate(revs_by_page):
        assert not revs & set().union(*revs_by_page[:i])
    assert cursor == full["cursor"]


def test_records_of_several_tables_sharing_the_pages_last_rev_all_come(worker, device):
    """A page's end found by one look along every changed table's revs, stopped after limit + 1 of them: when
    it stops at exactly the page's last rev, a table it never reached may hold a row at that rev too, and that
    row must come on this page (the next page starts after the rev: it would be lost for good)."""
    from server.models import Goal, Referral
    from server.sync.revisions import next_rev

    person = person_on_caseload(worker)
    resource = make_resource()
    cursor = pull(worker, device, 0, 100_000)["cursor"]
    with write_transaction():  # one change of three records: one rev
        rev = next_rev()
        goal = Goal.create(person=person, created_by=worker, title="Walk", rev=rev)
        visit = Visit.create(person=person, author=worker, started_at=utcnow(), rev=rev)
        referral = Referral.create(person=person, resource=resource, created_by=worker, rev=rev)
    later = [new_id() for _ in range(10)]  # enough after it that the page's end is looked for by rev alone
    apply(worker, device, *[mutation("visit", vid, visit_fields(person.uuid)) for vid in later])
    page = pull(worker, device, cursor, 1)
    assert {(c["entity"], c["record_id"]) for c in page["changes"]} == {
        ("goal", str(goal.uuid)), ("visit", str(visit.uuid)), ("referral", str(referral.uuid))}
    assert page["cursor"] == rev and page["more"]
    rest = pull(worker, device, page["cursor"], 100_000)
    assert sorted(c["record_id"] for c in rest["changes"]) == sorted(later)


ODD_TEXT = ["tab\there", "two\nlines\r\nand a carriage return\r", "back\\slash \\N \\t \\\\", "\\N", "",
            "émoji 🙂 and ünïcode", "quote ' and \" and , and |"]


def test_new_records_written_together_keep_every_character(worker, device):
    """New visits and ratings go in with one statement per table (COPY on PostgreSQL, whose text format escapes
    tabs, newlines and backslashes): what was typed comes back exactly, and so do the stored answers."""
    person = person_on_caseload(worker)
    goal_id = new_id()
    assert apply(worker, device, mutation("goal", goal_id, {"person_id": str(person.uuid), "title": "Walk"}))[0][
        "status"] == "applied"
    batch, visit_ids, rating_ids = [], [], []
    for text in ODD_TEXT:
        vid, rid = new_id(), new_id()
        visit_ids.append(vid)
        rating_ids.append(rid)
        batch.append(mutation("visit", vid, visit_fields(person.uuid, notes=text, wellbeing=None)))
        batch.append(mutation("goal_progress", rid, {"goal_id": goal_id, "visit_id": vid, "rating": 5,
                                                     "note": text}))
    results = apply(worker, device, *batch)
    assert [r["status"] for r in results] == ["applied"] * len(batch)
    assert [Visit.get(Visit.uuid == v).notes for v in visit_ids] == ODD_TEXT
    assert [GoalProgress.get(GoalProgress.uuid == r).note for r in rating_ids] == ODD_TEXT
    pulled = changes_by_entity(pull(worker, device), "visit")
    assert [pulled[v]["fields"]["notes"] for v in visit_ids] == ODD_TEXT
    stored = {str(a.mutation_id): a for a in AppliedMutation.select()}
    assert all(stored[m["id"]].status == "applied" and stored[m["id"]].content_hash for m in batch)
    # a refusal keeps what was typed in its stored answer, odd characters and all
    refused = mutation("visit", new_id(), visit_fields(person.uuid, notes="\t\\N\n", duration_minutes="long"))
    assert apply(worker, device, refused)[0]["status"] == "rejected"
    assert json.loads(AppliedMutation.get(AppliedMutation.mutation_id == refused["id"]).result)["fields"][
        "notes"] == "\t\\N\n"
