"""Sign-in through the JSON API: the contract in DESIGN.md, throttling, session revocation."""

from helpers import PASSWORD, api_login

from server.auth import deactivate_user
from server.db import write_transaction
from server.models import UserSession


def test_login_success_returns_user_and_csrf(client, worker):
    response = client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == {"id": str(worker.uuid), "name": "Worker One", "role": "peer_worker"}
    assert len(body["csrf_token"]) > 20
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.get_json()["user"]["id"] == str(worker.uuid)


def test_email_is_case_insensitive(client, worker):
    response = client.post("/api/v1/auth/login", json={"email": worker.email.upper(), "password": PASSWORD})
    assert response.status_code == 200


def test_wrong_password_and_unknown_email_answer_alike(client, worker):
    wrong = client.post("/api/v1/auth/login", json={"email": worker.email, "password": "nope-nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.test", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["code"] == "invalid_credentials"


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user(active=False)
    response = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401 and response.get_json()["code"] == "invalid_credentials"


def test_throttle_after_five_failures_for_an_account(client, worker):
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"email": worker.email, "password": "wrong-password-x"})
        assert r.status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.get_json()["code"] == "too_many_requests"
    assert set(blocked.get_json()) == {"code", "message", "errors"}


def test_throttle_per_address_across_accounts(client, worker):
    for i in range(5):
        r = client.post("/api/v1/auth/login", json={"email": f"x{i}@example.test", "password": "wrong-password-x"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD})
    assert r.status_code == 429
    other = client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200


def test_successful_logins_are_not_throttled(client, worker):
    for _ in range(8):
        assert client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD}).status_code == 200


def test_session_token_changes_at_login(app, worker):
    first, second = app.test_client(), app.test_client()
    api_login(first, worker)
    api_login(second, worker)
    tokens = [s.token for s in UserSession.select().where(UserSession.user == worker)]
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    # both sessions are live at once (phone and laptop)
    assert first.get("/api/v1/auth/me").status_code == 200
    assert second.get("/api/v1/auth/me").status_code == 200


def test_logout_makes_a_replayed_cookie_useless(app, worker):
    client = app.test_client()
    csrf = api_login(client, worker)
    stolen = client.get_cookie("alongside_session").value
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    replay = app.test_client()
    replay.set_cookie("alongside_session", stolen)
    response = replay.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_deactivation_ends_sessions(app, worker):
    client = app.test_client()
    api_login(client, worker)
    with write_transaction():
        assert deactivate_user(worker) == (1, 0)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_login_bad_input_gets_field_errors(client):
    for body in ({}, {"email": 5, "password": []}, {"email": "a@b.c"}, {"email": "", "password": ""}):
        response = client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 422, body
        payload = response.get_json()
        assert payload["code"] == "validation_failed"
        assert payload["errors"], body


def test_login_refuses_form_encoded_body(client, worker):
    # A cross-site form cannot send JSON; a form-encoded sign-in is refused, not accepted without CSRF.
    response = client.post("/api/v1/auth/login", data={"email": worker.email, "password": PASSWORD})
    assert response.status_code == 422


def test_me_anonymous_is_401_with_error_shape(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert set(response.get_json()) == {"code", "message", "errors"}
