"""Security finding 3: every read of a person's record by anyone but their assigned worker is audited (a
coordinator's sync pull, the concern list, the person edit form, the review queue for one person, the reminders
API); so are sign-ins, failed sign-ins, sign-outs and device registrations. Never a name, a note or an email in
an event. The audit page shows the workers' own synced changes too."""

from __future__ import annotations

import csv
import io

from helpers import api_login
from sync_support import HttpDevice, mutation, new_id, visit_fields
from test_coordinator_common import make_person, make_visit, sign_in

from server.models import AuditEvent

SECRET_WORDS = ("Robin Private", "slept badly", "worried about money")


def events(action: str):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def assert_no_health_text():
    for e in AuditEvent.select():
        text = f"{e.action} {e.entity} {e.record_id} {e.detail}"
        assert not any(word in text for word in SECRET_WORDS), text
        assert "@" not in text, text  # no email addresses either


def test_a_coordinators_pull_is_audited_with_counts(app, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Robin Private")
    make_visit(person, worker, notes="slept badly", concern="low", concern_notes="worried about money")
    phone = HttpDevice(app.test_client(), coordinator)
    phone.pull_all()
    [pull] = events("sync.pull")
    assert pull.actor_id == coordinator.id and pull.record_id == phone.device_id and pull.team_id == coordinator.team_id
    assert pull.detail.startswith("people 1 (1 not on own caseload); ") and "person 1" in pull.detail
    assert "visit 1" in pull.detail
    assert_no_health_text()


def test_a_worker_pulling_their_own_caseload_is_not_an_event(app, worker, coordinator):
    person = make_person(coordinator.team, worker, name="Robin Private")
    make_visit(person, worker, notes="slept badly")
    HttpDevice(app.test_client(), worker).pull_all()
    assert events("sync.pull") == []
    assert len(events("device.register")) == 1


def test_coordinator_pages_that_show_records_are_audited(client, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Robin Private")
    make_visit(person, worker, concern="high", concern_notes="worried about money")
    sign_in(client, coordinator)
    assert client.get("/coordinator/concerns?show=all").status_code == 200
    assert client.get("/coordinator/concerns").status_code == 200
    assert [e.detail for e in events("concern.list")] == ["all, page 1, 1 visits", "open, page 1, 1 visits"]
    assert client.get(f"/coordinator/people/{person.uuid}/edit").status_code == 200
    [edit] = events("person.view")
    assert edit.record_id == str(person.uuid) and edit.detail == "edit form"
    assert client.get(f"/coordinator/review?person={person.uuid}").status_code == 200
    [queue] = events("visit.list")
    assert queue.entity == "person" and queue.record_id == str(person.uuid)
    assert client.get("/coordinator/people?q=Robin").status_code == 200
    [listed] = events("person.list")
    assert listed.detail == "page 1, 1 people"
    assert_no_health_text()


def test_reminders_api_read_is_audited_for_all_but_the_assigned_worker(app, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Robin Private")
    own, other = app.test_client(), app.test_client()
    api_login(own, worker)
    api_login(other, coordinator)
    assert own.get(f"/api/v1/invites/people/{person.uuid}").status_code == 200
    assert events("person.reminders.view") == []
    assert other.get(f"/api/v1/invites/people/{person.uuid}").status_code == 200
    [read] = events("person.reminders.view")
    assert read.actor_id == coordinator.id and read.record_id == str(person.uuid)


def test_sign_ins_failures_and_sign_outs_are_audited(client, worker):
    client.post("/api/v1/auth/login", json={"email": worker.email, "password": "wrong-password-here"})
    client.post("/api/v1/auth/login", json={"email": "nobody@example.test", "password": "wrong-password-here"})
    csrf = api_login(client, worker)
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    known, unknown = events("auth.login_failed")
    assert known.actor_id is None and known.record_id == str(worker.uuid) and known.team_id == worker.team_id
    assert unknown.record_id == "" and unknown.team_id is None and unknown.detail == "app, password"
    [login] = events("auth.login")
    assert login.actor_id == worker.id and login.detail == "app"
    [logout] = events("auth.logout")
    assert logout.actor_id == worker.id
    assert_no_health_text()


def test_audit_page_shows_the_workers_synced_changes(app, client, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Robin Private")
    phone = HttpDevice(app.test_client(), worker)
    vid = new_id()
    phone.push([mutation("visit", vid, visit_fields(person.uuid, notes="slept badly"))])
    phone.push([mutation("visit", new_id(), visit_fields(new_id()))])  # rejected: changed nothing, not shown
    sign_in(client, coordinator)
    page = client.get("/coordinator/audit").get_data(as_text=True)
    assert "<td>visit.sync</td>" in page and vid in page and "slept badly" not in page
    assert page.count("<td>visit.sync</td>") == 1
    by_record = client.get(f"/coordinator/audit?record_id={vid}").get_data(as_text=True)
    assert "<td>visit.sync</td>" in by_record
    only_views = client.get("/coordinator/audit?action=person.").get_data(as_text=True)
    assert "<td>visit.sync</td>" not in only_views
    rows = list(csv.DictReader(io.StringIO(client.get("/coordinator/audit.csv").get_data(as_text=True))))
    synced = [r for r in rows if r["action"] == "visit.sync"]
    assert len(synced) == 1 and synced[0]["record_id"] == vid and synced[0]["actor_name"] == worker.name
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)  # one stream in time order
    assert any(r["action"] == "auth.login" for r in rows)


def test_synced_changes_stay_in_their_team(app, client, coordinator, make_user, other_team):
    outsider = make_user("peer_worker", team=other_team)
    person = make_person(other_team, outsider)
    HttpDevice(app.test_client(), outsider).push([mutation("visit", new_id(), visit_fields(person.uuid))])
    sign_in(client, coordinator)
    assert "<td>visit.sync</td>" not in client.get("/coordinator/audit").get_data(as_text=True)
