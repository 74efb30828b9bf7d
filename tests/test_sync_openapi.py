"""Each entity's pushed fields and pulled fields agree with the OpenAPI document (issue 11): every field a pull
sends is documented in <Entity>Record with its type and limits, every writable field (<Entity>Fields) is pulled
back, read-only fields are pulled but not writable, and a record pulled and pushed back unchanged is accepted."""

from __future__ import annotations

import copy

import jsonschema
from sync_support import HttpDevice, mutation, new_id, visit_fields
from test_coordinator_common import make_goal, make_person, make_resource, make_visit, post, sign_in

from server.db import write_transaction
from server.models import GoalProgress, Referral
from server.schemas import FIELD_SCHEMAS, PULLED_SCHEMAS, READ_ONLY_FIELDS, WRITE_ONLY_ENTITIES
from server.sync.revisions import next_rev


def _json_schema(component: dict) -> dict:
    """OpenAPI 3.0's `nullable` as JSON Schema; every documented property required, nothing else allowed."""
    schema = copy.deepcopy(component)
    for prop in schema["properties"].values():
        if prop.pop("nullable", False):
            prop["type"] = [prop["type"], "null"] if "type" in prop else None
            if "enum" in prop:
                prop["enum"] = [*prop["enum"], None]
            if prop["type"] is None:
                del prop["type"]
    schema["required"] = sorted(schema["properties"])
    schema["additionalProperties"] = False
    return schema


def test_pulled_and_pushed_fields_agree_with_the_document(app, worker, coordinator, team):
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    person = make_person(team, worker, name="Sam", preferred_contact="Text")
    goal = make_goal(person, worker, life_area="health")
    visit = make_visit(person, worker, notes="Walked", wellbeing=6, goal_ids=f'["{goal.uuid}"]')
    with write_transaction():
        GoalProgress.create(goal=goal, visit=visit, author=worker, rating=6, rev=next_rev())
        GoalProgress.create(goal=goal, visit=None, author=worker, rating=7, rev=next_rev())  # after a phone call
        Referral.create(person=person, resource=make_resource(), created_by=worker, rev=next_rev())
    pages = sign_in(app.test_client(), coordinator)
    assert post(pages, f"/coordinator/visits/{visit.uuid}/review", {"comment": "Thank you"}).status_code == 302
    phone, laptop = HttpDevice(client, worker), HttpDevice(app.test_client(), worker, "laptop")
    phone.pull_all()
    laptop.pull_all()
    rev = next(c["rev"] for c in phone.records.values() if c["entity"] == "goal")
    phone.push([mutation("goal", goal.uuid, {"title": "Walk daily"}, base_rev=rev)])
    laptop.push([mutation("goal", goal.uuid, {"title": "Walk to the park"}, base_rev=rev)])  # a conflict is kept
    [checked_in] = phone.push([mutation("check_in", new_id(), {  # a lone-working check-in (issue 14)
        "person_id": str(person.uuid), "visit_id": str(visit.uuid), "started_at": "2026-11-20T10:00:00+00:00",
        "expected_end_at": "2026-11-20T11:00:00+00:00", "place": "Flat 2"})])
    assert checked_in["status"] == "applied", checked_in

    changes = phone.pull_all() + HttpDevice(app.test_client(), coordinator, "coordinator").pull_all()
    by_entity = {}
    for change in changes:
        if not change["deleted"]:
            by_entity.setdefault(change["entity"], []).append(change)
    assert set(by_entity) == set(PULLED_SCHEMAS), set(PULLED_SCHEMAS) - set(by_entity)

    for entity, schema in PULLED_SCHEMAS.items():
        record = document[schema.__name__]
        validator = jsonschema.Draft7Validator(_json_schema(record))
        for change in by_entity[entity]:
            errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(change["fields"])]
            assert not errors, (entity, errors)
        pulled = set(record["properties"])
        read_only = set(READ_ONLY_FIELDS.get(entity, {}))
        if entity in FIELD_SCHEMAS and entity not in WRITE_ONLY_ENTITIES:
            name = "".join(part.title() for part in entity.split("_")) + "Fields"
            writable = set(document[name]["properties"])
            assert writable <= pulled, (entity, writable - pulled)  # whatever is written comes back
            assert read_only <= pulled - writable, entity  # shown, never written
            assert pulled - writable == read_only, (entity, pulled - writable - read_only)

    # A record pulled and pushed back whole (as the phone does when it edits) is accepted as it stands.
    echoes = []
    for entity in ("person", "visit", "goal", "goal_progress", "referral", "check_in"):
        change = next(c for c in by_entity[entity] if c["fields"].get("author_id") in (None, str(worker.uuid)))
        echoes.append(mutation(entity, change["record_id"], change["fields"], base_rev=change["rev"]))
    results = phone.push(echoes)
    assert [r["status"] for r in results] == ["applied"] * len(echoes), [r.get("errors") for r in results]
    [new] = phone.push([mutation("visit", new_id(), visit_fields(person.uuid))])
    assert new["status"] == "applied"
