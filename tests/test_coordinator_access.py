"""Who may reach the coordinator workspace, and team scoping on every page and export: a coordinator of
team A sees nothing of team B, by URL guessing too; admins see every team; CSRF on every form."""

from __future__ import annotations

import pytest
from test_coordinator_common import make_goal, make_person, make_referral, make_resource, make_visit, post, sign_in

from server.db import utcnow
from server.models import AuditEvent, Device, Person, StaffAlert, Visit
from server.safety.alerts import raise_alert

GET_PAGES = [
    "/coordinator/", "/coordinator/review", "/coordinator/concerns", "/coordinator/people", "/coordinator/people/new",
    "/coordinator/reports", "/coordinator/resources", "/coordinator/resources/new", "/coordinator/resources/import",
    "/coordinator/users", "/coordinator/users/new", "/coordinator/audit",
    "/coordinator/alerts/", "/coordinator/alerts/?show=all", "/coordinator/alerts/settings",  # issue 14
]
EXPORTS = [
    "/coordinator/exports/visits.csv", "/coordinator/exports/contacts.csv", "/coordinator/exports/goals.csv",
    "/coordinator/exports/referrals.csv", "/coordinator/audit.csv",
]


@pytest.fixture
def two_teams(make_user, team, other_team):
    """Team A and team B, each with a coordinator, a worker, a person, a visit with a high concern, a goal,
    a referral and a device."""
    resource = make_resource()
    out = {}
    for key, t in (("a", team), ("b", other_team)):
        coordinator = make_user("coordinator", team=t, name=f"Coordinator {key.upper()}")
        worker = make_user("peer_worker", team=t, name=f"Worker {key.upper()}")
        person = make_person(t, worker, name=f"Person {key.upper()}", planned_end=utcnow().date())
        visit = make_visit(person, worker, concern="high", concern_notes=f"Concern {key.upper()}")
        goal = make_goal(person, worker, title=f"Goal {key.upper()}")
        referral = make_referral(person, resource, worker, status="made")
        device = Device.create(user=worker, name=f"Phone {key.upper()}")
        alert = raise_alert("concern", t, subject_uuid=str(visit.uuid), worker=worker, person=person)  # issue 14
        out[key] = dict(team=t, coordinator=coordinator, worker=worker, person=person, visit=visit, goal=goal,
                        referral=referral, device=device, alert=alert)
    return out


def test_anonymous_is_sent_to_sign_in_and_peer_worker_is_refused(client, worker, two_teams):
    for url in GET_PAGES + EXPORTS:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    sign_in(client, worker)
    b = two_teams["b"]
    details = [f"/coordinator/people/{b['person'].uuid}", f"/coordinator/visits/{b['visit'].uuid}",
               f"/coordinator/alerts/{b['alert'].uuid}"]
    for url in GET_PAGES + EXPORTS + details:
        assert client.get(url).status_code == 403, url
    response = post(client, f"/coordinator/visits/{two_teams['a']['visit'].uuid}/review", {"comment": "x"})
    assert response.status_code == 403
    assert Visit.get_by_id(two_teams["a"]["visit"].id).reviewed_at is None


def test_team_a_coordinator_sees_nothing_of_team_b(client, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    sign_in(client, a["coordinator"])
    b_markers = [b["person"].display_name, str(b["person"].uuid), str(b["visit"].uuid), b["worker"].name,
                 str(b["worker"].uuid), str(b["goal"].uuid), str(b["referral"].uuid), b["coordinator"].name]
    for url in GET_PAGES + ["/coordinator/people?status=all", "/coordinator/people?show=past_end",
                            "/coordinator/concerns?show=all", "/coordinator/users?show=all"] + EXPORTS:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        for marker in b_markers:
            assert marker not in body, (url, marker)
    # and team A's own things are there
    assert a["person"].display_name in client.get("/coordinator/people").get_data(as_text=True)
    assert str(a["visit"].uuid) in client.get("/coordinator/exports/visits.csv").get_data(as_text=True)
    assert client.get("/coordinator/").get_data(as_text=True).count('class="badge"') == 2  # A's concern, A's alert

    # URL guessing: every page and action on a team B id answers 404, and changes nothing
    for url in [f"/coordinator/people/{b['person'].uuid}", f"/coordinator/people/{b['person'].uuid}/edit",
                f"/coordinator/visits/{b['visit'].uuid}", f"/coordinator/users/{b['worker'].uuid}",
                f"/coordinator/users/{b['coordinator'].uuid}", f"/coordinator/review?worker={b['worker'].uuid}",
                f"/coordinator/devices/{b['device'].uuid}/revoke", f"/coordinator/users/{b['worker'].uuid}/deactivate",
                f"/coordinator/reports?team={b['team'].uuid}",
                f"/coordinator/exports/visits.csv?team={b['team'].uuid}"]:
        response = client.get(url)
        if "?" in url and "review" in url:
            assert str(b["visit"].uuid) not in response.get_data(as_text=True)
        else:
            assert response.status_code == 404, url
    actions = [
        (f"/coordinator/visits/{b['visit'].uuid}/review", {"comment": "hello"}),
        (f"/coordinator/visits/{b['visit'].uuid}/acknowledge", {"note": "called"}),
        (f"/coordinator/people/{b['person'].uuid}/assign", {"worker": str(a["worker"].uuid)}),
        (f"/coordinator/people/{b['person'].uuid}/unassign", {"worker": str(b["worker"].uuid)}),
        (f"/coordinator/people/{b['person'].uuid}/status", {"status": "closed"}),
        (f"/coordinator/people/{b['person'].uuid}/confirm", {}),
        (f"/coordinator/people/{b['person'].uuid}/edit", {"display_name": "Changed"}),
        (f"/coordinator/users/{b['worker'].uuid}/deactivate", {}),
        (f"/coordinator/users/{b['worker'].uuid}/role", {"role": "coordinator"}),
        (f"/coordinator/users/{b['worker'].uuid}/invite", {}),
        (f"/coordinator/devices/{b['device'].uuid}/revoke", {"confirm": "yes"}),
        (f"/coordinator/alerts/{b['alert'].uuid}/acknowledge", {"note": "x"}),
        (f"/coordinator/alerts/{b['alert'].uuid}/resolve", {"outcome": "other"}),
    ]
    for url, data in actions:
        assert post(client, url, data).status_code == 404, url
    # bulk review silently skips ids it may not see; assigning team B's worker to A's person is refused
    post(client, "/coordinator/review/bulk", {"visit": [str(b["visit"].uuid)]})
    response = post(client, f"/coordinator/people/{a['person'].uuid}/assign", {"worker": str(b["worker"].uuid)})
    assert response.status_code == 400
    visit_b = Visit.get_by_id(b["visit"].id)
    assert visit_b.reviewed_at is None and visit_b.concern_ack_at is None and visit_b.reviews.count() == 0
    person_b = Person.get_by_id(b["person"].id)
    assert person_b.status == "active" and person_b.display_name == "Person B"
    assert b["worker"].__class__.get_by_id(b["worker"].id).active
    assert Device.get_by_id(b["device"].id).revoked_at is None
    # and team A's audit trail holds only team A's events
    assert not AuditEvent.select().where(AuditEvent.record_id == str(b["person"].uuid)).exists()


def test_admin_sees_every_team(make_user, client, two_teams):
    admin = make_user("admin", team=None, name="Admin Person")
    sign_in(client, admin)
    people = client.get("/coordinator/people").get_data(as_text=True)
    assert "Person A" in people and "Person B" in people
    assert client.get(f"/coordinator/people/{two_teams['b']['person'].uuid}").status_code == 200
    report = client.get(f"/coordinator/reports?team={two_teams['b']['team'].uuid}")
    assert report.status_code == 200 and "Worker B" in report.get_data(as_text=True)
    assert "Worker A" not in report.get_data(as_text=True)
    csv = client.get("/coordinator/exports/visits.csv").get_data(as_text=True)
    assert str(two_teams["a"]["visit"].uuid) in csv and str(two_teams["b"]["visit"].uuid) in csv


def test_every_form_needs_the_csrf_token(app, client, two_teams):
    a = two_teams["a"]
    sign_in(client, a["coordinator"])
    ids = {"visit_id": a["visit"].uuid, "person_id": a["person"].uuid, "user_id": a["worker"].uuid,
           "device_id": a["device"].uuid, "resource_id": make_resource("Library").uuid, "token": "x",
           "alert_id": a["alert"].uuid, "checkin_id": "6f1c2d3e-0000-4000-8000-000000000001"}
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("coordinator.") and "POST" in rule.methods]
    assert len(posts) >= 20
    for rule in posts:
        url = rule.build({k: str(v) for k, v in ids.items() if k in rule.arguments}, append_unknown=False)[1]
        response = client.post(url, data={"comment": "x", "note": "x", "status": "closed", "display_name": "X",
                                          "name": "X", "visit": str(a["visit"].uuid)})
        assert response.status_code == 403, url
    visit = Visit.get_by_id(a["visit"].id)
    assert visit.reviewed_at is None and visit.concern_ack_at is None
    assert StaffAlert.get_by_id(a["alert"].id).acknowledged_at is None
    assert Person.get_by_id(a["person"].id).status == "active"
