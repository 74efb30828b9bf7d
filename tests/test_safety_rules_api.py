"""GET /api/v1/sync/rules: the field rules the phone caches (ETag = the rules' version), in the OpenAPI
document, for signed-in users only."""

from __future__ import annotations

from helpers import api_login

from server.sync.rules import rules_document


def test_rules_served_with_etag_and_304_when_unchanged(client, worker):
    assert client.get("/api/v1/sync/rules").status_code == 401
    api_login(client, worker)
    response = client.get("/api/v1/sync/rules")
    assert response.status_code == 200
    document = response.get_json()
    assert document == rules_document()
    assert response.headers["ETag"] == f'"{document["version"]}"'
    same = client.get("/api/v1/sync/rules", headers={"If-None-Match": response.headers["ETag"]})
    assert same.status_code == 304 and same.get_data() == b""
    other = client.get("/api/v1/sync/rules", headers={"If-None-Match": '"0000", garbage'})
    assert other.status_code == 200
    chime = document["entities"]["goal"]["fields"]["chime_tags"]
    assert chime["items"] == "string" and "hope" in chime["itemChoices"]
    assert document["entities"]["visit"]["fields"]["notes"]["maxLength"] == 10_000


def test_rules_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/sync/rules"]
    assert "304" in paths["/api/v1/sync/rules"]["get"]["responses"]
