"""Sync over HTTP: thin views over server/sync.py (push and pull, the contract in DESIGN.md).

Details the contract leaves open, as built (the OpenAPI document at /api/v1/openapi.json has the shapes):
- Push result: {"id", "status", "rev", "errors"} plus "code" (invalid | forbidden | not_found) when rejected,
  "conflicts": [{"id", "field"}] when a conflict was kept, and "outcome" (the original status) on a duplicate.
  `conflict` means applied: the later arrival won and the overwritten value was kept as a conflict record.
  Errors are {field: [reason, ...]}: names inside `fields`, or id / entity / record_id / op / base_rev.
- Pull change `fields` is the whole record (empty for a tombstone); ids of related records are *_id uuids, times
  are ISO 8601 with +00:00, dates YYYY-MM-DD. Read-only fields shown: person.reminders_opt_in, added_in_field,
  confirmed; visit.author_id, reviewed, concern_acknowledged; goal.achieved_at; goal_progress.person_id.
  Entities: person, visit, goal, goal_progress, referral, resource, review, conflict (parents first in a rev).
- A conflict pulls as entity "conflict" with fields person_id, target_entity, target_id, field, kept_value,
  lost_value, lost_by, won_by (names), created_at, resolution (null | restored | dismissed). Restore or dismiss it
  with a mutation {"entity": "conflict", "record_id": <conflict id>, "op": "upsert", "fields": {"action":
  "restore" | "dismiss"}}; a restore is itself a change (new rev) that every device pulls.
- `purge` lists the person who left the caseload and every record of theirs, each as {"entity", "record_id"}.
- Unknown or foreign device: 403 unknown_device (register again); revoked: 403 device_revoked (wipe).
"""

from __future__ import annotations

import gzip
import json

import orjson
from flask import Response, current_app, request
from flask_login import current_user
from flask_smorest import Blueprint

from .. import sync
from ..audit_reads import record_pull
from ..errors import ApiError
from ..extensions import ErrorSchema
from ..schemas import DeviceHeaderSchema, PullArgsSchema, PullSchema, PushResultSchema, PushSchema
from .devices import own_device

blp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync",
                description="Push the outbox and pull changes. Limits: at most MAX_BATCH_MUTATIONS (default 500) "
                            "mutations and MAX_REQUEST_BYTES (default 2 MB) per push, else 413.")

GZIP_MIN_BYTES = 1024
# Level 3: a 10,000-record first pull is 1.04 MB instead of 0.93 MB at level 6, for a quarter of the CPU.
GZIP_LEVEL = 3


def json_response(data) -> Response:
    """JSON with orjson (several times faster than the standard library on a page of changes); anything it will
    not write (a lone surrogate echoed in a refusal) falls back to the standard encoder."""
    try:
        body = orjson.dumps(data)
    except TypeError:
        body = json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status=200, mimetype="application/json")


@blp.record_once
def _document_entities(state) -> None:
    """Put each entity's writable `fields` (components VisitFields, ...) and its whole pulled record (components
    VisitRecord, ...) in the OpenAPI document, beside the push and pull that carry them."""
    from ..extensions import api
    from ..schemas import FIELD_SCHEMAS, PULLED_SCHEMAS

    known = api.spec.components.schemas
    for entity, schema in FIELD_SCHEMAS.items():
        name = "".join(part.title() for part in entity.split("_")) + "Fields"
        if name not in known:
            api.spec.components.schema(name, schema=schema)
    for schema in PULLED_SCHEMAS.values():
        name = schema.__name__
        if name not in known:
            api.spec.components.schema(name, schema=schema)


@blp.route("/push", methods=["POST"])
@blp.arguments(PushSchema)
@blp.response(200, PushResultSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in: keep the outbox and sign in again")
@blp.alt_response(403, schema=ErrorSchema,
                  description="device_revoked (wipe local data), unknown_device, or csrf_failed")
@blp.alt_response(413, schema=ErrorSchema, description="Too many mutations or bytes: halve the batch and retry")
@blp.alt_response(503, schema=ErrorSchema, description="busy: nothing was applied; keep the outbox, retry later")
def push(args):
    """Apply the device's outbox in order. Each mutation gets its own result: applied, duplicate (sent before;
    the original outcome is repeated), conflict (applied; an overwritten value was kept as a conflict record)
    or rejected (with errors per field). A rejected mutation never blocks the rest."""
    limit = current_app.config["ALONGSIDE"].MAX_BATCH_MUTATIONS
    if len(args["mutations"]) > limit:
        raise ApiError(413, "batch_too_large", f"At most {limit} mutations in one push; send smaller batches.",
                       {"mutations": [f"At most {limit} mutations per batch."]})
    device = own_device(args["device_id"])
    results = sync.apply_batch(current_user._get_current_object(), device, args["mutations"])
    return json_response({"results": results})  # already in PushResultSchema's shape: no second serialising


@blp.route("/pull", methods=["GET"])
@blp.arguments(PullArgsSchema, location="query")
@blp.arguments(DeviceHeaderSchema, location="headers")
@blp.response(200, PullSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="device_revoked (wipe local data) or unknown_device")
@blp.alt_response(503, schema=ErrorSchema, description="busy: retry later")
def pull(args, headers):
    """Changes in scope after `cursor`, oldest first, with `purge` for people who left the caseload.
    Repeat with the returned cursor while `more` is true. Gzip-compressed when the client accepts it."""
    user = current_user._get_current_object()
    device = own_device(headers["device_id"])
    page = sync.pull_changes(user, device, args["cursor"], args["limit"])
    record_pull(user, device, args["cursor"], page)  # a coordinator's device reading the team: audited
    response = json_response(page)
    body = response.get_data()
    response.vary.add("Accept-Encoding")
    if len(body) >= GZIP_MIN_BYTES and request.accept_encodings["gzip"] > 0:
        response.set_data(gzip.compress(body, compresslevel=GZIP_LEVEL))
        response.headers["Content-Encoding"] = "gzip"
    return response


@blp.route("/rules", methods=["GET"])
@blp.response(200, description="The field rules of every entity a device may write, read from the server's schemas "
                               "(the one copy): {\"version\", \"entities\": {entity: {\"fields\": {name: {type, "
                               "required, nullable, minLength, maxLength, minimum, maximum, choices, maxItems, "
                               "text}}, \"read_only\": [...]}}}. The field app caches it and refuses, before "
                               "saving, what the server would refuse. ETag is the version: send If-None-Match.")
@blp.alt_response(304, description="Not modified: the cached copy is current")
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def rules():
    """Field rules (lengths, ranges, choices, required fields) for the phone's forms (issue 14)."""
    from ..sync.rules import rules_document

    document = rules_document()
    etag = f'"{document["version"]}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = Response(status=304)
    else:
        response = json_response(document)
    response.headers["ETag"] = etag
    return response
