"""The read-only Open Referral UK feed (/api/oruk/v3): off by default, public, or behind a bearer token (a
setting); ORUK pages with page/per_page; one service in full, strictly valid; writes are not allowed."""

from __future__ import annotations

import pytest
from oruk_support import schema_errors
from test_coordinator_common import make_resource

from server.config import ConfigError
from server.models import Resource

TOKEN = "t" * 40


def test_off_by_default(app, client):
    make_resource("Cafe")
    response = client.get("/api/oruk/v3/services")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_public_pages_and_one_service(make_app):
    app = make_app(ORUK_FEED="public")
    client = app.test_client()
    with app.app_context():
        for i in range(5):
            make_resource(f"Service {i}", address_1="1 High St", city="Leeds", postcode="LS1 1AA")
        first = Resource.select().order_by(Resource.id).first()
    about = client.get("/api/oruk/v3/")
    assert about.get_json()["version"] == "3.0"
    page = client.get("/api/oruk/v3/services?page=2&per_page=2").get_json()
    assert {k: page[k] for k in ("total_items", "total_pages", "page_number", "size", "first_page", "last_page",
                                 "empty")} == {"total_items": 5, "total_pages": 3, "page_number": 2, "size": 2,
                                               "first_page": False, "last_page": False, "empty": False}
    assert [s["name"] for s in page["contents"]] == ["Service 2", "Service 3"]
    assert all(schema_errors(s) == [] for s in page["contents"])
    last = client.get("/api/oruk/v3/services?page=9&per_page=2").get_json()
    assert last["empty"] and last["last_page"] and last["contents"] == []
    full = client.get(f"/api/oruk/v3/services/{first.uuid}")
    assert full.status_code == 200 and schema_errors(full.get_json()) == []
    assert full.get_json()["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] == "LS1 1AA"
    assert full.headers["Cache-Control"] == "no-store"
    for bad in ("page=0", "per_page=500", "page=x", "per_page=-1"):
        response = client.get(f"/api/oruk/v3/services?{bad}")
        assert response.status_code == 400 and response.get_json()["code"] == "bad_request", bad
    assert client.get("/api/oruk/v3/services/not-a-uuid").status_code == 404
    assert client.get("/api/oruk/v3/services/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.post("/api/oruk/v3/services").status_code in (403, 405)  # read-only


def test_behind_a_token(make_app):
    app = make_app(ORUK_FEED="token", ORUK_FEED_TOKEN=TOKEN)
    client = app.test_client()
    assert client.get("/api/oruk/v3/services").status_code == 401
    assert client.get("/api/oruk/v3/services", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/api/oruk/v3/services", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.get_json()["total_items"] == 0


@pytest.mark.parametrize("settings", [{"ORUK_FEED": "sometimes"}, {"ORUK_FEED": "token", "ORUK_FEED_TOKEN": "short"}])
def test_a_bad_setting_stops_start_up(make_app, settings):
    with pytest.raises(ConfigError):
        make_app(**settings)
