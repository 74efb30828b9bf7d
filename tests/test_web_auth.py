"""The /login form used by coordinator pages: same accounts, sessions, throttling and time-outs."""

import datetime as dt
import re

from helpers import PASSWORD, csrf_from_html, form_login

from server.models import UserSession


def _age_session(user, last_seen=dt.timedelta(0), created=dt.timedelta(0)):
    for sess in UserSession.select().where(UserSession.user == user):
        sess.last_seen_at -= last_seen
        sess.created_at -= created
        sess.save()


def test_form_login_and_logout(client, coordinator):
    response = form_login(client, coordinator)
    assert response.status_code == 302
    home = client.get("/coordinator/")
    assert home.status_code == 200
    token = csrf_from_html(home.get_data(as_text=True))
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"].endswith("/login")
    assert client.get("/coordinator/").status_code == 302


def test_form_login_failure_is_generic(client, coordinator):
    wrong = form_login(client, coordinator, password="wrong-password-here")
    unknown = form_login(client, "nobody@example.test", password="wrong-password-here")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an active account" in wrong.get_data(as_text=True)
    assert "do not match an active account" in unknown.get_data(as_text=True)


def test_form_login_throttled(client, coordinator):
    for _ in range(5):
        assert form_login(client, coordinator, password="wrong-password-here").status_code == 401
    blocked = form_login(client, coordinator)
    assert blocked.status_code == 429
    assert re.search(r"Please wait (\d+ seconds|1 minute) and try again", blocked.get_data(as_text=True))
    assert 45 <= int(blocked.headers["Retry-After"]) <= 60


def test_login_next_redirect_is_local_only(client, coordinator):
    page = client.get("/login?next=/coordinator/")
    token = csrf_from_html(page.get_data(as_text=True))
    ok = client.post("/login", data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token,
                                     "next": "/coordinator/"})
    assert ok.headers["Location"] == "/coordinator/"


def test_offsite_next_is_ignored(app, coordinator):
    client = app.test_client()
    page = client.get("/login")
    token = csrf_from_html(page.get_data(as_text=True))
    response = client.post("/login", data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/x"})
    assert "evil.example" not in response.headers["Location"]


def test_peer_worker_form_login_goes_to_the_app(client, worker):
    response = form_login(client, worker)
    assert response.headers["Location"] == "/app/"


def test_coordinator_idle_timeout(client, coordinator):
    form_login(client, coordinator)
    assert client.get("/coordinator/").status_code == 200
    _age_session(coordinator, last_seen=dt.timedelta(minutes=31))
    response = client.get("/coordinator/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert UserSession.get(UserSession.user == coordinator).revoked_at is not None


def test_coordinator_absolute_timeout(client, coordinator):
    form_login(client, coordinator)
    _age_session(coordinator, created=dt.timedelta(hours=12, minutes=1))
    assert client.get("/coordinator/").status_code == 302


def test_worker_app_session_has_no_idle_timeout(client, worker):
    from helpers import api_login

    api_login(client, worker)
    _age_session(worker, last_seen=dt.timedelta(hours=20))
    assert client.get("/api/v1/auth/me").status_code == 200


def test_anonymous_logout_is_harmless(client):
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.post("/logout").status_code == 302
