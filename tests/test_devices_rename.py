"""Renaming a device: the phone's own name for itself reaches the coordinators' device list. Only the
device's own signed-in user, never once revoked, CSRF on the write, a clear error on a bad name."""

from __future__ import annotations

from helpers import api_login, end_sessions
from sync_support import HttpDevice

from server.db import utcnow, write_transaction
from server.models import Device


def _rename(client, device_id, body, csrf):
    return client.patch(f"/api/v1/devices/{device_id}", json=body, headers={"X-CSRF-Token": csrf})


def test_a_device_renames_itself(client, worker):
    phone = HttpDevice(client, worker, "Phone")
    response = _rename(client, phone.device_id, {"name": "  Work phone  "}, phone.csrf)
    assert response.status_code == 200
    assert response.get_json() == {"device_id": phone.device_id, "name": "Work phone"}
    assert Device.get(Device.uuid == phone.device_id).name == "Work phone"


def test_a_bad_name_is_refused_and_the_old_one_kept(client, worker):
    phone = HttpDevice(client, worker, "Phone")
    for body, field in (({"name": "   "}, "name"), ({"name": "x" * 81}, "name"), ({}, "name"),
                        ({"name": 7}, "name"), ({"name": "ok", "extra": 1}, "extra"), ({"name": "a\x00b"}, "name")):
        response = _rename(client, phone.device_id, body, phone.csrf)
        assert response.status_code == 422, body
        assert response.get_json()["code"] == "validation_failed"
        assert field in response.get_json()["errors"], response.get_json()
    assert Device.get(Device.uuid == phone.device_id).name == "Phone"


def test_renaming_needs_csrf_and_a_session(client, worker):
    phone = HttpDevice(client, worker, "Phone")
    response = client.patch(f"/api/v1/devices/{phone.device_id}", json={"name": "Mine"})
    assert response.status_code == 403 and response.get_json()["code"] == "csrf_failed"
    end_sessions(worker)
    assert _rename(client, phone.device_id, {"name": "Mine"}, phone.csrf).status_code == 401
    assert Device.get(Device.uuid == phone.device_id).name == "Phone"


def test_someone_elses_or_an_unknown_device_cannot_be_renamed(app, client, worker, make_user, team):
    phone = HttpDevice(client, worker, "Phone")
    other_client = app.test_client()
    token = api_login(other_client, make_user("peer_worker", team=team))
    for device_id in (phone.device_id, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = _rename(other_client, device_id, {"name": "Stolen"}, token)
        assert response.status_code == 403 and response.get_json()["code"] == "unknown_device"
    assert Device.get(Device.uuid == phone.device_id).name == "Phone"


def test_a_revoked_device_cannot_be_renamed(client, worker):
    phone = HttpDevice(client, worker, "Phone")
    with write_transaction():
        Device.update(revoked_at=utcnow()).where(Device.uuid == phone.device_id).execute()
    response = _rename(client, phone.device_id, {"name": "Back"}, phone.csrf)
    assert response.status_code == 403 and response.get_json()["code"] == "device_revoked"
    assert Device.get(Device.uuid == phone.device_id).name == "Phone"
