"""The person's own pages (/r/...): the consent page in plain words, consent recorded (when, text version,
device), the device cookie (random, HttpOnly, hash stored), upcoming reminders, quiet hours, stop all.
No names and no health details; no inline script (strict CSP)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_invites import fake_subscription

from server.db import utcnow, write_transaction
from server.models import Consent, Person, PushSubscription, Reminder, ReminderDevice, Visit
from server.person_pages import DEVICE_COOKIE
from server.reminders.consent import CONSENT_TEXT_VERSION, create_invite, hash_token


@pytest.fixture
def person(app, team, worker):
    with write_transaction():
        p = Person.create(team=team, display_name="Morgan Testname")
        p.assign_to(worker)
        Visit.create(person=p, author=worker, started_at=utcnow(), notes="felt anxious this week",
                     next_visit_at=(utcnow() + dt.timedelta(days=3)).replace(hour=10, minute=0, microsecond=0))
    return p


@pytest.fixture
def token(person, worker):
    with write_transaction():
        value, _ = create_invite(person, worker)
    return value


def meta_csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def turn_on(phone, token, sub=None, version=CONSENT_TEXT_VERSION):
    page = phone.get(f"/r/{token}")
    return phone.post(f"/r/{token}/consent", headers={"X-CSRF-Token": meta_csrf(page.get_data(as_text=True))},
                      json={"subscription": sub or fake_subscription(), "text_version": version, "label": "iPhone"})


def assert_private(html: str):
    lowered = html.lower()
    for word in ("morgan", "testname", "anxious", "mental", "health", "therapy"):
        if word == "health":
            # "Anything about your health" is the promise on the consent page, not a detail
            lowered = lowered.replace("anything about your health", "")
        assert word not in lowered, word
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "style=" not in html


def test_consent_page_in_plain_words(app, token):
    response = app.test_client().get(f"/r/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for words in ("What we send", "What we never send", "How to stop", "Add to Home Screen", "Turn on reminders",
                  "quiet hours are from 21:00 to 08:00"):
        assert words in html
    assert_private(html)
    assert 'name="vapid-public-key" content="' + app.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"] in html
    assert f'href="/r/{token}/manifest.webmanifest"' in html
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'self' only
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_viewing_the_link_does_not_use_it(app, token):
    for _ in range(3):  # link previews in messaging apps fetch it too
        assert app.test_client().get(f"/r/{token}").status_code == 200


def test_turn_on_records_consent_and_sets_the_device_cookie(app, person, token):
    phone = app.test_client()
    sub = fake_subscription()
    rev_before = Person.get_by_id(person.id).rev
    response = turn_on(phone, token, sub)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"ok": True, "next": "/r/"}
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(DEVICE_COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/r/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 40
    device = ReminderDevice.get()
    assert device.token_hash == hash_token(value) and value not in device.token_hash
    assert device.label == "iPhone"
    consent = Consent.get()
    assert consent.text_version == CONSENT_TEXT_VERSION and consent.device_id == device.id
    assert abs(consent.given_at - utcnow()) < dt.timedelta(minutes=1)
    stored = PushSubscription.get()
    assert (stored.endpoint, stored.p256dh, stored.auth, stored.device_id) == (
        sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"], device.id)
    person = Person.get_by_id(person.id)
    assert person.reminders_opt_in is True and person.rev > rev_before
    # the next visit that was already planned now has its reminders
    assert {r.kind for r in Reminder.select()} == {"visit_evening", "visit_soon"}


def test_consent_needs_csrf(app, token):
    phone = app.test_client()
    phone.get(f"/r/{token}")
    response = phone.post(f"/r/{token}/consent", json={"subscription": fake_subscription(),
                                                        "text_version": CONSENT_TEXT_VERSION})
    assert response.status_code == 403
    assert PushSubscription.select().count() == 0


BAD_SUBSCRIPTIONS = [
    None, {}, {"endpoint": "ftp://x", "keys": {}},
    {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
    {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": "!!", "auth": None}},
]


def test_bad_subscription_is_refused_and_the_link_still_works(app, token):
    phone = app.test_client()
    page = phone.get(f"/r/{token}")
    for sub in BAD_SUBSCRIPTIONS:
        response = phone.post(f"/r/{token}/consent",
                              headers={"X-CSRF-Token": meta_csrf(page.get_data(as_text=True))},
                              json={"subscription": sub, "text_version": CONSENT_TEXT_VERSION})
        assert response.status_code == 422, sub
        assert response.get_json()["code"] == "bad_subscription"
    assert turn_on(phone, token).status_code == 200


def test_changed_consent_text_needs_a_reload(app, token):
    assert turn_on(app.test_client(), token, version="old").status_code == 409


def test_production_refuses_plain_http_and_private_push_endpoints(make_app, person, worker):
    app = make_app(REMINDER_ALLOW_LOCAL_ENDPOINTS=False)
    with write_transaction():
        value, _ = create_invite(person, worker)
    assert turn_on(app.test_client(), value).status_code == 422
    sub = fake_subscription()
    sub["endpoint"] = "https://10.0.0.5/push/x"
    assert turn_on(app.test_client(), value, sub).status_code == 422
    sub["endpoint"] = "https://push.example.test/push/x"  # a host name, but not a push service's
    assert turn_on(app.test_client(), value, sub).status_code == 422
    sub["endpoint"] = "https://fcm.googleapis.com/fcm/send/x"
    assert turn_on(app.test_client(), value, sub).status_code == 200


def test_home_page_lists_upcoming_and_reveals_nothing(app, token):
    phone = app.test_client()
    turn_on(phone, token)
    response = phone.get("/r/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Reminder: your visit is tomorrow at " in html  # 10:00 UTC, in London time
    assert "Reminder: your visit is today at " in html
    assert 'value="21:00"' in html and 'value="08:00"' in html
    assert "Stop all reminders" in html
    assert_private(html)


def test_home_without_a_device_cookie_is_calm(app, person):
    assert app.test_client().get("/r/").status_code == 404
    stranger = app.test_client()
    stranger.set_cookie(DEVICE_COOKIE, "made-up", path="/r/")
    response = stranger.get("/r/")
    assert response.status_code == 404
    assert "This link cannot be used" in response.get_data(as_text=True)


def test_quiet_hours_move_reminders(app, person, token):
    phone = app.test_client()
    turn_on(phone, token)
    home = phone.get("/r/").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    soon = Reminder.get(Reminder.kind == "visit_soon")
    response = phone.post("/r/quiet-hours", data={"start": "20:00", "end": "09:30", "csrf_token": form_token})
    assert response.status_code == 302
    person = Person.get_by_id(person.id)
    assert (person.quiet_hours_start, person.quiet_hours_end) == ("20:00", "09:30")
    moved = Reminder.get(Reminder.kind == "visit_soon")
    assert moved.id == soon.id and moved.status == "pending"
    from server.reminders.schedule import to_local

    assert to_local(moved.send_at).strftime("%H:%M") == "09:30"
    assert phone.post("/r/quiet-hours", data={"start": "late", "end": "09:30",
                                              "csrf_token": form_token}).status_code == 400
    assert phone.post("/r/quiet-hours", data={"start": "20:00", "end": "09:30"}).status_code == 403


def test_stop_all_reminders(app, person, token, worker):
    phone = app.test_client()
    turn_on(phone, token)
    # a second phone, from a second invite
    with write_transaction():
        second, _ = create_invite(person, worker)
    turn_on(app.test_client(), second)
    assert PushSubscription.select().count() == 2
    home = phone.get("/r/").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    response = phone.post("/r/stop", data={"csrf_token": form_token})
    assert response.status_code == 200
    assert "Reminders are off" in response.get_data(as_text=True)
    assert DEVICE_COOKIE + "=;" in response.headers["Set-Cookie"]
    assert PushSubscription.select().count() == 0
    assert ReminderDevice.select().where(ReminderDevice.revoked_at.is_null()).count() == 0
    assert Consent.select().where(Consent.withdrawn_at.is_null()).count() == 0
    assert Person.get_by_id(person.id).reminders_opt_in is False
    assert Reminder.select().where(Reminder.status == "pending").count() == 0
    assert phone.get("/r/").status_code == 404


def test_stop_needs_csrf(app, token):
    phone = app.test_client()
    turn_on(phone, token)
    assert phone.post("/r/stop").status_code == 403
    assert PushSubscription.select().count() == 1


def test_subscription_refresh_from_the_page(app, token):
    phone = app.test_client()
    turn_on(phone, token)
    csrf = meta_csrf(phone.get("/r/").get_data(as_text=True))
    new = fake_subscription(1)
    assert phone.post("/r/subscription", json={"subscription": new}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert PushSubscription.select().count() == 2
    assert app.test_client().post("/r/subscription", json={"subscription": new}).status_code in (403, 404)


def test_home_screen_app_reopening_its_used_link_goes_home(app, token):
    phone = app.test_client()
    turn_on(phone, token)
    response = phone.get(f"/r/{token}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/r/")
    assert app.test_client().get(f"/r/{token}").status_code == 404


def test_service_worker_and_manifests(app, token):
    client = app.test_client()
    sw = client.get("/r/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    assert sw.headers["Service-Worker-Allowed"] == "/r/"
    assert b"showNotification" in sw.data and b"notificationclick" in sw.data
    assert client.get("/r/manifest.webmanifest").get_json()["start_url"] == "/r/"
    assert client.get(f"/r/{token}/manifest.webmanifest").get_json()["start_url"] == f"/r/{token}"
