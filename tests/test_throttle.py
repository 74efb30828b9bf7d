"""Sign-in throttling (security findings 5 and 13): one atomic count per account and per address, in the
database, shared by the app's API, the /login form, the account page and every app server; concurrent guesses
cannot slip past it; the lock says when to try again."""

from __future__ import annotations

import threading

from helpers import PASSWORD, form_login

from server.models import AuditEvent, SignInThrottle
from server.throttle import wait_words

WRONG = "wrong-password-here"


def api(client, email, password, address="127.0.0.1"):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_concurrent_wrong_passwords_get_exactly_the_limit(app, worker):
    """40 guesses at once for one account: 5 are checked (401), every other one is refused unchecked (429)."""
    statuses: list[int] = []
    barrier = threading.Barrier(40)
    lock = threading.Lock()

    def guess(i):
        client = app.test_client()
        barrier.wait()
        # a different address each, so only the per-account count can stop them
        status = api(client, worker.email, f"{WRONG}-{i}", address=f"10.0.{i // 200}.{i % 200 + 1}").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [401] * 5 + [429] * 35
    assert AuditEvent.select().where(AuditEvent.action == "auth.login_failed").count() == 5


def test_the_two_sign_in_forms_share_one_count(app, worker):
    client = app.test_client()
    for _ in range(3):
        assert api(client, worker.email, WRONG).status_code == 401
    for _ in range(2):
        assert form_login(client, worker, password=WRONG).status_code == 401
    assert form_login(client, worker, password=WRONG).status_code == 429
    assert api(client, worker.email, PASSWORD, address="10.1.1.1").status_code == 429  # the account is locked


def test_web_failures_lock_the_api_and_per_address_across_accounts(app, worker, make_user):
    client = app.test_client()
    for i in range(5):
        assert form_login(client, f"nobody{i}@example.test", password=WRONG).status_code == 401
    assert api(client, worker.email, PASSWORD).status_code == 429  # same address
    assert api(client, worker.email, PASSWORD, address="10.2.2.2").status_code == 200


def test_the_right_password_waits_too_and_is_told_when(client, worker):
    for _ in range(5):
        api(client, worker.email, WRONG)
    blocked = api(client, worker.email, PASSWORD)
    assert blocked.status_code == 429
    body = blocked.get_json()
    assert body["code"] == "too_many_requests" and set(body) == {"code", "message", "errors"}
    wait = int(blocked.headers["Retry-After"])
    assert 45 <= wait <= 60
    assert f"Please wait {wait_words(wait)} and try again" in body["message"]  # "59 seconds", "1 minute"
    # the window ends: the lock lifts by itself
    _age_windows(61)
    assert api(client, worker.email, PASSWORD).status_code == 200


def _age_windows(seconds: int) -> None:
    import datetime as dt

    for row in SignInThrottle.select():
        row.window_start -= dt.timedelta(seconds=seconds)
        row.save()


def test_successes_give_their_slot_back(client, worker):
    for _ in range(4):
        api(client, worker.email, WRONG)
    for _ in range(10):
        assert api(client, worker.email, PASSWORD).status_code == 200
    assert api(client, worker.email, WRONG).status_code == 401  # the fifth failure is still allowed
    assert api(client, worker.email, PASSWORD).status_code == 429


def test_two_app_servers_share_the_count(make_app, worker):
    """Two app processes on one database (as behind a load balancer): failures on either count on both."""
    a, b = make_app().test_client(), make_app().test_client()
    for i in range(5):
        assert api(a if i % 2 else b, worker.email, WRONG).status_code == 401
    assert api(a, worker.email, PASSWORD).status_code == 429
    assert api(b, worker.email, PASSWORD).status_code == 429


def test_no_email_or_address_is_stored(client, worker):
    api(client, worker.email, WRONG, address="10.9.8.7")
    keys = [row.key for row in SignInThrottle.select()]
    assert len(keys) == 2 and all(len(k) == 64 for k in keys)
    assert not any(worker.email in k or "10.9.8.7" in k for k in keys)
