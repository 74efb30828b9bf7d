"""Issue 15, contract C over the sync API: voiding a visit, changed since review, endings and handovers, the
did-not-attend count, and the guards on visit times. Real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields

from server import attendance
from server.db import utcnow, write_transaction
from server.models import Goal, GoalProgress, Person, Visit
from server.sync.revisions import stamp_values


def _iso(when: dt.datetime) -> str:
    return when.replace(microsecond=0).isoformat() + "+00:00"


def _pulled(phone, entity, record_id) -> dict:
    phone.pull_all()
    return phone.records[(entity, str(record_id))]["fields"]


def _review(visit_id) -> None:
    visit = Visit.get(Visit.uuid == visit_id)
    with write_transaction():
        Visit.update(reviewed_at=utcnow(), **stamp_values(visit, ())).where(Visit.id == visit.id).execute()


def test_author_voids_a_visit_with_a_reason_and_it_stays_voided(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    vid = new_id()
    assert phone.push([mutation("visit", vid, visit_fields(person.uuid))])[0]["status"] == "applied"
    rev = _pulled(phone, "visit", vid)
    assert rev["voided_at"] is None and rev["voided_reason"] == ""
    result = phone.push([mutation("visit", vid, {"voided_reason": "Logged for the wrong person"}, base_rev=1)])
    assert result[0]["status"] == "applied"
    visit = Visit.get(Visit.uuid == vid)
    assert visit.voided_at is not None and visit.voided_reason == "Logged for the wrong person"
    assert not visit.deleted  # a tombstone that stays visible as voided, not a deletion
    pulled = _pulled(phone, "visit", vid)
    assert pulled["voided_at"] and pulled["voided_reason"] == "Logged for the wrong person"
    undo = phone.push([mutation("visit", vid, {"voided_reason": ""}, base_rev=1)])[0]
    assert undo["status"] == "rejected" and "voided_reason" in undo["errors"]
    forged = phone.push([mutation("visit", vid, {"voided_at": None}, base_rev=1)])[0]
    assert forged["status"] == "rejected" and "voided_at" in forged["errors"]
    assert Visit.get(Visit.uuid == vid).voided_at == visit.voided_at


def test_visit_created_already_voided_is_kept_voided(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    vid = new_id()
    phone.push([mutation("visit", vid, visit_fields(person.uuid, voided_reason="Duplicate"))])
    assert Visit.get(Visit.uuid == vid).voided_at is not None


def test_edit_after_review_is_changed_since_review_until_reviewed_again(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    vid = new_id()
    phone.push([mutation("visit", vid, visit_fields(person.uuid, notes="first"))])
    assert _pulled(phone, "visit", vid)["changed_since_review"] is False
    _review(vid)
    pulled = _pulled(phone, "visit", vid)
    assert pulled["reviewed"] is True and pulled["changed_since_review"] is False
    # echoing the whole record back changes nothing, so it is not an edit
    echo = {k: v for k, v in pulled.items() if k not in ("author_id",)}
    assert phone.push([mutation("visit", vid, echo, base_rev=1)])[0]["status"] == "applied"
    assert _pulled(phone, "visit", vid)["changed_since_review"] is False
    phone.push([mutation("visit", vid, {"notes": "second"}, base_rev=1)])
    assert _pulled(phone, "visit", vid)["changed_since_review"] is True
    _review(vid)
    assert _pulled(phone, "visit", vid)["changed_since_review"] is False


def test_changing_a_rating_of_a_reviewed_visit_is_a_change_since_review(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    gid, vid, rid = new_id(), new_id(), new_id()
    phone.push([mutation("goal", gid, {"person_id": str(person.uuid), "title": "Sleep"}),
                mutation("visit", vid, visit_fields(person.uuid)),
                mutation("goal_progress", rid, {"goal_id": gid, "visit_id": vid, "rating": 4})])
    _review(vid)
    assert _pulled(phone, "visit", vid)["changed_since_review"] is False
    assert phone.push([mutation("goal_progress", rid, {"rating": 6}, base_rev=1)])[0]["status"] == "applied"
    assert GoalProgress.get(GoalProgress.uuid == rid).rating == 6
    assert _pulled(phone, "visit", vid)["changed_since_review"] is True


def test_rating_outside_a_visit_syncs(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    gid, rid = new_id(), new_id()
    phone.push([mutation("goal", gid, {"person_id": str(person.uuid), "title": "Walk"}),
                mutation("goal_progress", rid, {"goal_id": gid, "visit_id": None, "rating": 7, "rated_by": "person"})])
    row = GoalProgress.get(GoalProgress.uuid == rid)
    assert row.visit_id is None and row.rating == 7 and row.goal_id == Goal.get(Goal.uuid == gid).id
    pulled = _pulled(phone, "goal_progress", rid)
    assert pulled["visit_id"] is None and pulled["created_at"].startswith(str(row.created_at.date()))


def test_close_an_engagement_with_a_reason_and_summary(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    phone.pull_all()
    result = phone.push([mutation("person", person.uuid, {"closed_reason": "goals_met",
                                                          "ending_summary": "Back at work, sleeping well."},
                                  base_rev=phone.cursor)])
    assert result[0]["status"] == "applied", result
    person = Person.get_by_id(person.id)
    assert person.status == "closed" and person.closed_reason == "goals_met"
    assert person.closed_at == utcnow().date() and person.ending_summary == "Back at work, sleeping well."
    pulled = _pulled(phone, "person", person.uuid)
    assert pulled["closed_reason"] == "goals_met" and pulled["closed_at"] == utcnow().date().isoformat()
    bad = phone.push([mutation("person", person.uuid, {"closed_reason": "bored"}, base_rev=phone.cursor)])[0]
    assert bad["status"] == "rejected" and "closed_reason" in bad["errors"]
    long = phone.push([mutation("person", person.uuid, {"ending_summary": "x" * 2001}, base_rev=phone.cursor)])[0]
    assert long["status"] == "rejected" and "ending_summary" in long["errors"]


def test_handover_note_is_pulled_and_read_only(client, worker):
    person = person_on_caseload(worker)
    with write_transaction():
        Person.update(handover_note="Prefers text messages; dog is friendly.",
                      **stamp_values(person, ())).where(Person.id == person.id).execute()
    phone = HttpDevice(client, worker)
    pulled = _pulled(phone, "person", person.uuid)
    assert pulled["handover_note"] == "Prefers text messages; dog is friendly."
    refused = phone.push([mutation("person", person.uuid, {"handover_note": "mine"}, base_rev=phone.cursor)])[0]
    assert refused["status"] == "rejected" and "handover_note" in refused["errors"]


def test_worker_added_person_waits_for_confirmation(client, worker):
    phone = HttpDevice(client, worker)
    pid = new_id()
    fields = {"display_name": "Jo", "preferred_contact": "Text after 5pm", "engagement_start": "2026-11-20",
              "planned_end": "2027-05-20"}
    assert phone.push([mutation("person", pid, fields)])[0]["status"] == "applied"
    pulled = _pulled(phone, "person", pid)
    assert pulled["added_in_field"] is True and pulled["confirmed"] is False
    assert pulled["planned_end"] == "2027-05-20" and pulled["missed_in_a_row"] == 0


def test_missed_in_a_row_counts_the_latest_run_and_is_pulled(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    start = dt.datetime(2026, 11, 1, 10)

    def visit(day, attendance_code):
        return mutation("visit", new_id(), visit_fields(person.uuid, started_at=_iso(start + dt.timedelta(days=day)),
                                                        attendance=attendance_code))

    phone.push([visit(0, "3"), visit(1, "5"), visit(2, "3")])
    assert attendance.missed_in_a_row(person) == 1
    assert _pulled(phone, "person", person.uuid)["missed_in_a_row"] == 1
    missed = visit(4, "7")
    phone.push([visit(3, "2"), missed])  # a cancellation is passed over
    assert attendance.missed_in_a_row(person) == 2 == Person.get_by_id(person.id).missed_in_a_row
    assert _pulled(phone, "person", person.uuid)["missed_in_a_row"] == 2
    phone.push([mutation("visit", missed["record_id"], {"voided_reason": "Wrong day"}, base_rev=1)])
    assert _pulled(phone, "person", person.uuid)["missed_in_a_row"] == 1  # a voided visit does not count
    phone.push([visit(5, "5")])
    assert _pulled(phone, "person", person.uuid)["missed_in_a_row"] == 0


def test_stored_counts_follow_random_pushes_of_new_visits(client, worker):
    """The push skips counting people whose only change is new visits that were not missed and whose count is
    0 (such a visit can end a run, never start one): after each random push, every stored count is still the
    one the rule gives, whatever the order of dates and codes."""
    import random

    rng = random.Random(11)
    phone = HttpDevice(client, worker)
    people = [person_on_caseload(worker) for _ in range(6)]
    start = dt.datetime(2026, 10, 1, 10)
    for _ in range(8):
        batch = []
        for _ in range(rng.randrange(1, 8)):
            person = rng.choice(people)
            when = start + dt.timedelta(days=rng.randrange(0, 30))
            batch.append(mutation("visit", new_id(), visit_fields(person.uuid, started_at=_iso(when),
                                                                  attendance=rng.choice("2345677"))))
        assert all(r["status"] == "applied" for r in phone.push(batch))
        stored = {p.id: p.missed_in_a_row for p in Person.select().where(Person.id.in_([p.id for p in people]))}
        assert stored == {p.id: attendance.missed_in_a_row(p) for p in people}
    assert any(stored.values()) and not all(stored.values())


def test_count_missed_rule():
    assert attendance.count_missed([]) == 0
    assert attendance.count_missed(["3", "7", "5", "3"]) == 2
    assert attendance.count_missed(["2", "3", "4", "3", "6"]) == 2


def test_guards_on_visit_times(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    now = utcnow()
    in_2031 = visit_fields(person.uuid, started_at="2031-03-01T10:00:00+00:00")
    far = phone.push([mutation("visit", new_id(), in_2031)])[0]
    assert far["status"] == "rejected" and far["errors"]["started_at"] == [
        "A visit cannot be logged more than a day ahead. Check the date."]
    soon = phone.push([mutation("visit", new_id(), visit_fields(person.uuid,
                                                                started_at=_iso(now + dt.timedelta(hours=20))))])[0]
    assert soon["status"] == "applied"
    too_late = phone.push([mutation("visit", new_id(), visit_fields(
        person.uuid, started_at=_iso(now), next_visit_at=_iso(now + dt.timedelta(days=800))))])[0]
    assert too_late["status"] == "rejected" and "next_visit_at" in too_late["errors"]
    fine = phone.push([mutation("visit", new_id(), visit_fields(
        person.uuid, started_at=_iso(now), next_visit_at=_iso(now + dt.timedelta(days=300))))])[0]
    assert fine["status"] == "applied"
    assert Visit.select().count() == 2


def test_rules_document_publishes_the_guards(client, worker):
    from server.sync.rules import rules_document

    visit = rules_document()["entities"]["visit"]
    assert visit["fields"]["started_at"]["maxAheadSeconds"] == 24 * 3600
    assert visit["fields"]["next_visit_at"]["maxAheadSeconds"] == 731 * 24 * 3600
    assert visit["fields"]["voided_reason"]["maxLength"] == 500
    assert {"voided_at", "changed_since_review"} <= set(visit["read_only"])
    person = rules_document()["entities"]["person"]
    assert person["fields"]["closed_reason"]["choices"][0] == ""
    assert {"handover_note", "missed_in_a_row"} <= set(person["read_only"])


def test_many_peoples_counts_in_one_query_agree_with_each_ones(worker):
    """attendance.counts (one query for a push's many people) gives what missed_in_a_row gives person by person,
    over random histories with ties in time, cancellations, voided and deleted visits."""
    import random

    from test_coordinator_common import make_person, make_visit

    from server.db import write_transaction

    rng = random.Random(15)
    start = dt.datetime(2026, 10, 1, 9)
    people = [make_person(worker.team, worker, name=f"P{i}") for i in range(12)]
    for person in people:
        for _ in range(rng.randrange(0, 9)):
            visit = make_visit(person, worker, when=start + dt.timedelta(hours=rng.randrange(0, 6) * 24),
                               attendance=rng.choice(["2", "3", "3", "4", "5", "6", "7", "7"]))
            if rng.random() < 0.15:
                with write_transaction():
                    Visit.update(voided_at=start, deleted=rng.random() < 0.5).where(Visit.id == visit.id).execute()
    ids = [p.id for p in people]
    expected = {pid: attendance.missed_in_a_row(pid) for pid in ids}
    assert any(expected.values())
    got = attendance.counts(ids)
    assert {pid: got.get(pid, 0) for pid in ids} == expected
    with write_transaction():
        attendance.refresh(ids)
    assert {p.id: p.missed_in_a_row for p in Person.select().where(Person.id.in_(ids))} == expected
