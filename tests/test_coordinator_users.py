"""Users and devices: coordinators manage their own team (admins everyone): create with a first password
or an invite link, change roles, deactivate (ends sessions, wipes devices), revoke a device. And the
audit page: filters, team scoping and the CSV export."""

from __future__ import annotations

import csv
import io
import re

from helpers import csrf_from_html
from test_coordinator_common import make_person, post, sign_in

from server import sync
from server.db import utcnow, write_transaction
from server.models import AuditEvent, Device, User, UserSession


def test_create_users_with_password_or_invite(app, client, coordinator, make_user):
    sign_in(client, coordinator)
    weak = post(client, "/coordinator/users/new", {"name": "Ann", "email": "ann@example.test",
                                                   "role": "peer_worker", "method": "password", "password": "short",
                                                   "password_again": "short"})
    assert weak.status_code == 400 and "at least 10" in weak.get_data(as_text=True)
    assert post(client, "/coordinator/users/new", {"name": "Ann", "email": "ann@example.test",
                                                   "role": "admin", "method": "invite"}).status_code == 400
    assert post(client, "/coordinator/users/new", {"name": "Ann", "email": "not-an-email",
                                                   "role": "peer_worker", "method": "invite"}).status_code == 400
    response = post(client, "/coordinator/users/new", {"name": "Ann", "email": "Ann@Example.test",
                                                       "role": "peer_worker", "method": "password",
                                                       "password": "a long walk by the canal",
                                                       "password_again": "a long walk by the canal"})
    assert response.status_code == 302
    ann = User.get(User.email == "ann@example.test")
    assert ann.team_id == coordinator.team_id and ann.role == "peer_worker" and ann.active
    assert sign_in(app.test_client(), ann, "a long walk by the canal")
    duplicate = post(client, "/coordinator/users/new", {"name": "Ann 2", "email": "ann@example.test",
                                                        "role": "peer_worker", "method": "invite"})
    assert duplicate.status_code == 400

    # Only admins add coordinators (security finding 11): a coordinator is offered peer workers only.
    refused = post(client, "/coordinator/users/new", {"name": "Ben", "email": "ben@example.test",
                                                      "role": "coordinator", "method": "invite"})
    assert refused.status_code == 400 and "ask an admin" in refused.get_data(as_text=True)
    admin_client = sign_in(app.test_client(), make_user("admin", name="Admin"))
    response = post(admin_client, "/coordinator/users/new", {"name": "Ben", "email": "ben@example.test",
                                                             "role": "coordinator", "method": "invite",
                                                             "team": str(coordinator.team.uuid)})
    assert response.status_code == 200
    link = re.search(r'value="(http://localhost/coordinator/invite/[^"]+)"', response.get_data(as_text=True)).group(1)
    path = link.replace("http://localhost", "")
    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and "Welcome, Ben" in page.get_data(as_text=True)
    token = csrf_from_html(page.get_data(as_text=True))
    mismatch = newcomer.post(path, data={"csrf_token": token, "password": "river stones and moss",
                                         "password_again": "something else entirely"})
    assert mismatch.status_code == 400
    assert newcomer.post(path, data={"password": "river stones and moss",
                                     "password_again": "river stones and moss"}).status_code == 403  # CSRF
    done = newcomer.post(path, data={"csrf_token": token, "password": "river stones and moss",
                                     "password_again": "river stones and moss"})
    assert done.status_code == 200 and "Your password is set" in done.get_data(as_text=True)
    ben = User.get(User.email == "ben@example.test")
    assert ben.role == "coordinator" and ben.team_id == coordinator.team_id
    assert sign_in(app.test_client(), ben, "river stones and moss")
    assert app.test_client().get(path).status_code == 404  # used once, never again
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.record_id.in_([str(ann.uuid), str(ben.uuid)]))]
    assert actions.count("user.create") == 2 and "user.accept_invite" in actions


def test_deactivate_role_and_device_revoke(app, client, coordinator, worker, make_user, other_team):
    sign_in(client, coordinator)
    phone_client = app.test_client()
    sign_in(phone_client, worker)
    phone = sync.register_device(worker, "Work phone")
    spare = sync.register_device(worker, "Spare phone")
    sync.pull_changes(worker, phone, 0, 100)

    page = client.get(f"/coordinator/users/{worker.uuid}").get_data(as_text=True)
    assert "Work phone" in page and "Spare phone" in page
    assert "Never" not in page.split("Work phone", 1)[1].split("</tr>", 1)[0]  # shows the last sync time

    # Revoking wipes the phone with anything not yet synced: a confirmation step first, and a bare POST (a stray
    # click on an old one-click form) changes nothing.
    confirm = client.get(f"/coordinator/devices/{spare.uuid}/revoke")
    assert confirm.status_code == 200 and "not yet synced" in confirm.get_data(as_text=True)
    assert Device.get_by_id(spare.id).revoked_at is None  # looking changes nothing
    bare = post(client, f"/coordinator/devices/{spare.uuid}/revoke")
    assert bare.status_code == 400 and "Nothing has changed yet" in bare.get_data(as_text=True)
    assert Device.get_by_id(spare.id).revoked_at is None
    assert post(client, f"/coordinator/devices/{spare.uuid}/revoke", {"confirm": "yes"}).status_code == 302
    assert client.get(f"/coordinator/devices/{spare.uuid}/revoke").status_code == 302  # already revoked
    spare = Device.get_by_id(spare.id)
    assert spare.revoked_at is not None and spare.revoked_by_id == coordinator.id
    try:
        sync.device_for(worker, spare.uuid)
        raise AssertionError("a revoked device must be refused")
    except sync.SyncError as exc:
        assert "device_revoked" in repr(exc.__dict__) or "device_revoked" in str(exc)

    # A coordinator cannot make a coordinator or an admin (only admins manage coordinators).
    assert post(client, f"/coordinator/users/{worker.uuid}/role", {"role": "coordinator"}).status_code == 400
    assert post(client, f"/coordinator/users/{worker.uuid}/role", {"role": "admin"}).status_code == 400
    assert User.get_by_id(worker.id).role == "peer_worker"
    assert post(client, f"/coordinator/users/{worker.uuid}/role", {"role": "peer_worker"}).status_code == 302

    assert post(client, f"/coordinator/users/{coordinator.uuid}/deactivate",
                {"confirm": "yes"}).status_code == 400  # not yourself
    # Deactivating needs the confirmation step's explicit yes (issue 15): a bare POST changes nothing.
    assert post(client, f"/coordinator/users/{worker.uuid}/deactivate").status_code == 400
    assert post(client, f"/coordinator/users/{worker.uuid}/deactivate", {"confirm": "maybe"}).status_code == 400
    assert User.get_by_id(worker.id).active
    assert post(client, f"/coordinator/users/{worker.uuid}/deactivate", {"confirm": "yes"}).status_code == 302
    worker = User.get_by_id(worker.id)
    assert not worker.active
    assert not UserSession.select().where((UserSession.user == worker) & UserSession.revoked_at.is_null()).exists()
    assert Device.get_by_id(phone.id).revoked_at is not None
    assert phone_client.get("/api/v1/auth/me").status_code == 401
    post(client, f"/coordinator/users/{worker.uuid}/reactivate")
    assert User.get_by_id(worker.id).active

    admin = make_user("admin", team=coordinator.team, name="Admin In Team")
    assert post(client, f"/coordinator/users/{admin.uuid}/deactivate", {"confirm": "yes"}).status_code == 403
    assert client.get(f"/coordinator/users/{admin.uuid}/deactivate").status_code == 403
    outsider = make_user("peer_worker", team=other_team, name="Outsider")
    assert client.get(f"/coordinator/users/{outsider.uuid}").status_code == 404
    assert "Outsider" not in client.get("/coordinator/users?show=all").get_data(as_text=True)

    actions = {e.action for e in AuditEvent.select().where(AuditEvent.actor == coordinator.id)}
    assert {"device.revoke", "user.role", "user.deactivate", "user.reactivate"} <= actions


def test_audit_page_filters_scoping_and_export(client, coordinator, worker, make_user, other_team):
    person = make_person(coordinator.team, worker, name="Robin")
    other_coordinator = make_user("coordinator", team=other_team, name="Other Coordinator")
    other_person = make_person(other_team, None, name="Stranger")
    AuditEvent.record(other_coordinator, "person.view", "person", other_person.uuid, team=other_team)
    sign_in(client, coordinator)
    client.get(f"/coordinator/people/{person.uuid}")
    client.get(f"/coordinator/people/{person.uuid}")
    post(client, f"/coordinator/people/{person.uuid}/status", {"status": "paused"})

    page = client.get("/coordinator/audit").get_data(as_text=True)
    assert page.count("<td>person.view</td>") == 2 and "<td>person.pause</td>" in page
    assert str(other_person.uuid) not in page and "Other Coordinator" not in page
    filtered = client.get("/coordinator/audit?action=person.pause").get_data(as_text=True)
    assert "<td>person.pause</td>" in filtered and "<td>person.view</td>" not in filtered
    by_record = client.get(f"/coordinator/audit?entity=person&record_id={person.uuid}").get_data(as_text=True)
    assert by_record.count(str(person.uuid)) >= 3
    assert client.get(f"/coordinator/audit?actor={other_coordinator.uuid}").status_code == 400

    rows = list(csv.DictReader(io.StringIO(client.get("/coordinator/audit.csv?action=person.").get_data(as_text=True))))
    events = (AuditEvent.select().where((AuditEvent.team == coordinator.team_id)
                                        & AuditEvent.action.startswith("person.")).order_by(AuditEvent.at))
    assert [(r["action"], r["record_id"], r["actor_name"]) for r in rows] == \
        [(e.action, e.record_id, e.actor.name) for e in events]
    assert all(r["record_id"] != str(other_person.uuid) for r in rows)
    for event in AuditEvent.select():
        assert "Robin" not in event.detail


def test_admin_adds_a_team_and_a_coordinator_cannot(client, coordinator, make_user):
    from server.models import Team

    sign_in(client, coordinator)
    assert post(client, "/coordinator/teams/new", {"name": "Southside"}).status_code == 403
    admin = make_user("admin", team=None, name="Admin")
    client.post("/logout", data={"csrf_token": csrf_from_html(client.get("/coordinator/").get_data(as_text=True))})
    sign_in(client, admin)
    assert post(client, "/coordinator/teams/new", {"name": "Southside"}).status_code == 302
    assert Team.get_or_none(Team.name == "Southside") is not None
    assert post(client, "/coordinator/teams/new", {"name": "southside"}).status_code == 400
    assert post(client, "/coordinator/teams/new", {"name": ""}).status_code == 400
    assert "Southside" in client.get("/coordinator/users").get_data(as_text=True)


def test_deactivating_is_a_confirmed_step(client, coordinator, worker, make_user):
    """The user page only links to a confirmation page (GET changes nothing); the confirmation's POST needs
    its CSRF token and `confirm=yes`; anything else shows the confirmation again (400), never a 500."""
    sign_in(client, coordinator)
    with write_transaction():
        Device.create(user=worker, name="Work phone", last_sync_at=utcnow())
    page = client.get(f"/coordinator/users/{worker.uuid}").get_data(as_text=True)
    assert f'/coordinator/users/{worker.uuid}/deactivate"' in page
    assert 'action="/coordinator/users/' + str(worker.uuid) + '/deactivate"' not in page  # no one-click form
    confirm = client.get(f"/coordinator/users/{worker.uuid}/deactivate")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Work phone" in html and "not yet synced is lost" in html
    assert User.get_by_id(worker.id).active
    assert client.get(f"/coordinator/users/{coordinator.uuid}/deactivate").status_code == 400  # not yourself
    no_token = post(client, f"/coordinator/users/{worker.uuid}/deactivate", {"confirm": "yes"}, with_token=False)
    assert no_token.status_code in (400, 403) and User.get_by_id(worker.id).active
    for odd in ({}, {"confirm": ""}, {"confirm": "YES"}, {"confirm": ["no", "yes"]}, {"confirm": "y" * 5000}):
        response = post(client, f"/coordinator/users/{worker.uuid}/deactivate", odd)
        assert response.status_code == 400, odd
        assert "Nothing has changed yet" in response.get_data(as_text=True)
    assert User.get_by_id(worker.id).active
    assert post(client, f"/coordinator/users/{worker.uuid}/deactivate", {"confirm": "yes"}).status_code == 302
    assert not User.get_by_id(worker.id).active
    # Already deactivated: both steps lead back to their page, nothing else happens.
    assert client.get(f"/coordinator/users/{worker.uuid}/deactivate").status_code == 302
    assert post(client, f"/coordinator/users/{worker.uuid}/deactivate", {"confirm": "yes"}).status_code == 302
    assert AuditEvent.select().where(AuditEvent.action == "user.deactivate").count() == 1
    assert client.get("/coordinator/users/not-a-uuid/deactivate").status_code == 404


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
