"""Review and feedback, concerns, and caseload changes: each stamps the change sequence so the worker's
phone sees it on its next sync pull, and each leaves an audit row (ids only, no health text)."""

from __future__ import annotations

import datetime as dt

from test_coordinator_common import make_person, make_visit, post, sign_in

from server import sync
from server.db import utcnow
from server.models import AuditEvent, CaseloadAssignment, Person, Review, Visit
from server.sync.revisions import current_rev


def pull_all(user, device, cursor=0):
    """Pull until the server says there is no more; returns (changes, purge, cursor)."""
    changes, purge = [], []
    while True:
        page = sync.pull_changes(user, device, cursor=cursor, limit=200)
        changes += page["changes"]
        purge += page["purge"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, purge, cursor


def test_feedback_and_review_reach_the_workers_phone(client, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Dee")
    visit = make_visit(person, worker, notes="Talked about the allotment", concern="high", concern_notes="Low mood")
    device = sync.register_device(worker, "Work phone")
    _, _, cursor = pull_all(worker, device)
    sign_in(client, coordinator)

    page = client.get(f"/coordinator/visits/{visit.uuid}").get_data(as_text=True)
    assert "Talked about the allotment" in page and "Low mood" in page
    before = current_rev()
    response = post(client, f"/coordinator/visits/{visit.uuid}/review",
                    {"comment": "Lovely work, well done", "mark_reviewed": ["0", "1"]})
    assert response.status_code == 302
    review = Review.get(Review.visit == visit)
    visit = Visit.get_by_id(visit.id)
    assert review.comment == "Lovely work, well done" and review.reviewer_id == coordinator.id
    assert review.rev > before and visit.rev > before and visit.reviewed_at is not None
    assert visit.reviewed_by_id == coordinator.id

    changes, _, cursor = pull_all(worker, device, cursor)
    by_entity = {(c["entity"], c["record_id"]): c for c in changes}
    pulled = by_entity[("review", str(review.uuid))]
    assert pulled["fields"]["comment"] == "Lovely work, well done"
    assert pulled["fields"]["visit_id"] == str(visit.uuid)
    assert ("visit", str(visit.uuid)) in by_entity

    # feedback without marking reviewed again; a second review does not move reviewed_at
    post(client, f"/coordinator/visits/{visit.uuid}/review", {"comment": "One more thing", "mark_reviewed": "0"})
    assert Review.select().where(Review.visit == visit).count() == 2
    assert Visit.get_by_id(visit.id).reviewed_at == visit.reviewed_at
    # neither a comment nor a tick, and an over-long comment, are refused clearly
    assert post(client, f"/coordinator/visits/{visit.uuid}/review", {"mark_reviewed": "0"}).status_code == 400
    assert post(client, f"/coordinator/visits/{visit.uuid}/review", {"comment": "x" * 2001}).status_code == 400

    ids = [str(visit.uuid), str(review.uuid)]
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.record_id.in_(ids))]
    assert actions.count("visit.view") == 1 and actions.count("visit.review") == 1
    assert actions.count("review.create") == 1
    for event in AuditEvent.select():
        assert "allotment" not in event.detail and "mood" not in event.detail and "well done" not in event.detail


def test_review_queue_filters_and_bulk_review(client, coordinator, worker, make_user):
    other_worker = make_user("peer_worker", team=coordinator.team, name="Second Worker")
    dee = make_person(coordinator.team, worker, name="Dee")
    ray = make_person(coordinator.team, other_worker, name="Ray")
    now = utcnow()
    old = make_visit(dee, worker, when=now - dt.timedelta(days=40))
    recent = make_visit(dee, worker, when=now - dt.timedelta(days=1), concern="low")
    rays = make_visit(ray, other_worker, when=now - dt.timedelta(days=2))
    sign_in(client, coordinator)

    def shown(query):
        html = client.get("/coordinator/review" + query).get_data(as_text=True)
        return {v for v in (old, recent, rays) if str(v.uuid) in html}

    assert shown("") == {old, recent, rays}
    assert shown(f"?worker={other_worker.uuid}") == {rays}
    assert shown(f"?person={dee.uuid}") == {old, recent}
    assert shown("?concern=low") == {recent} and shown("?concern=any") == {recent}
    day = (now - dt.timedelta(days=3)).date().isoformat()
    assert shown(f"?from={day}") == {recent, rays}
    html = client.get("/coordinator/review").get_data(as_text=True)
    assert html.index(str(recent.uuid)) < html.index(str(rays.uuid)) < html.index(str(old.uuid))  # newest first

    before = current_rev()
    response = post(client, "/coordinator/review/bulk", {"visit": [str(old.uuid), str(rays.uuid)]})
    assert response.status_code == 302
    assert Visit.get_by_id(old.id).reviewed_at and Visit.get_by_id(rays.id).reviewed_at
    assert Visit.get_by_id(recent.id).reviewed_at is None
    revs = {Visit.get_by_id(old.id).rev, Visit.get_by_id(rays.id).rev}
    assert len(revs) == 2 and min(revs) > before
    assert shown("?unreviewed=1") == {recent}
    assert post(client, "/coordinator/review/bulk", {}).status_code == 400
    assert post(client, "/coordinator/review/bulk", {"visit": ["nonsense"]}).status_code == 400
    assert post(client, "/coordinator/review/bulk", {"visit": [str(old.uuid)] * 201}).status_code == 400
    assert AuditEvent.select().where(AuditEvent.action == "visit.review").count() == 2


def test_concerns_high_first_counted_and_acknowledged(client, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Kim")
    now = utcnow()
    low = make_visit(person, worker, when=now - dt.timedelta(hours=1), concern="low", concern_notes="Tired")
    high = make_visit(person, worker, when=now - dt.timedelta(days=3), concern="high", concern_notes="Not eating")
    make_visit(person, worker, concern="none")
    sign_in(client, coordinator)
    html = client.get("/coordinator/concerns").get_data(as_text=True)
    assert html.index(str(high.uuid)) < html.index(str(low.uuid))
    assert '<span class="badge"><span class="visually-hidden">(</span>2<' in html

    assert post(client, f"/coordinator/visits/{high.uuid}/acknowledge", {"note": "  "}).status_code == 400
    before = current_rev()
    response = post(client, f"/coordinator/visits/{high.uuid}/acknowledge", {"note": "Phoned the GP with consent"})
    assert response.status_code == 302
    high = Visit.get_by_id(high.id)
    assert high.concern_ack_at and high.concern_ack_by_id == coordinator.id and high.rev > before
    assert high.concern_ack_note == "Phoned the GP with consent"
    html = client.get("/coordinator/concerns").get_data(as_text=True)
    assert str(high.uuid) not in html and '<span class="visually-hidden">(</span>1<' in html
    assert str(high.uuid) in client.get("/coordinator/concerns?show=all").get_data(as_text=True)
    event = AuditEvent.get(AuditEvent.action == "concern.acknowledge")
    assert event.record_id == str(high.uuid) and "GP" not in event.detail


def test_caseload_create_reassign_pause_close_confirm(client, coordinator, worker, make_user):
    second = make_user("peer_worker", team=coordinator.team, name="Second Worker")
    sign_in(client, coordinator)
    phone_1 = sync.register_device(worker, "Phone 1")
    phone_2 = sync.register_device(second, "Phone 2")
    _, _, cursor_1 = pull_all(worker, phone_1)
    _, _, cursor_2 = pull_all(second, phone_2)

    response = post(client, "/coordinator/people/new", {"display_name": "Morgan", "planned_end": "2020-02-01",
                                                        "engagement_start": "2019-11-01", "worker": str(worker.uuid)})
    assert response.status_code == 302
    person = Person.get(Person.display_name == "Morgan")
    assert person.team_id == coordinator.team_id and person.rev > 0
    visit = make_visit(person, worker)
    changes, _, cursor_1 = pull_all(worker, phone_1, cursor_1)
    assert ("person", str(person.uuid)) in {(c["entity"], c["record_id"]) for c in changes}

    page = client.get("/coordinator/people").get_data(as_text=True)
    assert "Morgan" in page and "Past planned end" in page and "Worker One" in page

    response = post(client, f"/coordinator/people/{person.uuid}/assign", {"worker": str(second.uuid)})
    assert response.status_code == 302
    open_rows = list(CaseloadAssignment.select().where((CaseloadAssignment.person == person)
                                                       & CaseloadAssignment.ended_at.is_null()))
    assert [row.worker_id for row in open_rows] == [second.id]
    ended = CaseloadAssignment.get((CaseloadAssignment.person == person) & (CaseloadAssignment.worker == worker))
    assert ended.ended_at is not None and ended.rev > 0

    # the sync scope follows: the new worker's next pull carries the person and their history,
    # the old worker's next pull purges them
    changes, _, _ = pull_all(second, phone_2, cursor_2)
    pulled = {(c["entity"], c["record_id"]) for c in changes}
    assert ("person", str(person.uuid)) in pulled and ("visit", str(visit.uuid)) in pulled
    _, purge, _ = pull_all(worker, phone_1, cursor_1)
    assert {"entity": "person", "record_id": str(person.uuid)} in purge

    before = current_rev()
    post(client, f"/coordinator/people/{person.uuid}/status", {"status": "paused"})
    assert Person.get_by_id(person.id).status == "paused" and Person.get_by_id(person.id).rev > before
    post(client, f"/coordinator/people/{person.uuid}/status", {"status": "closed"})
    assert Person.get_by_id(person.id).status == "closed"
    assert post(client, f"/coordinator/people/{person.uuid}/status", {"status": "gone"}).status_code == 400

    field = make_person(coordinator.team, worker, name="Met at the cafe", added_in_field=True)
    assert "Met at the cafe" in client.get("/coordinator/people?show=to_confirm").get_data(as_text=True)
    post(client, f"/coordinator/people/{field.uuid}/confirm")
    assert Person.get_by_id(field.id).confirmed_at is not None
    assert "Met at the cafe" not in client.get("/coordinator/people?show=to_confirm").get_data(as_text=True)

    post(client, f"/coordinator/people/{person.uuid}/edit", {"display_name": "Morgan P.", "planned_end": "bad"})
    assert Person.get_by_id(person.id).display_name == "Morgan"
    post(client, f"/coordinator/people/{person.uuid}/edit", {"display_name": "Morgan P."})
    assert Person.get_by_id(person.id).display_name == "Morgan P."

    client.get(f"/coordinator/people/{person.uuid}")
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.record_id == str(person.uuid))]
    for action in ("person.create", "person.assign", "person.reassign", "person.pause", "person.close",
                   "person.edit", "person.view"):
        assert action in actions, action
    assert AuditEvent.select().where(AuditEvent.action == "person.confirm").count() == 1


def test_a_coordinator_edit_is_not_silently_overwritten_by_a_stale_phone(client, coordinator, worker):
    import uuid

    from server.models import Conflict

    person = make_person(coordinator.team, worker, name="Sky")
    device = sync.register_device(worker, "Phone")
    seen_rev = Person.get_by_id(person.id).rev
    sign_in(client, coordinator)
    post(client, f"/coordinator/people/{person.uuid}/edit", {"display_name": "Sky N."})
    results = sync.apply_batch(worker, device, [{
        "id": str(uuid.uuid4()), "entity": "person", "record_id": str(person.uuid), "op": "upsert",
        "base_rev": seen_rev, "fields": {"display_name": "Skylar"}}])
    assert results[0]["status"] == "conflict", results
    conflict = Conflict.get(Conflict.record_id == person.uuid)
    assert conflict.field == "display_name" and "Sky N." in conflict.lost_value
    assert conflict.lost_by_id == coordinator.id
