"""Sessions and field devices (security findings 1, 2 and 15): revoking a device ends every sign-in that
registered or used it, and such a sign-in cannot register another device; coordinators' time-outs follow the
role, however they signed in; signing in again on a phone ends its earlier session, and signing out retires the
device. A phone whose session has gone still learns that its device was revoked, so it wipes itself."""

from __future__ import annotations

import datetime as dt

from helpers import api_login
from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields
from test_coordinator_common import post, sign_in

from server.db import utcnow, write_transaction
from server.models import AuditEvent, Device, SessionDevice, UserSession


def live_sessions(user) -> int:
    return UserSession.select().where((UserSession.user == user.id) & UserSession.revoked_at.is_null()).count()


def test_revoking_a_device_ends_the_session_that_used_it(app, client, worker, coordinator):
    phone = HttpDevice(client, worker)
    person_on_caseload(worker)
    assert phone.pull_page().status_code == 200
    laptop = app.test_client()
    api_login(laptop, worker)  # another sign-in that never used the phone: it stays
    coordinator_client = sign_in(app.test_client(), coordinator)
    revoked = post(coordinator_client, f"/coordinator/devices/{phone.device_id}/revoke", {"confirm": "yes"})
    assert revoked.status_code == 302
    assert "sessions 1" in AuditEvent.get(AuditEvent.action == "device.revoke").detail

    # the finding: the same cookie could register a new device, pull everything, fetch a key, and ask who it is
    again = client.post("/api/v1/devices", json={"name": "new"}, headers={"X-CSRF-Token": phone.csrf})
    assert again.status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
    assert phone.pull_page().get_json()["code"] == "device_revoked"  # and still told to wipe
    key = client.get(f"/api/v1/devices/{phone.device_id}/key")
    assert key.status_code == 403 and key.get_json()["code"] == "device_revoked"
    assert Device.select().where(Device.user == worker.id).count() == 1
    assert laptop.get("/api/v1/auth/me").status_code == 200


def test_a_session_that_used_a_revoked_device_registers_nothing(client, worker):
    """However the device came to be revoked (here straight in the database), its sign-in cannot go on."""
    phone = HttpDevice(client, worker)
    Device.update(revoked_at=utcnow()).where(Device.uuid == phone.device_id).execute()
    response = client.post("/api/v1/devices", json={"name": "another"}, headers={"X-CSRF-Token": phone.csrf})
    assert response.status_code == 403 and response.get_json()["code"] == "device_revoked"
    assert live_sessions(worker) == 0
    assert client.get("/api/v1/auth/me").status_code == 401


def test_showing_a_revoked_device_ends_the_session(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    Device.update(revoked_at=utcnow()).where(Device.uuid == phone.device_id).execute()
    assert phone.push([mutation("visit", new_id(), visit_fields(person.uuid))], expect=403)["code"] == \
        "device_revoked"
    assert live_sessions(worker) == 0


def test_deactivated_users_phone_still_learns_to_wipe(client, worker):
    """Deactivation ends the sessions and revokes the devices: the phone's next contact has no session, and
    is still answered device_revoked (not 401, which would keep the data and ask for a sign-in)."""
    from server.auth import deactivate_user

    phone = HttpDevice(client, worker)
    with write_transaction():
        deactivate_user(worker)
    pulled = phone.pull_page()
    assert pulled.status_code == 403 and pulled.get_json()["code"] == "device_revoked"
    pushed = client.post("/api/v1/sync/push", json={"device_id": phone.device_id, "mutations": []},
                         headers={"X-CSRF-Token": phone.csrf})
    assert pushed.status_code == 403 and pushed.get_json()["code"] == "device_revoked"
    assert client.get("/api/v1/auth/me").status_code == 401  # no device named: simply signed out
    other = client.get("/api/v1/sync/pull", headers={"X-Device-Id": new_id()})
    assert other.status_code == 401  # an unknown id learns nothing


def _age(user, last_seen=dt.timedelta(0), created=dt.timedelta(0)):
    with write_transaction():
        for sess in UserSession.select().where(UserSession.user == user.id):
            sess.last_seen_at -= last_seen
            sess.created_at -= created
            sess.save()


def test_coordinator_app_sign_in_meets_the_idle_limit(client, coordinator):
    api_login(client, coordinator)
    assert client.get("/coordinator/").status_code == 200
    _age(coordinator, last_seen=dt.timedelta(minutes=31))
    assert client.get("/coordinator/").status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 401


def test_coordinator_app_sign_in_meets_the_absolute_limit(client, coordinator):
    api_login(client, coordinator)
    _age(coordinator, created=dt.timedelta(hours=12, minutes=1))
    assert client.get("/api/v1/auth/me").status_code == 401


def test_signing_in_again_on_a_phone_ends_its_earlier_session(app, worker):
    """After "Forgot your PIN" the phone signs in afresh and keeps its device: the old session ends."""
    first = app.test_client()
    phone = HttpDevice(first, worker)
    second = app.test_client()
    csrf = api_login(second, worker)
    assert live_sessions(worker) == 2
    key = second.get(f"/api/v1/devices/{phone.device_id}/key")  # the new sign-in uses the same device
    assert key.status_code in (200, 404)
    assert first.get("/api/v1/auth/me").status_code == 401
    assert live_sessions(worker) == 1
    # signing out now leaves nothing: no session, and the device is retired (the phone wiped itself)
    assert second.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert live_sessions(worker) == 0
    device = Device.get(Device.uuid == phone.device_id)
    assert device.revoked_at is not None and device.revoked_by_id == worker.id
    assert SessionDevice.select().count() == 2
    events = [e.action for e in AuditEvent.select().where(AuditEvent.actor == worker.id).order_by(AuditEvent.id)]
    assert events.count("auth.login") == 2 and events[-1] == "auth.logout" and "device.register" in events


def test_signing_out_elsewhere_retires_no_device(app, client, worker):
    phone = HttpDevice(app.test_client(), worker)
    csrf = api_login(client, worker)  # another sign-in (a laptop) signing out leaves the phone alone
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert Device.get(Device.uuid == phone.device_id).revoked_at is None
    assert phone.pull_page().status_code == 200


def test_the_web_sign_out_button_never_wipes_the_app_in_the_same_browser(client, worker):
    """The pages and the app share the browser's cookie: "Sign out" on a page ends the session (the app asks for
    a sign-in and keeps its unsynced work) but does not retire the app's device (which would wipe it)."""
    from helpers import csrf_from_html

    phone = HttpDevice(client, worker)
    token = csrf_from_html(client.get("/account/two-step").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert Device.get(Device.uuid == phone.device_id).revoked_at is None
    assert phone.pull_page().status_code == 401
