"""The invites API: a worker invites a person on their own caseload (single-use, 72 hours, link + QR);
expired, used and unknown links get the same calm page; not on the caseload is refused (404); CSRF;
consent state, goal-step reminders and settings."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.db import utcnow, write_transaction
from server.models import AuditEvent, Invite, Person, PushSubscription, Reminder, Visit
from server.reminders.consent import CONSENT_TEXT_VERSION


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fake_subscription(n: int = 0) -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": f"http://127.0.0.1:9/push/{os.urandom(6).hex()}{n}",
            "keys": {"p256dh": b64url(key), "auth": b64url(os.urandom(16))}}


@pytest.fixture
def person(app, team, worker):
    with write_transaction():
        p = Person.create(team=team, display_name="Jordan Example")
        p.assign_to(worker)
    return p


@pytest.fixture
def csrf(client, worker, login):
    return login(client, worker)


def invite(client, csrf, person):
    return client.post("/api/v1/invites", json={"person_id": str(person.uuid)}, headers={"X-CSRF-Token": csrf})


def token_of(url: str) -> str:
    return url.rsplit("/r/", 1)[1]


def consent(app, token, sub=None):
    """The person's phone: open the link, then turn reminders on (CSRF from the page's meta tag)."""
    phone = app.test_client()
    page = phone.get(f"/r/{token}")
    if page.status_code != 200:
        return phone, page
    meta = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = phone.post(f"/r/{token}/consent", headers={"X-CSRF-Token": meta},
                          json={"subscription": sub or fake_subscription(), "text_version": CONSENT_TEXT_VERSION,
                                "label": "Android phone"})
    return phone, response


def test_worker_invites_a_person_on_their_caseload(app, client, csrf, person):
    response = invite(client, csrf, person)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert re.fullmatch(r"http://localhost/r/[A-Za-z0-9_-]{40,}", body["url"])
    assert body["qr_svg"].startswith("<svg")
    expires = dt.datetime.fromisoformat(body["expires_at"]).replace(tzinfo=None)
    assert abs(expires - (utcnow() + dt.timedelta(hours=72))) < dt.timedelta(minutes=1)
    row = Invite.get()
    assert token_of(body["url"]) not in row.token_hash  # only the hash is stored
    assert AuditEvent.select().where(AuditEvent.action == "reminders.invite").count() == 1
    assert response.headers["Cache-Control"] == "no-store"


def test_not_on_caseload_is_refused_like_unknown(app, client, csrf, team, other_team, make_user):
    other_worker = make_user("peer_worker", team=team)
    with write_transaction():
        someone_elses = Person.create(team=team, display_name="Other")
        someone_elses.assign_to(other_worker)
        other_team_person = Person.create(team=other_team, display_name="Far")
    for target in (someone_elses.uuid, other_team_person.uuid, "7d0f1b7e-4a70-4d1f-9a55-4cc5ef0c1d11"):
        response = client.post("/api/v1/invites", json={"person_id": str(target)}, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 404
        assert response.get_json()["code"] == "not_found"
        assert client.get(f"/api/v1/invites/people/{target}").status_code == 404
    assert Invite.select().count() == 0


def test_ended_assignment_is_refused(app, client, csrf, person, worker):
    with write_transaction():
        person.unassign(worker)
    assert invite(client, csrf, person).status_code == 404


def test_csrf_and_sign_in_are_required(app, client, csrf, person):
    response = client.post("/api/v1/invites", json={"person_id": str(person.uuid)})
    assert response.status_code == 403
    assert response.get_json()["code"] == "csrf_failed"
    anonymous = app.test_client()
    assert anonymous.post("/api/v1/invites", json={"person_id": str(person.uuid)}).status_code == 401
    assert anonymous.get(f"/api/v1/invites/people/{person.uuid}").status_code == 401
    assert Invite.select().count() == 0


def test_bad_body_is_a_422_not_a_500(client, csrf):
    response = client.post("/api/v1/invites", json={"person_id": "nope"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    assert "person_id" in response.get_json()["errors"]


def test_invite_is_single_use(app, client, csrf, person):
    token = token_of(invite(client, csrf, person).get_json()["url"])
    _, first = consent(app, token)
    assert first.status_code == 200, first.get_data(as_text=True)
    phone2, second_page = consent(app, token)
    assert second_page.status_code == 404
    assert "This link cannot be used" in second_page.get_data(as_text=True)
    assert PushSubscription.select().count() == 1


def test_expired_used_and_unknown_links_look_the_same(app, client, csrf, person):
    expired = token_of(invite(client, csrf, person).get_json()["url"])
    used = token_of(invite(client, csrf, person).get_json()["url"])
    first = Invite.select().order_by(Invite.id).first()
    Invite.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(Invite.id == first.id).execute()
    consent(app, used)
    pages = []
    for token in (expired, used, "unknown-token-" + "x" * 30, "x" * 500):
        response = app.test_client().get(f"/r/{token}")
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        html = re.sub(r'name="csrf-token" content="[^"]+"', "", html)
        pages.append(html)
        assert "Jordan" not in html
    assert len(set(pages)) == 1


def test_expired_invite_cannot_be_consented_to(app, client, csrf, person):
    token = token_of(invite(client, csrf, person).get_json()["url"])
    phone = app.test_client()
    page = phone.get(f"/r/{token}")
    meta = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    Invite.update(expires_at=utcnow() - dt.timedelta(seconds=1)).execute()
    response = phone.post(f"/r/{token}/consent", headers={"X-CSRF-Token": meta},
                          json={"subscription": fake_subscription(), "text_version": CONSENT_TEXT_VERSION})
    assert response.status_code == 404
    assert response.get_json()["code"] == "link_unavailable"
    assert PushSubscription.select().count() == 0


def test_status_shows_consent_and_devices(app, client, csrf, person, worker, coordinator, make_user, other_team):
    status = client.get(f"/api/v1/invites/people/{person.uuid}").get_json()
    assert status["reminders_on"] is False and status["devices"] == 0 and status["consent_given_at"] is None
    token = token_of(invite(client, csrf, person).get_json()["url"])
    with write_transaction():
        Visit.create(person=person, author=worker, started_at=utcnow(),
                     next_visit_at=(utcnow() + dt.timedelta(days=3)).replace(hour=12, minute=0))
    consent(app, token)
    status = client.get(f"/api/v1/invites/people/{person.uuid}").get_json()
    assert status["reminders_on"] is True and status["devices"] == 1
    assert status["consent_text_version"] == CONSENT_TEXT_VERSION
    assert {r["kind"] for r in status["upcoming"]} == {"visit_evening", "visit_soon"}
    # the coordinator of the team sees it too; another team's does not
    boss = app.test_client()
    from helpers import api_login

    api_login(boss, coordinator)
    assert boss.get(f"/api/v1/invites/people/{person.uuid}").get_json()["devices"] == 1
    stranger = app.test_client()
    api_login(stranger, make_user("coordinator", team=other_team))
    assert stranger.get(f"/api/v1/invites/people/{person.uuid}").status_code == 404


def test_goal_reminders(app, client, csrf, person):
    url = f"/api/v1/invites/people/{person.uuid}/goal-reminders"
    send_at = (utcnow() + dt.timedelta(days=2)).replace(hour=11, minute=0, microsecond=0).isoformat() + "+00:00"
    refused = client.post(url, json={"template": "step", "send_at": send_at}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 422 and "person_id" in refused.get_json()["errors"]
    Person.update(reminders_opt_in=True).where(Person.id == person.id).execute()
    ok = client.post(url, json={"template": "custom", "text": "Walk to the park", "send_at": send_at},
                     headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["body"] == "Reminder: Walk to the park"
    health = client.post(url, json={"template": "custom", "text": "Take your medication", "send_at": send_at},
                         headers={"X-CSRF-Token": csrf})
    assert health.status_code == 422
    assert "text" in health.get_json()["errors"] and "health" in health.get_json()["message"]
    too_long = client.post(url, json={"template": "custom", "text": "x" * 61, "send_at": send_at},
                           headers={"X-CSRF-Token": csrf})
    assert too_long.status_code == 422
    templates = client.get("/api/v1/invites/goal-templates").get_json()
    assert templates["custom_text_max"] == 60 and "health" in templates["warning"]
    reminder_id = ok.get_json()["id"]
    assert client.delete(f"{url}/{reminder_id}", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert Reminder.get().status == "cancelled"
    assert client.delete(f"{url}/{reminder_id}", headers={"X-CSRF-Token": csrf}).status_code == 404


def test_settings(app, client, csrf, person, coordinator, make_user):
    url = f"/api/v1/invites/people/{person.uuid}/settings"
    response = client.put(url, json={"hours_before": 3, "quiet_hours_start": "22:00", "quiet_hours_end": "07:30"},
                          headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hours_before"] == 3 and response.get_json()["quiet_hours_end"] == "07:30"
    assert client.put(url, json={"evening_time": "25:00"}, headers={"X-CSRF-Token": csrf}).status_code == 422
    assert client.put(url, json={"quiet_hours_start": "22:00"}, headers={"X-CSRF-Token": csrf}).status_code == 422
    org = "/api/v1/invites/organisation-settings"
    assert client.put(org, json={"hours_before": 1}, headers={"X-CSRF-Token": csrf}).status_code == 403
    boss = app.test_client()
    from helpers import api_login

    token = api_login(boss, coordinator)  # a team coordinator may not change organisation-wide settings
    assert boss.put(org, json={"evening_time": "17:30"}, headers={"X-CSRF-Token": token}).status_code == 403
    admin = app.test_client()
    token = api_login(admin, make_user("admin"))
    assert admin.put(org, json={"evening_time": "17:30"}, headers={"X-CSRF-Token": token}).status_code == 200
    assert client.get(url).get_json()["evening_time"] == "17:30"


def test_worker_can_stop_reminders_for_the_person(app, client, csrf, person):
    token = token_of(invite(client, csrf, person).get_json()["url"])
    consent(app, token)
    response = client.delete(f"/api/v1/invites/people/{person.uuid}", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert response.get_json()["reminders_on"] is False and response.get_json()["devices"] == 0
    assert PushSubscription.select().count() == 0


def test_vapid_public_key_is_served(app, client, csrf):
    key = client.get("/api/v1/invites/vapid-public-key").get_json()["public_key"]
    assert key == app.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"]
    assert app.test_client().get("/r/vapid-public-key").get_json()["public_key"] == key


def test_invites_api_conforms_to_its_openapi_document(app, worker, person):
    """schemathesis, bounded and deterministic: no 500s, every answer documented and in its schema."""
    import schemathesis
    from helpers import api_login
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    Person.update(reminders_opt_in=True).where(Person.id == person.id).execute()
    client = app.test_client()
    csrf = api_login(client, worker)
    cookies = {"alongside_session": client.get_cookie("alongside_session").value}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    mine = person.uuid

    def for_my_person(case):
        if case.path_parameters and "person_id" in case.path_parameters:
            case.path_parameters["person_id"] = str(mine)
        return case

    verbs = {"get", "put", "post", "delete", "patch"}
    operations = [(p, m) for p in schema.keys() if p.startswith("/api/v1/invites") for m in schema[p].keys()
                  if m.lower() in verbs]
    assert len(operations) >= 10
    for path, method in operations:
        operation = schema[path][method]
        strategies = [(operation.as_strategy(generation_mode=mode), mode) for mode in GenerationMode]
        if "{person_id}" in path:
            strategies.append((operation.as_strategy().map(for_my_person), GenerationMode.POSITIVE))
        for strategy, mode in strategies:
            @settings(max_examples=8, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                response = case.call(headers={"X-CSRF-Token": csrf}, cookies=cookies)
                case.validate_response(response, checks=checks)

            try:
                run()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # nothing to get wrong in a GET without input
