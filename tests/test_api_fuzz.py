"""API fuzzing with schemathesis, in-process against /api/v1/openapi.json: sign-in, devices, push and pull.
Bounded and deterministic. Every response must be documented (status, content type, body schema) and
none may be a 500. Signed in through a session cookie plus the CSRF header, as the field app is.

Not checked: schemathesis' "negative data rejection". A push whose envelope is valid but whose mutations
are not gets 200 with a `rejected` result per mutation, by design (one bad mutation never blocks a batch)."""

from __future__ import annotations

import schemathesis
from helpers import api_login
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sync_support import person_on_caseload

from server.models import Device

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20
OPERATIONS = [
    ("/api/v1/auth/login", "POST"),
    ("/api/v1/auth/me", "GET"),
    ("/api/v1/devices", "POST"),
    ("/api/v1/devices/{device_id}", "PATCH"),
    ("/api/v1/sync/push", "POST"),
    ("/api/v1/sync/pull", "GET"),
]


def _fuzz(operation, strategy, headers, cookies):
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)

    run()


def _with_device(device_id):
    def use(case):
        if isinstance(case.body, dict):
            case.body["device_id"] = device_id
        return case

    return use


def test_api_conforms_to_its_openapi_document(app, worker):
    client = app.test_client()
    csrf = api_login(client, worker)
    cookies = {"alongside_session": client.get_cookie("alongside_session").value}
    device_id = client.post("/api/v1/devices", json={"name": "fuzz"}, headers={"X-CSRF-Token": csrf}).get_json()[
        "device_id"]
    person_on_caseload(worker)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"X-CSRF-Token": csrf}
    for path, method in OPERATIONS:
        operation = schema[path][method]
        modes = [GenerationMode.POSITIVE] if path.endswith("/me") else list(GenerationMode)  # /me has no input
        for mode in modes:
            _fuzz(operation, operation.as_strategy(generation_mode=mode), headers, cookies)
        if path == "/api/v1/sync/push":  # also with this session's own device, so mutations really apply
            _fuzz(operation, operation.as_strategy().map(_with_device(device_id)), headers, cookies)
        if path == "/api/v1/devices/{device_id}":  # also this session's own device, so renames really apply
            _fuzz(operation, operation.as_strategy(path_parameters={"device_id": device_id}), headers, cookies)
        if path == "/api/v1/sync/pull":
            _fuzz(operation, operation.as_strategy(headers={"X-Device-Id": device_id}), headers, cookies)
    # still signed in and healthy afterwards, and the renames of this session's own device really applied
    assert client.get("/api/v1/auth/me").status_code == 200
    assert Device.get(Device.uuid == device_id).name != "fuzz"
