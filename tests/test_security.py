"""Deny by default, CSRF, security headers, role and ownership checks."""

import pytest
from helpers import api_login, form_login

from server.access import find_person_for, get_person_or_404
from server.db import write_transaction
from server.models import Person
from server.security import CSP, is_public

PLACEHOLDERS = {"UUIDConverter": "00000000-0000-4000-8000-000000000000", "IntegerConverter": "1"}


def _urls(app):
    """One concrete URL and method per rule (placeholders for arguments)."""
    for rule in app.url_map.iter_rules():
        values = {}
        for arg in rule.arguments:
            converter = type(rule._converters[arg]).__name__
            values[arg] = PLACEHOLDERS.get(converter, "x")
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_non_public_route_refuses_anonymous_and_all_carry_headers(app):
    client = app.test_client()
    checked = set()
    for endpoint, method, url in _urls(app):
        response = client.open(url, method=method)
        assert response.headers["Content-Security-Policy"] == CSP, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        if is_public(endpoint):
            continue
        checked.add(endpoint)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.get_json()["code"] == "unauthorized"
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/login")
    assert {"auth_api.me", "coordinator.home"} <= checked


def test_no_store_on_api_and_coordinator_pages(client, worker):
    assert client.get("/api/v1/auth/me").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/coordinator/").headers["Cache-Control"] == "no-store"


def test_hsts_and_secure_cookie_only_over_https(make_app, make_user):
    plain = make_app()
    assert "Strict-Transport-Security" not in plain.test_client().get("/login").headers
    secure = make_app(HTTPS=True)
    user = make_user()
    client = secure.test_client()
    response = client.post("/api/v1/auth/login", json={"email": user.email, "password": "correct-horse-battery"},
                           base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_flags_on_http(client, worker):
    response = client.post("/api/v1/auth/login", json={"email": worker.email, "password": "correct-horse-battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_csrf_missing_or_wrong_is_403_with_error_shape(client, worker):
    api_login(client, worker)
    missing = client.post("/api/v1/auth/logout")
    wrong = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "not-the-token"})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert response.get_json()["code"] == "csrf_failed"
        assert set(response.get_json()) == {"code", "message", "errors"}
    assert client.get("/api/v1/auth/me").status_code == 200  # still signed in


def test_csrf_token_survives_the_session_not_one_hour(client, worker, monkeypatch):
    import time

    csrf = api_login(client, worker)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10 * 3600)  # a phone replaying its outbox 10 h later
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204


def test_form_without_csrf_is_403(client, worker):
    response = client.post("/login", data={"email": worker.email, "password": "x"})
    assert response.status_code == 403
    assert "security token" in response.get_data(as_text=True)


def test_peer_worker_cannot_reach_coordinator_pages(client, worker):
    form_login(client, worker)
    assert client.get("/coordinator/").status_code == 403


def test_coordinator_reaches_coordinator_pages(client, coordinator):
    response = form_login(client, coordinator)
    assert response.status_code == 302 and response.headers["Location"].endswith("/coordinator/")
    assert client.get("/coordinator/").status_code == 200


def _person(team, name="P"):
    with write_transaction():
        return Person.create(team=team, display_name=name)


def test_worker_sees_only_own_caseload(app, make_user, team):
    mine, theirs = make_user(team=team), make_user(team=team)
    a, b = _person(team, "A"), _person(team, "B")
    with write_transaction():
        a.assign_to(mine)
        b.assign_to(theirs)
    assert find_person_for(mine, a.uuid).id == a.id
    assert find_person_for(mine, b.uuid) is None  # another worker's person: not found, never the record
    assert find_person_for(mine, "not-a-uuid") is None
    with app.test_request_context():
        from werkzeug.exceptions import NotFound

        with pytest.raises(NotFound):
            get_person_or_404(mine, b.uuid)
    with write_transaction():
        a.reassign(theirs)
    assert find_person_for(mine, a.uuid) is None
    assert find_person_for(theirs, a.uuid).id == a.id


def test_coordinator_sees_own_team_only_and_admin_sees_all(app, make_user, team, other_team):
    coord, admin = make_user("coordinator", team=team), make_user("admin")
    ours, theirs = _person(team), _person(other_team)
    assert find_person_for(coord, ours.uuid) is not None
    assert find_person_for(coord, theirs.uuid) is None
    assert find_person_for(admin, theirs.uuid) is not None


def test_redirect_after_login_stays_on_site(client, coordinator):
    page = client.get("/login?next=https://evil.example/steal")
    assert "evil.example" not in page.get_data(as_text=True)


def test_start_page_sends_people_to_the_right_place(client, coordinator):
    assert client.get("/").headers["Location"] == "/app/"
    form_login(client, coordinator)
    assert client.get("/").headers["Location"] == "/coordinator/"
