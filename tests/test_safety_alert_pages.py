"""The coordinator's alert pages: open alerts newest first, the alert page every message links to (team scope,
audited, names the worker and person), acknowledge with an action note and outcome (which reach the visit and so
the worker's phone), resolve, and how a coordinator chooses to be told (push on this browser, email). Bad input
is a clear answer, never a 500: wrong types, unknown ids, another team's alert, a worker, a signed-out browser."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from reminder_push_endpoint import PushEndpoint
from test_coordinator_common import make_person, make_visit, post, sign_in, token

from server import sync
from server.db import write_transaction
from server.models import AuditEvent, PushSubscription, StaffAlert, StaffAlertChoice, Visit
from server.safety import alerts


def raise_for(visit, kind="concern", now=None):
    with write_transaction():
        return alerts.raise_alert(kind, visit.person.team_id, subject_uuid=str(visit.uuid), worker=visit.author_id,
                                  person=visit.person_id, level=visit.concern, now=now)


@pytest.fixture
def concern(coordinator, worker):
    person = make_person(coordinator.team, worker, name="Robin Example")
    visit = make_visit(person, worker, concern="high", concern_notes="Said they feel unsafe at home")
    return visit, raise_for(visit)


def test_list_and_detail_name_the_people_and_audit_the_read(client, coordinator, worker, concern):
    visit, alert = concern
    sign_in(client, coordinator)
    listing = client.get("/coordinator/alerts/").get_data(as_text=True)
    assert "Serious concern: Robin Example" in listing and "Worker One" in listing and "Waiting" in listing
    page = client.get(f"/coordinator/alerts/{alert.uuid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Robin Example" in html and "Worker One" in html and "Serious concern" in html
    assert "Said they feel unsafe" not in html  # notes stay on the visit's page
    assert f"/coordinator/visits/{visit.uuid}" in html
    assert {"alert.list", "alert.view"} <= {a.action for a in AuditEvent.select()}
    nav = client.get("/coordinator/").get_data(as_text=True)
    assert 'Alerts <span class="badge">' in nav


def test_newest_first_and_closed_ones_only_when_asked(client, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Older Person")
    old = raise_for(make_visit(person, worker, concern="high"), now=dt.datetime(2026, 1, 1, 9))
    newer_person = make_person(coordinator.team, worker, name="Newer Person")
    new = raise_for(make_visit(newer_person, worker, concern="high"), now=dt.datetime(2026, 1, 2, 9))
    sign_in(client, coordinator)
    html = client.get("/coordinator/alerts/").get_data(as_text=True)
    assert html.index(str(new.uuid)) < html.index(str(old.uuid))
    with write_transaction():
        alerts.resolve(old, coordinator, outcome="no_action")
    assert str(old.uuid) not in client.get("/coordinator/alerts/").get_data(as_text=True)
    assert str(old.uuid) in client.get("/coordinator/alerts/?show=all").get_data(as_text=True)


def test_acknowledge_then_close_reaches_the_workers_phone(client, coordinator, worker, concern):
    visit, alert = concern
    device = sync.register_device(worker, "Work phone")
    cursor = sync.pull_changes(worker, device, cursor=0, limit=500)["cursor"]
    sign_in(client, coordinator)
    response = post(client, f"/coordinator/alerts/{alert.uuid}/acknowledge",
                    {"outcome": "crisis_team", "note": "Rang the crisis team, they will visit today"})
    assert response.status_code == 302
    assert StaffAlert.get_by_id(alert.id).acknowledged_by_id == coordinator.id
    page = sync.pull_changes(worker, device, cursor=cursor, limit=500)
    [change] = [c for c in page["changes"] if c["entity"] == "visit"]
    assert change["fields"]["concern_ack_note"] == "Rang the crisis team, they will visit today"
    assert change["fields"]["concern_outcome"] == "crisis_team"
    assert change["fields"]["concern_ack_at"]
    bad = post(client, f"/coordinator/alerts/{alert.uuid}/resolve", {"outcome": "", "note": ""})
    assert bad.status_code == 302 and StaffAlert.get_by_id(alert.id).resolved_at is None
    assert "Choose what was done" in client.get(bad.headers["Location"]).get_data(as_text=True)
    done = post(client, f"/coordinator/alerts/{alert.uuid}/resolve", {"outcome": "crisis_team", "note": "Seen"})
    assert done.status_code == 302 and StaffAlert.get_by_id(alert.id).resolved_at is not None
    assert Visit.get_by_id(visit.id).concern_ack_note == "Seen"


def test_the_concern_page_acknowledgement_takes_an_outcome_and_stops_the_alert(client, coordinator, concern):
    visit, alert = concern
    sign_in(client, coordinator)
    response = post(client, f"/coordinator/visits/{visit.uuid}/acknowledge",
                    {"note": "Safeguarding lead told", "outcome": "safeguarding"})
    assert response.status_code == 302
    fresh = Visit.get_by_id(visit.id)
    assert (fresh.concern_ack_note, fresh.concern_outcome) == ("Safeguarding lead told", "safeguarding")
    assert StaffAlert.get_by_id(alert.id).acknowledged_at is not None
    html = client.get("/coordinator/concerns?show=all").get_data(as_text=True)
    assert "Serious concern" in html and "Safeguarding referral made" in html and ">High<" not in html


def test_bad_input_is_answered_never_a_500(client, app, coordinator, worker, other_team, make_user, concern):
    visit, alert = concern
    outsider = make_user("coordinator", team=other_team)
    sign_in(client, outsider)
    assert client.get(f"/coordinator/alerts/{alert.uuid}").status_code == 404  # another team's: as if none
    assert post(client, f"/coordinator/alerts/{alert.uuid}/acknowledge", {"note": "x"}).status_code == 404
    assert str(alert.uuid) not in client.get("/coordinator/alerts/?show=all").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token(client)})
    sign_in(client, coordinator)
    for path in ("/coordinator/alerts/not-a-uuid", f"/coordinator/alerts/{uuid.uuid4()}"):
        assert client.get(path).status_code == 404
    assert post(client, f"/coordinator/alerts/{uuid.uuid4()}/resolve", {"outcome": "other"}).status_code == 404
    for form in ({"outcome": "made_up"}, {"outcome": ["other", "no_action"], "note": "x" * 2001},
                 {"outcome": "other", "note": "x" * 5000}):
        response = post(client, f"/coordinator/alerts/{alert.uuid}/resolve", form)
        assert response.status_code == 302
        assert StaffAlert.get_by_id(alert.id).resolved_at is None
    assert post(client, f"/coordinator/alerts/{alert.uuid}/resolve", {"outcome": "other"},
                with_token=False).status_code in (400, 403)
    assert post(client, "/coordinator/alerts/?page=abc").status_code == 405
    assert client.get("/coordinator/alerts/?page=abc&show=[]").status_code == 200
    csrf = token(client)
    for body in (None, "not json", {"subscription": "x"}, {"subscription": {"endpoint": 5, "keys": []}},
                 {"subscription": {"endpoint": "https://evil.example/push", "keys": {"p256dh": "a", "auth": "b"}}}):
        kwargs = {"json": body} if body is not None and not isinstance(body, str) else {"data": body or ""}
        response = client.post("/coordinator/alerts/push-subscription", headers={"X-CSRF-Token": csrf}, **kwargs)
        assert response.status_code == 422, response.get_data(as_text=True)
    assert PushSubscription.select().count() == 0
    client.post("/logout", data={"csrf_token": token(client)})
    gone = client.get(f"/coordinator/alerts/{alert.uuid}")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]  # signed out: sign in first
    sign_in(client, worker)
    assert client.get(f"/coordinator/alerts/{alert.uuid}").status_code == 403


def test_choose_email_and_this_browser(client, app, coordinator):
    cfg = app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    try:
        sign_in(client, coordinator)
        page = client.get("/coordinator/alerts/settings").get_data(as_text=True)
        assert "Turn on alerts on this browser" in page and 'data-vapid-key="' in page
        assert post(client, "/coordinator/alerts/settings", {"by_email": "on"}).status_code == 302
        assert StaffAlertChoice.get(StaffAlertChoice.user == coordinator.id).by_email
        response = client.post("/coordinator/alerts/push-subscription", json={"subscription": push.new_subscription()},
                               headers={"X-CSRF-Token": token(client)})
        assert response.status_code == 200
        choice = StaffAlertChoice.get(StaffAlertChoice.user == coordinator.id)
        assert choice.by_push and choice.by_email
        assert PushSubscription.get().user_id == coordinator.id
        assert post(client, "/coordinator/alerts/push-off").status_code == 302
        assert PushSubscription.select().count() == 0
        assert not StaffAlertChoice.get(StaffAlertChoice.user == coordinator.id).by_push
        sw = client.get("/coordinator/alerts/sw.js")
        assert sw.status_code == 200 and sw.headers["Service-Worker-Allowed"] == "/coordinator/alerts/"
    finally:
        push.close()
