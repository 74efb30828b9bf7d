"""Two-step sign-in (TOTP): required for coordinators and admins, offered to peer workers; set up at sign-in or on
the account page after re-authenticating; recovery codes; codes work once; throttled; reset by an admin or the
command line; the secret is sealed in the database."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from helpers import PASSWORD, csrf_from_html, form_login
from test_coordinator_common import post

from server import totp
from server.models import AuditEvent, RecoveryCode, User, UserSession


@pytest.fixture
def app(make_app):
    from server import db as dbmod

    application = make_app(TOTP_REQUIRED=True)
    yield application
    dbmod.dispose()


@pytest.fixture
def enrol(app):
    """enrol(user, secret): give a user an authenticator straight away (as the demo does) with a known secret."""
    from server.db import write_transaction

    def _enrol(user, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"):
        with app.app_context(), write_transaction():  # sealing needs the app's key
            User.update(totp_secret=totp.seal(user, secret), totp_enabled_at=User.created_at).where(
                User.id == user.id).execute()
        return secret

    return _enrol


def key_on(page_html: str) -> str:
    return re.search(r'id="setup-key">([A-Z2-7 ]+)<', page_html).group(1).replace(" ", "")


def _code(secret: str, steps_ahead: int = 0) -> str:
    """A valid code; steps_ahead=1 gives the next one (a code works once, so a second sign-in needs another)."""
    t = pyotp.TOTP(secret)
    return t.generate_otp(t.timecode(dt.datetime.now(dt.UTC)) + steps_ahead)


def submit(client, url, **fields):
    page = client.get(url)
    html = page.get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from_html(html), **fields})


# --- at sign-in --------------------------------------------------------------------------------------------

def test_coordinator_sets_up_the_authenticator_at_first_sign_in(app, client, coordinator):
    other = app.test_client()
    first = form_login(client, coordinator)
    assert first.status_code == 302 and first.headers["Location"] == "/login/setup"
    assert client.get("/coordinator/").status_code == 302  # no session before step 2
    page = client.get("/login/setup").get_data(as_text=True)
    assert '<svg role="img" aria-label="QR code for your authenticator app"' in page
    secret = key_on(page)
    assert submit(client, "/login/setup", one_time_code="000000").status_code == 400
    done = submit(client, "/login/setup", one_time_code=_code(secret))
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/coordinator/").status_code == 200
    assert User.get_by_id(coordinator.id).has_two_step
    assert AuditEvent.select().where(AuditEvent.action == "user.two_step_on").count() == 1
    assert other.get("/coordinator/").status_code == 302


def test_with_an_authenticator_the_code_is_step_two(app, client, coordinator, enrol):
    secret = enrol(coordinator)
    response = form_login(client, coordinator)
    assert response.headers["Location"] == "/login/code"
    assert client.get("/coordinator/").status_code == 302
    wrong = submit(client, "/login/code", one_time_code="123456")
    assert wrong.status_code == 401 and "did not work" in wrong.get_data(as_text=True)
    failed = AuditEvent.get(AuditEvent.action == "auth.login_failed")
    assert failed.detail == "web, code" and failed.record_id == str(coordinator.uuid)
    ok = submit(client, "/login/code", one_time_code=_code(secret))
    assert ok.status_code == 302 and ok.headers["Location"] == "/coordinator/"
    assert client.get("/coordinator/").status_code == 200
    assert AuditEvent.get(AuditEvent.action == "auth.login").detail == "web, with code"
    # the same code cannot sign in a second time (a code seen over a shoulder is spent)
    again = app.test_client()
    form_login(again, coordinator)
    assert submit(again, "/login/code", one_time_code=_code(secret)).status_code == 401
    assert submit(again, "/login/code", one_time_code=_code(secret, 1)).status_code == 302


def test_step_two_without_step_one_or_too_late(app, client, coordinator, monkeypatch, enrol):
    enrol(coordinator)
    assert client.get("/login/code").headers["Location"].endswith("/login")
    form_login(client, coordinator)
    import server.web_auth as web_auth

    later = time.time() + 11 * 60
    monkeypatch.setattr(web_auth.time, "time", lambda: later)
    late = client.post("/login/code", data={"csrf_token": csrf_from_html(client.get("/login").get_data(as_text=True)),
                                            "one_time_code": "123456"})
    assert late.status_code == 400 and "took too long" in late.get_data(as_text=True)


def test_a_recovery_code_signs_in_once(app, client, coordinator, enrol):
    from server.db import write_transaction

    enrol(coordinator)
    with write_transaction():
        codes = totp.new_recovery_codes(coordinator)
    form_login(client, coordinator)
    used = submit(client, "/login/code", one_time_code=codes[3].upper().replace("-", " "))
    assert used.status_code == 200 and "9</strong> recovery codes left" in used.get_data(as_text=True)
    assert client.get("/coordinator/").status_code == 200
    again = app.test_client()
    form_login(again, coordinator)
    assert submit(again, "/login/code", one_time_code=codes[3]).status_code == 401
    assert RecoveryCode.select().where(RecoveryCode.used_at.is_null(False)).count() == 1


def test_codes_are_throttled_per_hour(app, client, coordinator, enrol):
    """Ten wrong codes an hour, then even a right one waits: 3 in a million codes are valid at any moment."""
    from test_throttle import _age_windows

    secret = enrol(coordinator)
    for attempt in range(10):
        form_login(client, coordinator)
        assert submit(client, "/login/code", one_time_code="000000").status_code == 401, attempt
        if attempt % 4 == 3:
            _age_windows(61)  # past the per-minute count; the hourly one keeps counting
    form_login(client, coordinator)
    blocked = submit(client, "/login/code", one_time_code=_code(secret))
    assert blocked.status_code == 429 and "minutes" in blocked.get_data(as_text=True)


def test_the_secret_is_sealed(app, coordinator, enrol):
    from server.db import write_transaction

    secret = enrol(coordinator)
    stored = User.get_by_id(coordinator.id).totp_secret
    assert secret not in stored and stored.startswith("v1:")
    with app.app_context():
        assert totp.unseal(coordinator, stored) == secret
    with write_transaction():  # a sealed secret copied onto another account does not open there
        other = User.create(email="x@example.test", name="X", role="peer_worker", team=coordinator.team,
                            password_hash="x", totp_secret=stored)
    with app.app_context():
        assert totp.unseal(other, stored) is None


# --- the app's API -----------------------------------------------------------------------------------------

def test_api_sign_in_with_a_code(client, worker, coordinator, enrol):
    secret = enrol(worker)
    login = "/api/v1/auth/login"
    first = client.post(login, json={"email": worker.email, "password": PASSWORD})
    assert first.status_code == 401 and first.get_json()["code"] == "second_step_required"
    wrong = client.post(login, json={"email": worker.email, "password": PASSWORD, "one_time_code": "111111"})
    assert wrong.status_code == 401 and wrong.get_json()["code"] == "invalid_code"
    bad_password = client.post(login, json={"email": worker.email, "password": "nope-nope", "one_time_code": "1"})
    assert bad_password.get_json()["code"] == "invalid_credentials"
    ok = client.post(login, json={"email": worker.email, "password": PASSWORD, "one_time_code": _code(secret)})
    assert ok.status_code == 200 and ok.get_json()["user"]["role"] == "peer_worker"
    unset = client.post(login, json={"email": coordinator.email, "password": PASSWORD})
    assert unset.status_code == 403 and unset.get_json()["code"] == "second_step_setup_required"


def test_peer_workers_are_not_required(client, worker):
    assert form_login(client, worker).headers["Location"] == "/app/"


def test_optional_for_development(make_app, coordinator):
    relaxed = make_app(TOTP_REQUIRED=False)
    assert form_login(relaxed.test_client(), coordinator).headers["Location"] == "/coordinator/"


def test_production_refuses_to_make_it_optional():
    from server.config import Config, ConfigError

    cfg = Config.load({"ENV": "production", "SECRET_KEY": "k" * 40, "VAPID_PRIVATE_KEY": "x",
                       "DATABASE_URL": "postgresql://x/y", "TOTP_REQUIRED": False}, environ={})
    with pytest.raises(ConfigError, match="TOTP_REQUIRED"):
        cfg.check_production()


# --- the account page --------------------------------------------------------------------------------------

def account_post(client, url, **fields):
    html = client.get("/account/two-step").get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from_html(html), **fields})


def test_a_peer_worker_turns_it_on_and_off(app, client, worker):
    elsewhere = app.test_client()
    form_login(elsewhere, worker)
    form_login(client, worker)
    assert "<strong>Off.</strong>" in client.get("/account/two-step").get_data(as_text=True)
    assert client.get("/account/two-step/setup").status_code == 302  # not without re-authenticating
    refused = account_post(client, "/account/two-step/start", password="wrong-password-here")
    assert refused.status_code == 401
    started = account_post(client, "/account/two-step/start", password=PASSWORD)
    assert started.headers["Location"] == "/account/two-step/setup"
    secret = key_on(client.get("/account/two-step/setup").get_data(as_text=True))
    setup_html = client.get("/account/two-step/setup").get_data(as_text=True)
    done = client.post("/account/two-step/setup", data={"csrf_token": csrf_from_html(setup_html),
                                                        "one_time_code": _code(secret)})
    assert done.status_code == 200 and done.get_data(as_text=True).count("<code>") == 10
    assert User.get_by_id(worker.id).has_two_step
    assert elsewhere.get("/account/two-step").status_code == 302  # other sessions ended
    # off again: the password alone is not enough, a current code is needed too
    assert account_post(client, "/account/two-step/off", password=PASSWORD).status_code == 401
    off = account_post(client, "/account/two-step/off", password=PASSWORD, one_time_code=_code(secret, 1))
    assert off.status_code == 302 and not User.get_by_id(worker.id).has_two_step
    assert RecoveryCode.select().count() == 0
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.actor == worker.id)]
    assert "user.two_step_on" in actions and "user.two_step_off" in actions


def test_a_coordinator_cannot_turn_it_off_but_can_move_it(app, client, coordinator, enrol):
    secret = enrol(coordinator)
    form_login(client, coordinator)
    submit(client, "/login/code", one_time_code=_code(secret))
    page = client.get("/account/two-step").get_data(as_text=True)
    assert "cannot be turned off" in page and "/account/two-step/off" not in page
    refused = account_post(client, "/account/two-step/off", password=PASSWORD, one_time_code=_code(secret, 1))
    assert refused.status_code == 403 and User.get_by_id(coordinator.id).has_two_step
    moved = account_post(client, "/account/two-step/start", password=PASSWORD, one_time_code=_code(secret, 1))
    assert moved.status_code == 302
    new_secret = key_on(client.get("/account/two-step/setup").get_data(as_text=True))
    assert new_secret != secret
    html = client.get("/account/two-step/setup").get_data(as_text=True)
    client.post("/account/two-step/setup", data={"csrf_token": csrf_from_html(html),
                                                 "one_time_code": _code(new_secret)})
    with app.app_context():
        assert totp.unseal(coordinator, User.get_by_id(coordinator.id).totp_secret) == new_secret
    again = app.test_client()
    form_login(again, coordinator)
    assert submit(again, "/login/code", one_time_code=_code(secret, 2)).status_code == 401  # the old phone


def test_new_recovery_codes_replace_the_old(app, client, worker, enrol):
    from server.db import write_transaction

    secret = enrol(worker)
    with write_transaction():
        old = totp.new_recovery_codes(worker)
    client.post("/api/v1/auth/login", json={"email": worker.email, "password": PASSWORD,
                                            "one_time_code": _code(secret)})
    made = account_post(client, "/account/two-step/recovery-codes", password=PASSWORD,
                        one_time_code=_code(secret, 1))
    new = re.findall(r"<code>([a-z2-9-]{19})</code>", made.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert not totp.use_recovery_code(worker, old[0]) and totp.use_recovery_code(worker, new[0])


# --- resets ------------------------------------------------------------------------------------------------

def test_admin_resets_a_coordinator_a_coordinator_cannot(app, coordinator, make_user, enrol):
    secret = enrol(coordinator)
    colleague = make_user("coordinator", team=coordinator.team, name="Colleague")
    enrol(colleague, "KRUGS4ZANFZSAYLOMVQWK3DFONSWG5DF")
    helper = app.test_client()
    form_login(helper, colleague)
    submit(helper, "/login/code", one_time_code=_code("KRUGS4ZANFZSAYLOMVQWK3DFONSWG5DF"))
    assert post(helper, f"/coordinator/users/{coordinator.uuid}/two-step/reset").status_code == 403
    admin = make_user("admin", name="Admin")
    enrol(admin)
    admin_client = app.test_client()
    form_login(admin_client, admin)
    submit(admin_client, "/login/code", one_time_code=_code(secret))
    assert post(admin_client, f"/coordinator/users/{coordinator.uuid}/two-step/reset").status_code == 302
    assert not User.get_by_id(coordinator.id).has_two_step
    assert not UserSession.select().where((UserSession.user == coordinator.id)
                                          & UserSession.revoked_at.is_null()).exists()
    assert form_login(app.test_client(), coordinator).headers["Location"] == "/login/setup"


def test_command_line_reset_and_demo_way_through(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "two-step code coordinator@demo.alongside.test" in result.output
    current = runner.invoke(args=["two-step", "code", "coordinator@demo.alongside.test"]).output.strip()
    assert re.fullmatch(r"\d{6}", current)
    client = app.test_client()
    form_login(client, "coordinator@demo.alongside.test", password="demo-coordinator-1")
    assert submit(client, "/login/code", one_time_code=current).status_code == 302
    reset = runner.invoke(args=["two-step", "reset", "coordinator@demo.alongside.test"])
    assert reset.exit_code == 0 and "1 session(s) ended" in reset.output
    assert not User.get(User.email == "coordinator@demo.alongside.test").has_two_step


def test_printing_a_code_is_refused_in_production(make_app, coordinator, tmp_path, enrol):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    enrol(coordinator)
    production = make_app(ENV="production", VAPID_PRIVATE_KEY=pem, TOTP_REQUIRED=True)
    result = production.test_cli_runner().invoke(args=["two-step", "code", coordinator.email])
    assert result.exit_code != 0 and "Refused in production" in result.output
