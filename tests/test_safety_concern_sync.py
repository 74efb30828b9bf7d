"""A concern never waits on an unrelated field: a visit carrying a concern that the server refuses (the note too
long, a person not on the caseload, a bad time...) still raises an alert naming the worker and the person, in the
push's own transaction, with the rejection stored as before; a serious concern that is applied alerts once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields

from server import db as dbmod
from server.models import AppliedMutation, OutboxMessage, Person, StaffAlert, Visit
from server.sync.revisions import next_rev


@pytest.fixture
def app(make_app):
    """Email configured (nothing is sent here): with nobody opted in, the team's coordinators get email."""
    application = make_app(SMTP_URL="smtp+plain://127.0.0.1:9", SMTP_FROM="alerts@alongside.example")
    yield application
    dbmod.dispose()


@pytest.fixture
def device(client, worker):
    return HttpDevice(client, worker)


def alerts(kind=None):
    query = StaffAlert.select().order_by(StaffAlert.id)
    return list(query.where(StaffAlert.kind == kind) if kind else query)


@pytest.mark.parametrize("level", ["low", "high"])
def test_a_rejected_visit_with_a_concern_still_alerts_naming_worker_and_person(device, worker, coordinator, level):
    person = person_on_caseload(worker, name="Robin Example")
    visit_id = new_id()
    long_note = "x" * 11_205
    [result] = device.push([mutation("visit", visit_id, visit_fields(person.uuid, notes=long_note, concern=level,
                                                                       concern_notes="worried about them"))])
    assert result["status"] == "rejected" and "notes" in result["errors"]
    assert Visit.select().count() == 0
    [alert] = alerts()
    assert (alert.kind, alert.level, str(alert.subject_uuid)) == ("concern_rejected", level, visit_id)
    assert (alert.worker_id, alert.person_id, alert.team_id) == (worker.id, person.id, person.team_id)
    stored = AppliedMutation.get(AppliedMutation.record_id == visit_id)
    assert stored.status == "rejected" and json.loads(stored.result)["fields"]["notes"] == long_note  # kept
    [message] = OutboxMessage.select()  # nobody chose: the team's coordinator, by email
    assert (message.user_id, message.channel) == (coordinator.id, "email")
    assert json.loads(message.template_values) == {"alert_id": str(alert.uuid), "kind": "concern_rejected"}
    # sent again (the phone retries with a new mutation id): still one open alert
    device.push([mutation("visit", visit_id, visit_fields(person.uuid, notes=long_note, concern=level))])
    assert len(alerts()) == 1


def test_rejection_for_a_person_not_on_the_caseload_alerts_the_workers_team_without_naming_them(
        device, worker, coordinator, other_team):
    stranger = Person.create(team=other_team, display_name="Not Yours", rev=next_rev())
    visit_id = new_id()
    [result] = device.push([mutation("visit", visit_id, visit_fields(stranger.uuid, concern="high"))])
    assert result["status"] == "rejected" and result["code"] == "not_found"
    [alert] = alerts("concern_rejected")
    assert alert.team_id == worker.team_id and alert.person_id is None and alert.worker_id == worker.id


def test_no_concern_no_alert_and_a_rejected_delete_does_not_alert(device, worker):
    person = person_on_caseload(worker)
    device.push([mutation("visit", new_id(), visit_fields(person.uuid, notes="x" * 10_001))])
    device.push([mutation("visit", new_id(), visit_fields(person.uuid, concern="none", started_at="yesterday"))])
    device.push([mutation("visit", new_id(), op="delete")])
    assert alerts() == []


def test_an_applied_serious_concern_alerts_once_and_an_echo_does_not_alert_again(device, worker, coordinator):
    person = person_on_caseload(worker)
    visit_id = new_id()
    [low] = device.push([mutation("visit", visit_id, visit_fields(person.uuid, concern="low"))])
    assert low["status"] == "applied" and alerts() == []  # some concern: on the list, nobody paged
    [high] = device.push([mutation("visit", visit_id, {"concern": "high"}, base_rev=low["rev"])])
    assert high["status"] == "applied"
    [alert] = alerts("concern")
    assert (alert.worker_id, alert.person_id, alert.level) == (worker.id, person.id, "high")
    assert alert.escalate_at - alert.raised_at == dt.timedelta(minutes=120)
    [echo] = device.push([mutation("visit", visit_id, visit_fields(person.uuid, concern="high", notes="more"),
                                   base_rev=high["rev"])])
    assert echo["status"] == "applied" and len(alerts()) == 1
    new_visit = new_id()
    device.push([mutation("visit", new_visit, visit_fields(person.uuid, concern="high"))])
    assert [str(a.subject_uuid) for a in alerts("concern")] == [visit_id, new_visit]


def test_a_visit_envelope_that_does_not_load_still_alerts_when_it_carries_a_concern(device, worker, coordinator):
    person = person_on_caseload(worker)
    visit_id = new_id()
    bad = mutation("visit", visit_id, visit_fields(person.uuid, concern="high"), base_rev="yesterday")
    [result] = device.push([bad])
    assert result["status"] == "rejected" and "base_rev" in result["errors"]
    [alert] = alerts("concern_rejected")
    assert (str(alert.subject_uuid), alert.person_id, alert.worker_id) == (visit_id, person.id, worker.id)
    device.push([{"entity": "visit", "record_id": "not-a-uuid", "fields": {"concern": "high"}}, {"entity": "visit"}])
    assert len(alerts()) == 1
