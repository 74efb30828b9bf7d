"""Security finding 4: a lone UTF-16 surrogate in JSON is refused with 400 invalid_text, naming where it is, at
every entry point, before anything is written (it used to be a 500 and, on sync push, a batch the phone re-sent
for ever). A surrogate *pair* (an emoji) is ordinary text and passes."""

from __future__ import annotations

import io
import json

from helpers import PASSWORD, api_login
from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields
from test_coordinator_common import post, sign_in

from server.json_input import text_problem
from server.models import Device, Resource, User, Visit

LONE = "\\ud800"  # as JSON spells it: backslash, u, d800
LOW = "\\udc00"
RAW = b"\xed\xa0\x80"  # the same surrogate as (invalid) UTF-8 bytes, which Python's JSON reader lets through


def send(client, method, url, text: str | bytes, **headers):
    body = text.encode() if isinstance(text, str) else text
    return client.open(url, method=method, data=body, content_type="application/json", headers=headers)


def assert_invalid_text(response, where: str):
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "invalid_text" and set(body) == {"code", "message", "errors"}
    assert list(body["errors"]) == [where]


def test_text_problem_names_the_path():
    assert text_problem({"a": [1, {"b": "ok", "c": "x\ud800"}]}) == "a.1.c"
    assert text_problem({"a": "😀 fine"}) is None
    assert text_problem("\udc00") == "_body"
    deep = current = []
    for _ in range(5000):  # no recursion: a deep document cannot exhaust the stack
        current.append([])
        current = current[0]
    assert text_problem(deep) is None


def test_sync_push_refuses_only_the_mutation_naming_the_field(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    good = mutation("visit", new_id(), visit_fields(person.uuid, notes="fine"))
    bad = mutation("visit", new_id(), visit_fields(person.uuid, notes="PLACEHOLDER"))
    text = json.dumps({"device_id": phone.device_id, "mutations": [bad, good]}).replace("PLACEHOLDER", "a" + LONE)
    response = send(client, "POST", "/api/v1/sync/push", text, **{"X-CSRF-Token": phone.csrf})
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["status"] == "rejected" and list(first["errors"]) == ["notes"]
    assert second["status"] == "applied"  # one broken character never holds back the rest of the outbox
    assert [v.notes for v in Visit.select()] == ["fine"]
    again = send(client, "POST", "/api/v1/sync/push", text, **{"X-CSRF-Token": phone.csrf}).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"] and again[0]["outcome"] == "rejected"
    # invalid UTF-8 bytes are not JSON at all (a browser cannot send them): the request is refused as such
    raw = json.dumps({"device_id": phone.device_id, "mutations": [
        mutation("visit", new_id(), visit_fields(person.uuid, notes="PLACEHOLDER"))]}).encode().replace(
        b"PLACEHOLDER", RAW)
    response = send(client, "POST", "/api/v1/sync/push", raw, **{"X-CSRF-Token": phone.csrf})
    assert response.status_code == 422 and response.get_json()["code"] == "validation_failed"
    assert Visit.select().count() == 1
    # outside the mutations (the device id) the whole request is refused as anywhere else
    text = json.dumps({"device_id": "PLACEHOLDER", "mutations": [good]}).replace("PLACEHOLDER", LONE)
    assert_invalid_text(send(client, "POST", "/api/v1/sync/push", text, **{"X-CSRF-Token": phone.csrf}),
                        "device_id")
    # an emoji (a surrogate pair) is ordinary text
    emoji = mutation("visit", new_id(), visit_fields(person.uuid, notes="\\ud83d\\ude00 good day"))
    text = json.dumps({"device_id": phone.device_id, "mutations": [emoji]}).replace("\\\\", "\\")
    results = send(client, "POST", "/api/v1/sync/push", text, **{"X-CSRF-Token": phone.csrf}).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"]
    assert Visit.get(Visit.uuid == emoji["record_id"]).notes == "😀 good day"


def test_device_create_and_rename(client, worker):
    csrf = api_login(client, worker)
    assert_invalid_text(send(client, "POST", "/api/v1/devices", '{"name": "Phone' + LONE + '"}',
                             **{"X-CSRF-Token": csrf}), "name")
    assert Device.select().count() == 0
    device_id = client.post("/api/v1/devices", json={"name": "Phone"}, headers={"X-CSRF-Token": csrf}).get_json()[
        "device_id"]
    assert_invalid_text(send(client, "PATCH", f"/api/v1/devices/{device_id}", '{"name": "' + LOW + '"}',
                             **{"X-CSRF-Token": csrf}), "name")
    assert Device.get(Device.uuid == device_id).name == "Phone"


def test_api_login_email_and_password(client, worker):
    for body, where in ((f'{{"email": "a{LONE}@example.test", "password": "x"}}', "email"),
                        (f'{{"email": "{worker.email}", "password": "{LONE}"}}', "password"),
                        (f'{{"email{LONE}": "x", "password": "y"}}', "_body")):
        assert_invalid_text(send(client, "POST", "/api/v1/auth/login", body), where)
    assert client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD}).status_code == 200


def test_goal_reminder_text(client, worker):
    csrf = api_login(client, worker)
    person = person_on_caseload(worker)
    text = ('{"template": "custom", "text": "Walk' + LONE + '", "send_at": "2030-01-01T10:00:00+00:00"}')
    response = send(client, "POST", f"/api/v1/invites/people/{person.uuid}/goal-reminders", text,
                    **{"X-CSRF-Token": csrf})
    assert_invalid_text(response, "text")


def test_consent_label_on_the_persons_page(app, worker):
    import re

    from test_invites import fake_subscription

    from server.db import write_transaction
    from server.reminders.consent import CONSENT_TEXT_VERSION, create_invite

    person = person_on_caseload(worker)
    with write_transaction():
        token, _ = create_invite(person, worker)
    phone = app.test_client()
    page = phone.get(f"/r/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    body = json.dumps({"subscription": fake_subscription(), "text_version": CONSENT_TEXT_VERSION,
                       "label": "PLACEHOLDER"}).replace("PLACEHOLDER", LONE)
    assert_invalid_text(send(phone, "POST", f"/r/{token}/consent", body, **{"X-CSRF-Token": csrf}), "label")
    assert phone.get(f"/r/{token}").status_code == 200  # the link was not used up


def test_hsds_json_import(client, coordinator):
    sign_in(client, coordinator)
    text = '{"contents": [{"name": "Food bank' + LONE + '"}]}'
    response = post(client, "/coordinator/resources/import", {"file": (io.BytesIO(text.encode()), "dir.json"),
                                                              "format": ""}, content_type="multipart/form-data")
    assert response.status_code in (400, 422)
    assert "cannot be stored" in response.get_data(as_text=True) and "contents.0.name" in response.get_data(
        as_text=True)
    assert Resource.select().count() == 0


def test_no_user_was_harmed(client, worker):
    """The refusal happens before any view: a bad sign-in body neither counts as a failure nor signs anyone in."""
    for _ in range(8):
        send(client, "POST", "/api/v1/auth/login", f'{{"email": "{worker.email}", "password": "{LONE}"}}')
    assert client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD}).status_code == 200
    assert User.get_by_id(worker.id).active
