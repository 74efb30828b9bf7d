"""A device's wrap key (SECURITY.md, phone encryption): only to the device's own signed-in user, never once
the device is revoked; made once, then always the same; CSRF on the write."""

from __future__ import annotations

import base64

from helpers import api_login, end_sessions
from sync_support import HttpDevice

from server.db import utcnow, write_transaction
from server.models import Device


def _key_url(device_id):
    return f"/api/v1/devices/{device_id}/key"


def test_key_is_made_once_and_then_read(client, worker):
    phone = HttpDevice(client, worker)
    assert client.get(_key_url(phone.device_id)).status_code == 404
    made = client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": phone.csrf})
    assert made.status_code == 200
    key = made.get_json()["key"]
    assert len(base64.b64decode(key)) == 32
    assert Device.get(Device.uuid == phone.device_id).wrap_key == key
    again = client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": phone.csrf})
    assert again.get_json()["key"] == key
    read = client.get(_key_url(phone.device_id))
    assert read.status_code == 200 and read.get_json()["key"] == key
    assert "no-store" in read.headers.get("Cache-Control", "")


def test_each_device_has_its_own_key(client, worker):
    a, b = HttpDevice(client, worker, "a"), HttpDevice(client, worker, "b")
    ka = client.post(_key_url(a.device_id), headers={"X-CSRF-Token": b.csrf}).get_json()["key"]
    kb = client.post(_key_url(b.device_id), headers={"X-CSRF-Token": b.csrf}).get_json()["key"]
    assert ka != kb


def test_post_needs_csrf(client, worker):
    phone = HttpDevice(client, worker)
    response = client.post(_key_url(phone.device_id))
    assert response.status_code == 403 and response.get_json()["code"] == "csrf_failed"
    assert Device.get(Device.uuid == phone.device_id).wrap_key is None


def test_not_signed_in_gets_nothing(client, worker):
    phone = HttpDevice(client, worker)
    client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": phone.csrf})
    end_sessions(worker)
    assert client.get(_key_url(phone.device_id)).status_code == 401


def test_another_users_device_is_unknown(app, client, worker, make_user, team):
    phone = HttpDevice(client, worker)
    client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": phone.csrf})
    other = make_user("peer_worker", team=team)
    other_client = app.test_client()
    token = api_login(other_client, other)
    for response in (other_client.get(_key_url(phone.device_id)),
                     other_client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": token})):
        assert response.status_code == 403 and response.get_json()["code"] == "unknown_device"
        assert "key" not in response.get_json()
    bad = other_client.get(_key_url("not-a-uuid"))
    assert bad.status_code == 403 and bad.get_json()["code"] == "unknown_device"


def test_revoked_device_gets_no_key(client, worker):
    phone = HttpDevice(client, worker)
    client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": phone.csrf})
    with write_transaction():
        Device.update(revoked_at=utcnow()).where(Device.uuid == phone.device_id).execute()
    for response in (client.get(_key_url(phone.device_id)),
                     client.post(_key_url(phone.device_id), headers={"X-CSRF-Token": phone.csrf})):
        assert response.status_code == 403 and response.get_json()["code"] == "device_revoked"
        assert "key" not in response.get_json()
