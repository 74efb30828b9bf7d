"""API fuzzing with schemathesis, in-process against /api/v1/openapi.json: every operation the document lists,
signed in through a session cookie plus the CSRF header as the field app is (a peer worker with a device and a
person on their caseload, and a coordinator). Bounded and deterministic. Every response must be documented
(status, content type, body schema) and none may be a 500. Each operation is also fuzzed with this session's own
ids in its path (its device, its person), so the requests reach the code behind the id checks; signing out comes
last.

Not checked: schemathesis' "negative data rejection". A push whose envelope is valid but whose mutations
are not gets 200 with a `rejected` result per mutation, by design (one bad mutation never blocks a batch)."""

from __future__ import annotations

import schemathesis
from helpers import api_login
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
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
EXAMPLES = 10
LAST = ("/api/v1/auth/logout", "POST")  # fuzzed last: it ends the session (and retires the device it used)


def _fuzz(operation, strategy, headers, cookies, examples=EXAMPLES):
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
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


def _operations(app) -> list[tuple[str, str]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    found = [(path, method.upper()) for path, ops in spec["paths"].items() for method in ops
             if method in ("get", "post", "put", "patch", "delete")]
    assert len(found) >= 20, found  # the whole API, not a hand-picked part of it
    return sorted(found, key=lambda op: op == LAST)


def _signed_in(client, user) -> tuple[dict, dict]:
    csrf = api_login(client, user)
    return {"X-CSRF-Token": csrf}, {"alongside_session": client.get_cookie("alongside_session").value}


def _own_ids(path: str, device_id: str, person_id: str) -> dict:
    ids = {}
    if "{device_id}" in path:
        ids["device_id"] = device_id
    if "{person_id}" in path:
        ids["person_id"] = person_id
    return ids


def _fuzz_operation(schema, path, method, headers, cookies, device_id, person_id, modes, examples=EXAMPLES):
    operation = schema[path][method]
    has_input = bool(operation.body or operation.path_parameters or operation.query or operation.headers)
    for mode in modes if has_input else [GenerationMode.POSITIVE]:
        try:
            _fuzz(operation, operation.as_strategy(generation_mode=mode), headers, cookies, examples)
        except Unsatisfiable:  # nothing in its input can be made invalid (e.g. one free-text path segment)
            assert mode == GenerationMode.NEGATIVE, (path, method)
    own = _own_ids(path, device_id, person_id)
    if own:  # the session's own device or person, so the requests get past the id checks
        _fuzz(operation, operation.as_strategy(path_parameters=own), headers, cookies, examples)
    if path == "/api/v1/sync/push":
        _fuzz(operation, operation.as_strategy().map(_with_device(device_id)), headers, cookies, examples)
    if path == "/api/v1/sync/pull":
        _fuzz(operation, operation.as_strategy(headers={"X-Device-Id": device_id}), headers, cookies, examples)


def test_the_whole_api_conforms_to_its_openapi_document(app, worker, coordinator):
    worker_client, coordinator_client = app.test_client(), app.test_client()
    headers, cookies = _signed_in(worker_client, worker)
    c_headers, c_cookies = _signed_in(coordinator_client, coordinator)
    device_id = worker_client.post("/api/v1/devices", json={"name": "fuzz"}, headers=headers).get_json()["device_id"]
    c_device = coordinator_client.post("/api/v1/devices", json={"name": "desk"}, headers=c_headers).get_json()[
        "device_id"]
    person_id = str(person_on_caseload(worker).uuid)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = _operations(app)
    for path, method in operations:
        if (path, method) == LAST:
            continue
        _fuzz_operation(schema, path, method, headers, cookies, device_id, person_id, list(GenerationMode))
        _fuzz_operation(schema, path, method, c_headers, c_cookies, c_device, person_id,
                        [GenerationMode.POSITIVE], examples=4)
    # still signed in and healthy afterwards, and the renames of this session's own device really applied
    assert worker_client.get("/api/v1/auth/me").status_code == 200
    assert Device.get(Device.uuid == device_id).name != "fuzz"
    _fuzz_operation(schema, *LAST, headers, cookies, device_id, person_id, [GenerationMode.POSITIVE])
    assert worker_client.get("/api/v1/auth/me").status_code == 401
