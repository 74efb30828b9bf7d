"""One error shape under /api for every status; never an HTML page to the app, never a 500 leak."""

import pytest
from helpers import api_login

from server.errors import ApiError

SHAPE = {"code", "message", "errors"}


@pytest.fixture
def app_with_test_routes(make_app):
    app = make_app()

    @app.post("/api/v1/test/raise/<int:status>", endpoint="test_raise")
    def raise_status(status):
        if status == 500:
            raise RuntimeError("boom: internal detail")
        raise ApiError(status)

    return app


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500])
def test_api_errors_have_one_shape(app_with_test_routes, worker, status):
    client = app_with_test_routes.test_client()
    csrf = api_login(client, worker)
    response = client.post(f"/api/v1/test/raise/{status}", headers={"X-CSRF-Token": csrf})
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == SHAPE
    assert "boom" not in response.get_data(as_text=True)  # no internals leak


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.get("/api/v1/auth/login")
    assert response.status_code == 405
    assert set(response.get_json()) == SHAPE
    assert "POST" in response.headers["Allow"]


def test_huge_body_is_json_413(client):
    response = client.post("/api/v1/auth/login", data=b"x" * (3 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_malformed_json_is_clear(client):
    response = client.post("/api/v1/auth/login", data=b"{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.get_json()) == SHAPE


def test_html_pages_get_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_too_busy_to_write_answers_503_and_applies_nothing(client, worker, monkeypatch):
    """Another process holds SQLite's write lock for longer than a writer waits: a calm 503 with Retry-After
    (the phone keeps its outbox and tries again), not a 500; nothing half-applied; the retry goes through."""
    import fcntl
    import os

    from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields

    from server import db as dbmod
    from server.models import AppliedMutation, Visit

    person = person_on_caseload(worker)
    phone = HttpDevice(client, worker)
    batch = [mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(3)]
    monkeypatch.setattr(dbmod, "WRITE_WAIT_SECONDS", 0.2)
    fd = os.open(f"{dbmod.database.obj.database}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        response = client.post("/api/v1/sync/push", json={"device_id": phone.device_id, "mutations": batch},
                               headers={"X-CSRF-Token": phone.csrf})
    finally:
        os.close(fd)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert set(response.get_json()) == SHAPE and response.get_json()["code"] == "busy"
    assert Visit.select().count() == 0 and AppliedMutation.select().count() == 0
    assert [r["status"] for r in phone.push(batch)] == ["applied"] * 3


def test_no_free_database_connection_answers_503(app_with_test_routes, worker):
    from playhouse.pool import MaxConnectionsExceeded

    @app_with_test_routes.get("/api/v1/test/pool-exhausted", endpoint="test_pool_exhausted")
    def exhausted():
        raise MaxConnectionsExceeded("Exceeded maximum connections.")

    client = app_with_test_routes.test_client()
    api_login(client, worker)
    response = client.get("/api/v1/test/pool-exhausted")
    assert response.status_code == 503 and response.get_json()["code"] == "busy"
    assert "Exceeded" not in response.get_data(as_text=True)
