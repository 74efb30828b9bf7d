"""Reminders as the worker, the coordinator and the person see them: the status with every time carrying
its UTC offset (as the OpenAPI document says), text-message and email consent recorded in person by the
worker or given on the invite page, consent history, stop on the person's request (recorded), the
coordinator person page's reminder section (the summary caseloads.py meant to show), the admin-only
organisation defaults page, and the next visit as a calendar file that parses and says nothing private."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from helpers import csrf_from_html, form_login
from test_invites import consent, invite, token_of
from test_person_pages import meta_csrf

from server.db import utcnow, write_transaction
from server.models import AuditEvent, Consent, ContactPoint, OutboxMessage, Person, ReminderSetting, Visit
from server.reminders.consent import CONSENT_TEXT_VERSION

OFFSET = ("+00:00", "Z")


@pytest.fixture
def sms_app(app, make_app):
    """SMS and email on (GOV.UK Notify configured; nothing is sent in these tests). Built after `app`, so
    these channel settings are the ones in force."""
    return make_app(NOTIFY_API_KEY="k-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0",
                    NOTIFY_SMS_TEMPLATE_ID="t1", NOTIFY_EMAIL_TEMPLATE_ID="t2")


@pytest.fixture
def person(app, team, worker):
    with write_transaction():
        p = Person.create(team=team, display_name="Jordan Example")
        p.assign_to(worker)
        Visit.create(person=p, author=worker, started_at=utcnow(), notes="talked about the methadone clinic",
                     next_visit_at=(utcnow() + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0,
                                                                             microsecond=0))
    return p


def api(client, worker, login):
    return login(client, worker)


def test_status_times_carry_their_offset(app, client, worker, login, person):
    csrf = login(client, worker)
    _phone, response = consent(app, token_of(invite(client, csrf, person).get_json()["url"]))
    assert response.status_code == 200
    status = client.get(f"/api/v1/invites/people/{person.uuid}").get_json()
    assert status["reminders_on"] is True and status["channels"] == ["webpush"]
    assert status["consent_given_at"].endswith(OFFSET)
    assert status["upcoming"] and all(r["send_at"].endswith(OFFSET) for r in status["upcoming"])
    assert status["consents"][0]["given_at"].endswith(OFFSET) and status["consents"][0]["withdrawn_at"] is None
    stopped = client.delete(f"/api/v1/invites/people/{person.uuid}", headers={"X-CSRF-Token": csrf}).get_json()
    assert stopped["consent_withdrawn_at"].endswith(OFFSET)
    assert stopped["consents"][0]["withdrawn_reason"] == "person_request"
    assert stopped["consents"][0]["withdrawn_by"] == worker.name


def test_worker_records_sms_consent_given_in_person(sms_app, worker, login, person):
    client = sms_app.test_client()
    csrf = login(client, worker)
    url = f"/api/v1/invites/people/{person.uuid}/contacts"
    body = {"channel": "sms", "address": "07700 900123", "text_version": CONSENT_TEXT_VERSION}
    assert client.post(url, json={**body, "address": "call me"}, headers={"X-CSRF-Token": csrf}).status_code == 422
    assert client.post(url, json={**body, "text_version": "old"}, headers={"X-CSRF-Token": csrf}).status_code == 409
    response = client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.get_json()
    status = response.get_json()
    assert status["reminders_on"] is True and status["channels"] == ["sms"]
    assert status["consents"][0]["recorded_by"] == worker.name and status["consents"][0]["channel"] == "sms"
    assert "07700" not in str(status)  # the number is kept to send to, never shown back
    assert ContactPoint.get().address == "07700900123"
    assert OutboxMessage.get().template == "reminders_on"  # a confirmation, so they know it works
    assert status["pending_reminders"] == 2
    # stop on the person's request: the number is gone, the history stays
    stopped = client.delete(f"/api/v1/invites/people/{person.uuid}", headers={"X-CSRF-Token": csrf}).get_json()
    assert stopped["reminders_on"] is False and ContactPoint.select().count() == 0
    assert Consent.get().withdrawn_reason == "person_request"
    assert OutboxMessage.get().state == "cancelled"
    assert AuditEvent.select().where(AuditEvent.action == "reminders.withdraw").get().detail == "all; person_request"


def test_sms_is_not_offered_when_not_configured(client, worker, login, person):
    csrf = login(client, worker)
    response = client.post(f"/api/v1/invites/people/{person.uuid}/contacts", headers={"X-CSRF-Token": csrf},
                           json={"channel": "sms", "address": "07700900123", "text_version": CONSENT_TEXT_VERSION})
    assert response.status_code == 422 and "channel" in response.get_json()["errors"]
    assert client.get(f"/api/v1/invites/people/{person.uuid}").get_json()["channels_available"] == ["webpush"]


def test_coordinator_can_read_and_stop_but_not_record_consent(sms_app, coordinator, login, person):
    client = sms_app.test_client()
    csrf = login(client, coordinator)
    assert client.get(f"/api/v1/invites/people/{person.uuid}").status_code == 200
    response = client.post(f"/api/v1/invites/people/{person.uuid}/contacts", headers={"X-CSRF-Token": csrf},
                           json={"channel": "sms", "address": "07700900123", "text_version": CONSENT_TEXT_VERSION})
    assert response.status_code == 404


def test_the_person_gives_an_email_address_on_the_invite_page(sms_app, worker, person):
    from server.reminders.consent import create_invite

    with write_transaction():
        token, _ = create_invite(person, worker)
    phone = sms_app.test_client()
    page = phone.get(f"/r/{token}")
    html = page.get_data(as_text=True)
    assert 'id="contact-form"' in html
    post = {"channel": "email", "address": "jordan@example.org", "text_version": CONSENT_TEXT_VERSION}
    bad = phone.post(f"/r/{token}/consent", json={**post, "address": "nope"},
                     headers={"X-CSRF-Token": meta_csrf(html)})
    assert bad.status_code == 422
    ok = phone.post(f"/r/{token}/consent", json=post, headers={"X-CSRF-Token": meta_csrf(html)})
    assert ok.status_code == 200, ok.get_json()
    assert ContactPoint.get().channel == "email" and Consent.get().recorded_by_id is None
    home = phone.get("/r/").get_data(as_text=True)
    assert "Email" in home and "jordan@example.org" not in home


def test_coordinator_person_page_shows_status_history_and_stops(app, client, coordinator, worker, login, person):
    worker_client = app.test_client()
    csrf = login(worker_client, worker)
    consent(app, token_of(invite(worker_client, csrf, person).get_json()["url"]))
    form_login(client, coordinator)
    page = client.get(f"/coordinator/people/{person.uuid}").get_data(as_text=True)
    assert 'id="reminders-summary">On: phone notifications; 2 reminders to come<' in page
    assert "Consent history" in page and CONSENT_TEXT_VERSION in page and "by the person on their phone" in page
    csrf_token = csrf_from_html(page)
    url = f"/coordinator/people/{person.uuid}/reminders/stop"
    assert client.post(url, data={"csrf_token": csrf_token}).status_code == 400  # must confirm
    response = client.post(url, data={"csrf_token": csrf_token, "confirm": "yes"})
    assert response.status_code == 302
    page = client.get(f"/coordinator/people/{person.uuid}").get_data(as_text=True)
    assert 'id="reminders-summary">Off<' in page and "on the person&#39;s request (Coordinator One)" in page
    assert Person.get_by_id(person.id).reminders_opt_in is False


def test_organisation_defaults_page_is_for_admins_only(app, client, coordinator, make_user):
    form_login(client, coordinator)
    page = client.get("/coordinator/reminder-settings")
    assert page.status_code == 200 and "Only an admin can change them" in page.get_data(as_text=True)
    token = csrf_from_html(client.get("/coordinator/people").get_data(as_text=True))
    values = {"csrf_token": token, "evening_before": "on", "evening_time": "17:00", "hours_before": "3",
              "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"}
    assert client.post("/coordinator/reminder-settings", data=values).status_code == 403
    assert ReminderSetting.select().count() == 0
    admin = app.test_client()
    form_login(admin, make_user("admin"))
    html = admin.get("/coordinator/reminder-settings").get_data(as_text=True)
    values["csrf_token"] = csrf_from_html(html)
    assert admin.post("/coordinator/reminder-settings", data={**values, "hours_before": "99"}).status_code == 400
    assert admin.post("/coordinator/reminder-settings", data=values).status_code == 302
    row = ReminderSetting.get()
    assert (row.evening_time, row.hours_before, row.quiet_hours_end) == ("17:00", 3, "07:00")


def test_next_visit_calendar_file_parses_and_says_nothing_private(app, client, worker, login, person):
    csrf = login(client, worker)
    phone, _ = consent(app, token_of(invite(client, csrf, person).get_json()["url"]))
    response = phone.get("/r/next-visit.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    visit = Visit.get()
    assert event.decoded("DTSTART") == visit.next_visit_at.replace(tzinfo=dt.UTC)
    assert str(event.get("SUMMARY")) == "Visit"
    text = response.data.decode().lower()
    for word in ("jordan", "example", "methadone", "clinic", "worker one"):
        assert word not in text
    assert app.test_client().get("/r/next-visit.ics").status_code == 404  # needs the device cookie
    assert "next-visit.ics" in phone.get("/r/").get_data(as_text=True)
