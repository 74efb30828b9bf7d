"""Every coordinator page renders with the demo organisation, as the demo coordinator and as the admin,
within the strict CSP (no inline scripts or styles), and bad input is a clear 400/404, never a 500."""

from __future__ import annotations

import re

import pytest
from test_coordinator_common import sign_in

from server.demo import demo_logins, seed_demo

LIST_PAGES = [
    "/coordinator/", "/coordinator/review", "/coordinator/review?unreviewed=1&concern=any",
    "/coordinator/concerns", "/coordinator/concerns?show=all", "/coordinator/people", "/coordinator/people?status=all",
    "/coordinator/people?show=past_end", "/coordinator/people?show=to_confirm", "/coordinator/people/new",
    "/coordinator/reports", "/coordinator/reports?from=2024-01-01&to=2028-12-31", "/coordinator/resources",
    "/coordinator/resources?show=all&category=Money", "/coordinator/resources/new", "/coordinator/resources/import",
    "/coordinator/users", "/coordinator/users/new", "/coordinator/audit", "/coordinator/review?page=2",
]
DOWNLOADS = [
    "/coordinator/exports/visits.csv", "/coordinator/exports/contacts.csv", "/coordinator/exports/goals.csv",
    "/coordinator/exports/referrals.csv", "/coordinator/resources/export.json", "/coordinator/resources/export.csv",
    "/coordinator/audit.csv",
]
DETAIL_LINK = re.compile(r'href="(/coordinator/(?:people|visits|users|resources)/[0-9a-f-]{36}(?:/edit)?)"')


def _check_html(url, response):
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert "<script" not in html and "style=" not in html and "<style" not in html, url
    assert 'lang="en-GB"' in html and '<main id="main">' in html
    return html


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_every_page_renders_with_demo_data(app, client, role):
    seed_demo()
    email, password, _ = next(login for login in demo_logins() if login[2] == role)
    sign_in(client, email, password)
    details = set()
    for url in LIST_PAGES:
        html = _check_html(url, client.get(url))
        details.update(DETAIL_LINK.findall(html))
    kinds = {re.match(r"/coordinator/(\w+)/", d).group(1) for d in details}
    assert kinds == {"people", "visits", "users", "resources"}
    for url in sorted(details)[:60]:
        _check_html(url, client.get(url))
    for url in DOWNLOADS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.get_data()) > 50, url
    report = client.get("/coordinator/reports").get_data(as_text=True)
    assert report.count("<svg") == 5 and report.count('role="img"') == 5
    assert "Jo Bennett" in report and "Whole team" in report or "All teams" in report


def test_bad_input_is_a_clear_message_not_a_500(client, coordinator):
    sign_in(client, coordinator)
    bad = [
        "/coordinator/review?from=yesterday", "/coordinator/review?from=2026-13-45", "/coordinator/review?concern=huge",
        "/coordinator/review?from=2026-05-01&to=2026-01-01", "/coordinator/reports?from=1066-10-14&to=2026-01-01",
        "/coordinator/reports?from=2000-01-01&to=2099-01-01", "/coordinator/people?status=sleeping",
        "/coordinator/people?worker=not-a-worker", "/coordinator/audit?actor=0b9b7c8e-0000-4000-8000-000000000000",
        "/coordinator/resources?show=sometimes", "/coordinator/users?show=x", "/coordinator/exports/visits.csv?from=x",
        "/coordinator/people?q=" + "x" * 500,
    ]
    for url in bad:
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        assert 'role="alert"' in response.get_data(as_text=True)
    for url in ["/coordinator/people/12", "/coordinator/visits/%00", "/coordinator/users/" + "a" * 5000,
                "/coordinator/reports?team=not-a-uuid", "/coordinator/invite/garbage"]:
        assert client.get(url).status_code == 404, url
    for page in ["/coordinator/review?page=-3", "/coordinator/review?page=abc", "/coordinator/review?page=99999999"]:
        assert client.get(page).status_code == 200


def test_odd_values_in_every_form_and_query_never_cause_a_500(app, client, coordinator, worker):
    from test_coordinator_common import make_person, make_resource, make_visit, post

    from server.models import Device

    person = make_person(coordinator.team, worker)
    visit = make_visit(person, worker, concern="high")
    ids = {"visit_id": visit.uuid, "person_id": person.uuid, "user_id": worker.uuid, "token": "x",
           "device_id": Device.create(user=worker, name="Phone").uuid, "resource_id": make_resource().uuid}
    from server.safety.alerts import raise_alert  # issue 14: the alert pages too

    ids["checkin_id"] = "6f1c2d3e-0000-4000-8000-000000000001"  # lone working: no such check-in is a 404
    ids["alert_id"] = raise_alert("concern", person.team_id, subject_uuid=str(visit.uuid), person=person).uuid
    sign_in(client, coordinator)
    odd_values = ["", "x" * 5000, "\x00", "2026-02-30", "-1", str(worker.uuid)]
    fields = ["comment", "note", "status", "display_name", "name", "email", "role", "team", "worker", "mode",
              "visit", "planned_end", "engagement_start", "website", "archived", "method", "password", "format",
              "mark_reviewed", "next", "outcome", "by_email"]
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("coordinator."):
            continue
        url = rule.build({k: str(v) for k, v in ids.items() if k in rule.arguments}, append_unknown=False)[1]
        for value in odd_values:
            if "GET" in rule.methods:
                query = "&".join(f"{f}={value[:300]}" for f in ("from", "to", "page", "worker", "person", "concern",
                                                                 "status", "show", "q", "team", "actor", "action"))
                response = client.get(f"{url}?{query}")
                response.get_data()  # read streamed downloads to the end
                assert response.status_code < 500, (url, value[:20], response.status_code)
            if "POST" in rule.methods and "deactivate" not in url and "invite" not in url:
                response = post(client, url, {f: value for f in fields})
                assert response.status_code < 500, (url, value[:20], response.status_code)
