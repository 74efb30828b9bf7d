"""A person's right to their record and retention (issue 16, part 4): the subject access export holds every
record of the person and nothing of anyone else, as a page and JSON, and is audited; supervision is left out;
retention's dry run changes nothing, erase blanks and tombstones everything, and the phone's copy goes."""

from __future__ import annotations

import datetime as dt
import json

from peewee import fn
from sync_support import HttpDevice
from test_coordinator_common import (
    make_goal,
    make_person,
    make_progress,
    make_referral,
    make_resource,
    make_visit,
    sign_in,
    uuids_in,
)

from server.db import utcnow, write_transaction
from server.models import (
    AuditEvent,
    Consent,
    ErasedRecord,
    Goal,
    Person,
    Reminder,
    Review,
    SupervisionSession,
    Visit,
)
from server.sync.revisions import next_rev


def held_about(person, worker, coordinator, tag):
    visit = make_visit(person, worker, notes=f"{tag}-visit-note", wellbeing=5)
    goal = make_goal(person, worker, title=f"{tag}-goal")
    rating = make_progress(goal, visit, worker, 4, utcnow())
    referral = make_referral(person, make_resource(f"{tag} cafe"), worker, notes=f"{tag}-referral-note")
    with write_transaction():
        review = Review.create(visit=visit, reviewer=coordinator, comment=f"{tag}-feedback", rev=next_rev())
    consent = Consent.create(person=person, text_version="v1", channel="sms")
    reminder = Reminder.create(person=person, kind="goal_step", body=f"{tag}-reminder", send_at=utcnow())
    return {str(x.uuid) for x in (person, visit, goal, rating, referral)}, [review, consent, reminder]


def test_subject_access_holds_everything_of_the_person_and_nothing_else(client, coordinator, worker):
    ann = make_person(coordinator.team, worker, name="Ann Example")
    bob = make_person(coordinator.team, worker, name="Bob Other")
    ann_ids, _ = held_about(ann, worker, coordinator, "ANN")
    bob_ids, _ = held_about(bob, worker, coordinator, "BOB")
    SupervisionSession.create(worker=worker, held_on=dt.date.today(), topics="SUPERVISION-ABOUT-ANN", rev=1)
    sign_in(client, coordinator)
    client.get(f"/coordinator/people/{ann.uuid}")  # a view, which the export must list
    page = client.get(f"/coordinator/people/{ann.uuid}/record").get_data(as_text=True)
    data = json.loads(client.get(f"/coordinator/people/{ann.uuid}/record.json").get_data(as_text=True))
    text = json.dumps(data)
    for body in (page, text):
        for word in ("ANN-visit-note", "ANN-goal", "ANN-referral-note", "ANN-feedback", "ANN-reminder", "ANN cafe"):
            assert word in body, word
        assert "BOB" not in body and "Bob Other" not in body and "SUPERVISION" not in body
    in_json = uuids_in(text)
    assert {i for i in ann_ids if i != str(ann.uuid)} <= in_json and not (bob_ids & in_json)
    assert data["goals"][0]["ratings"][0]["rating"] == 4 and data["consents"][0]["channel"] == "sms"
    assert any(v["what"] == "person.view" for v in data["viewed_by"])
    exports = AuditEvent.select().where(AuditEvent.action == "person.subject_access")
    assert {e.detail for e in exports} == {"html", "json"} and {e.record_id for e in exports} == {str(ann.uuid)}


def test_another_teams_coordinator_cannot_export(app, coordinator, worker, make_user, other_team):
    ann = make_person(coordinator.team, worker, name="Ann Example")
    outside = app.test_client()
    sign_in(outside, make_user("coordinator", team=other_team))
    assert outside.get(f"/coordinator/people/{ann.uuid}/record").status_code == 404
    assert outside.get(f"/coordinator/people/{ann.uuid}/record.json").status_code == 404
    assert outside.get("/coordinator/people/not-a-uuid/record.json").status_code == 404


def close_long_ago(person, years=21):
    with write_transaction():
        Person.update(status="closed", updated_at=utcnow() - dt.timedelta(days=365 * years),
                      planned_end=dt.date.today() - dt.timedelta(days=365 * years)).where(Person.id == person.id) \
            .execute()
        Visit.update(started_at=utcnow() - dt.timedelta(days=365 * years + 30)).where(Visit.person == person).execute()


def test_retention_dry_run_then_erase_and_the_phone_copy_goes(app, client, runner, coordinator, worker):
    old = make_person(coordinator.team, worker, name="Old Record")
    recent = make_person(coordinator.team, worker, name="Recent Record")
    old_ids, _ = held_about(old, worker, coordinator, "OLD")
    held_about(recent, worker, coordinator, "NEW")
    close_long_ago(old)
    phone = HttpDevice(client, worker)
    phone.pull_all()
    assert str(old.uuid) in phone.ids("person") and phone.ids("visit")

    dry = runner.invoke(args=["records", "retention"])
    assert dry.exit_code == 0 and str(old.uuid) in dry.output and str(recent.uuid) not in dry.output
    assert "Dry run" in dry.output and Person.get_by_id(old.id).display_name == "Old Record"
    also_dry = runner.invoke(args=["records", "retention", "--erase", "--dry-run"])
    assert also_dry.exit_code == 0 and Visit.select().where(Visit.deleted).count() == 0

    done = runner.invoke(args=["records", "retention", "--erase"])
    assert done.exit_code == 0, done.output
    gone = Person.get_by_id(old.id)
    assert gone.deleted and gone.display_name == "Erased"
    assert all(v.deleted and v.notes == "" for v in Visit.select().where(Visit.person == old))
    assert all(g.deleted and g.title == "" for g in Goal.select().where(Goal.person == old))
    assert Consent.select().where(Consent.person == old).count() == 0
    assert ErasedRecord.get().person_uuid == old.uuid
    assert {"retention.dry_run", "retention.erase"} <= {e.action for e in AuditEvent.select()}
    assert Person.get_by_id(recent.id).display_name == "Recent Record"

    phone.pull_all()
    held = {rid for (_entity, rid) in phone.records}
    assert not (old_ids & held) and str(recent.uuid) in held


def test_anonymise_keeps_the_figures(runner, coordinator, worker):
    old = make_person(coordinator.team, worker, name="Old Record")
    held_about(old, worker, coordinator, "OLD")
    close_long_ago(old)
    result = runner.invoke(args=["records", "retention", "--anonymise"])
    assert result.exit_code == 0, result.output
    person = Person.get_by_id(old.id)
    assert person.display_name == "Anonymised" and not person.deleted and not list(person.current_workers())
    visit = Visit.get(Visit.person == old)
    assert not visit.deleted and visit.notes == "" and visit.wellbeing == 5


def test_a_recent_visit_keeps_a_closed_record(runner, coordinator, worker):
    """The retention period runs from the latest of the planned end, the last visit and the closing: one visit
    last month keeps a record whose engagement was closed and ended 21 years ago (the last visits of everyone
    closed are read together, not one query a person)."""
    kept = make_person(coordinator.team, worker, name="Kept Record")
    due = make_person(coordinator.team, worker, name="Due Record")
    for person in (kept, due):
        held_about(person, worker, coordinator, person.display_name[:3])
        close_long_ago(person)
    with write_transaction():
        Visit.update(started_at=utcnow() - dt.timedelta(days=30)).where(
            Visit.id == Visit.select(fn.MAX(Visit.id)).where(Visit.person == kept)).execute()
    dry = runner.invoke(args=["records", "retention"])
    assert dry.exit_code == 0, dry.output
    assert str(due.uuid) in dry.output and str(kept.uuid) not in dry.output
    assert "1 closed engagement(s)" in dry.output
