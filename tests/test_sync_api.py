"""The sync contract over HTTP (DESIGN.md): devices, push and pull, one test group per rule."""

from __future__ import annotations

import gzip
import json

from helpers import end_sessions
from sync_support import HttpDevice, make_resource, mutation, new_id, person_on_caseload, read_json, visit_fields

from server.db import utcnow, write_transaction
from server.models import Device, Person, Visit

ERROR_KEYS = {"code", "message", "errors"}


# --- devices ---------------------------------------------------------------------------------------

def test_register_device_returns_its_id(client, worker):
    phone = HttpDevice(client, worker)
    device = Device.get(Device.uuid == phone.device_id)
    assert device.user_id == worker.id and device.name == "phone"


def test_register_device_validates_name_and_needs_csrf(client, worker):
    from helpers import api_login

    token = api_login(client, worker)
    missing = client.post("/api/v1/devices", json={}, headers={"X-CSRF-Token": token})
    assert missing.status_code == 422 and set(missing.get_json()) == ERROR_KEYS
    assert "name" in missing.get_json()["errors"]
    long = client.post("/api/v1/devices", json={"name": "x" * 81}, headers={"X-CSRF-Token": token})
    assert long.status_code == 422
    no_csrf = client.post("/api/v1/devices", json={"name": "phone"})
    assert no_csrf.status_code == 403 and no_csrf.get_json()["code"] == "csrf_failed"


# --- rule 1: at most once ----------------------------------------------------------------------------

def test_rule1_resend_answers_duplicate_with_original_outcome(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    batch = [mutation("visit", new_id(), visit_fields(person.uuid)),
             mutation("visit", new_id(), visit_fields(person.uuid, duration_minutes=-5))]
    first = phone.push(batch)
    again = phone.push(batch)
    assert [r["status"] for r in first] == ["applied", "rejected"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["outcome"] for r in again] == ["applied", "rejected"]
    assert again[0]["rev"] == first[0]["rev"] and again[1]["errors"] == first[1]["errors"]
    assert Visit.select().count() == 1


# --- rule 2: in order, a rejection does not block ----------------------------------------------------

def test_rule2_batch_in_order_rejections_named_by_field(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    vid = new_id()
    results = phone.push([
        mutation("visit", vid, visit_fields(person.uuid, notes="one")),
        mutation("visit", new_id(), visit_fields(person.uuid, mode="zz")),
        mutation("goal", new_id(), {"person_id": str(person.uuid)}),
        mutation("visit", vid, {"notes": "two"}),
    ])
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert results[1]["errors"]["mode"][0].startswith("Must be one of")
    assert results[2]["errors"] == {"title": ["Missing data for required field."]}
    assert results[0]["rev"] < results[3]["rev"]
    assert Visit.get(Visit.uuid == vid).notes == "two"


def test_rule2_malformed_body_is_one_clear_422(client, worker):
    phone = HttpDevice(client, worker)
    response = client.post("/api/v1/sync/push", json={"device_id": phone.device_id, "mutations": ["x"]},
                           headers={"X-CSRF-Token": phone.csrf})
    assert response.status_code == 422 and set(response.get_json()) == ERROR_KEYS
    not_json = client.post("/api/v1/sync/push", data="{", content_type="application/json",
                           headers={"X-CSRF-Token": phone.csrf})
    assert not_json.status_code in (400, 422) and set(not_json.get_json()) == ERROR_KEYS


# --- rule 3: one change sequence --------------------------------------------------------------------

def test_rule3_revs_increase_and_cursor_never_skips(client, worker, make_user):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    revs = []
    for _ in range(4):
        revs += [r["rev"] for r in phone.push([mutation("visit", new_id(), visit_fields(person.uuid))
                                                for _ in range(3)])]
    assert revs == sorted(revs) and len(set(revs)) == 12
    seen = phone.pull_all(limit=5)
    visit_revs = sorted(c["rev"] for c in seen if c["entity"] == "visit")
    assert visit_revs == revs


# --- rule 4: scope, join and leave --------------------------------------------------------------------

def test_rule4_scope_join_and_purge(app, worker, coordinator, make_user):
    other = make_user("peer_worker")
    mine = person_on_caseload(worker, "Mine")
    theirs = person_on_caseload(other, "Theirs")
    make_resource()
    worker_phone = HttpDevice(app.test_client(), worker)
    other_phone = HttpDevice(app.test_client(), other)
    old_visit = new_id()
    other_phone.push([mutation("visit", old_visit, visit_fields(theirs.uuid))])
    worker_phone.pull_all()
    other_phone.pull_all()
    assert worker_phone.ids("person") == {str(mine.uuid)} and worker_phone.ids("visit") == set()
    assert len(worker_phone.ids("resource")) == 1
    with write_transaction():
        Person.get_by_id(theirs.id).reassign(worker, by=coordinator)
    worker_phone.pull_all()
    other_phone.pull_all()
    assert worker_phone.ids("person") == {str(mine.uuid), str(theirs.uuid)}
    assert worker_phone.ids("visit") == {old_visit}  # whole history, however old
    assert other_phone.ids("person") == set() and other_phone.ids("visit") == set()  # purged
    assert len(other_phone.ids("resource")) == 1


# --- rule 5: conflicts kept, visible, restorable ----------------------------------------------------------

def test_rule5_conflict_kept_seen_by_both_and_restored(app, worker, make_user):
    colleague = make_user("peer_worker", name="Worker Two")
    person = person_on_caseload(worker)
    with write_transaction():
        person.assign_to(colleague)
    a, b = HttpDevice(app.test_client(), worker), HttpDevice(app.test_client(), colleague)
    a.pull_all()
    b.pull_all()
    base = a.records[("person", str(person.uuid))]["rev"]
    [first] = a.push([mutation("person", person.uuid, {"preferred_contact": "text me"}, base_rev=base)])
    [second] = b.push([mutation("person", person.uuid, {"preferred_contact": "ring me"}, base_rev=base)])
    assert first["status"] == "applied" and second["status"] == "conflict"
    conflict_id = second["conflicts"][0]["id"]
    for phone in (a, b):
        phone.pull_all()
        shown = phone.records[("conflict", conflict_id)]["fields"]
        assert shown["lost_value"] == "text me" and shown["kept_value"] == "ring me"
        assert shown["target_entity"] == "person" and shown["target_id"] == str(person.uuid)
        assert phone.records[("person", str(person.uuid))]["fields"]["preferred_contact"] == "ring me"
    [restored] = a.push([mutation("conflict", conflict_id, {"action": "restore"})])
    assert restored["status"] == "applied"
    b.pull_all()
    assert b.records[("person", str(person.uuid))]["fields"]["preferred_contact"] == "text me"
    assert b.records[("conflict", conflict_id)]["fields"]["resolution"] == "restored"


def test_rule5_append_only_records_never_conflict(app, worker):
    person = person_on_caseload(worker)
    a, b = HttpDevice(app.test_client(), worker, "phone"), HttpDevice(app.test_client(), worker, "tablet")
    vid = new_id()
    a.push([mutation("visit", vid, visit_fields(person.uuid))])
    results = a.push([mutation("visit", vid, {"notes": "a"}, base_rev=1)]) + \
        b.push([mutation("visit", vid, {"notes": "b"}, base_rev=1)])
    assert [r["status"] for r in results] == ["applied", "applied"]


# --- rule 6: tombstones -----------------------------------------------------------------------------------

def test_rule6_delete_reaches_every_device(app, worker):
    person = person_on_caseload(worker)
    a, b = HttpDevice(app.test_client(), worker, "phone"), HttpDevice(app.test_client(), worker, "tablet")
    vid = new_id()
    a.push([mutation("visit", vid, visit_fields(person.uuid))])
    b.pull_all()
    assert b.ids("visit") == {vid}
    a.push([mutation("visit", vid, op="delete")])
    seen = b.pull_all()
    assert b.ids("visit") == set()
    assert [c for c in seen if c["record_id"] == vid][0]["deleted"] is True


# --- rule 7: limits -----------------------------------------------------------------------------------------

def test_rule7_oversized_batches_get_413(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    too_many = [mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(501)]
    body = phone.push(too_many, expect=413)
    assert body["code"] == "batch_too_large" and "500" in body["errors"]["mutations"][0]
    assert Visit.select().count() == 0
    huge = [mutation("visit", new_id(), visit_fields(person.uuid, notes="x" * 9000)) for _ in range(240)]
    body = phone.push(huge, expect=413)
    assert body["code"] == "payload_too_large" and set(body) == ERROR_KEYS
    halves = phone.push(huge[:120]) + phone.push(huge[120:])  # the client halves its batch
    assert {r["status"] for r in halves} == {"applied"}


def test_rule7_limit_is_configurable(make_app, make_user):
    app = make_app(MAX_BATCH_MUTATIONS=3)
    worker = make_user("peer_worker")
    phone = HttpDevice(app.test_client(), worker)
    person = person_on_caseload(worker)
    phone.push([mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(4)], expect=413)
    assert len(phone.push([mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(3)])) == 3


# --- rule 8: 401 keeps the outbox, revoked devices wipe ---------------------------------------------------

def test_rule8_signed_out_gets_401_and_nothing_is_applied(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    end_sessions(worker)  # e.g. timed out (signing out on purpose also retires the device: test_security_round2)
    response = client.post("/api/v1/sync/push", json={"device_id": phone.device_id, "mutations": [
        mutation("visit", new_id(), visit_fields(person.uuid))]}, headers={"X-CSRF-Token": phone.csrf})
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
    pulled = client.get("/api/v1/sync/pull", headers={"X-Device-Id": phone.device_id})
    assert pulled.status_code == 401
    assert Visit.select().count() == 0


def test_rule8_revoked_device_gets_device_revoked(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    Device.update(revoked_at=utcnow()).where(Device.uuid == phone.device_id).execute()
    body = phone.push([mutation("visit", new_id(), visit_fields(person.uuid))], expect=403)
    assert body["code"] == "device_revoked" and set(body) == ERROR_KEYS
    pulled = phone.pull_page()
    assert pulled.status_code == 403 and pulled.get_json()["code"] == "device_revoked"
    assert Visit.select().count() == 0


def test_someone_elses_device_id_is_refused(app, worker, make_user):
    phone = HttpDevice(app.test_client(), worker)
    thief = HttpDevice(app.test_client(), make_user("peer_worker"))
    response = thief.client.get("/api/v1/sync/pull", headers={"X-Device-Id": phone.device_id})
    assert response.status_code == 403 and response.get_json()["code"] == "unknown_device"


# --- pull details -------------------------------------------------------------------------------------------

def test_pull_is_gzipped_for_clients_that_accept_it(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    phone.push([mutation("visit", new_id(), visit_fields(person.uuid, notes="words " * 50)) for _ in range(10)])
    zipped = phone.pull_page(**{"Accept-Encoding": "gzip"})
    plain = phone.pull_page(**{"Accept-Encoding": "identity"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(zipped.get_data())) == plain.get_json()
    assert len(zipped.get_data()) < len(plain.get_data()) / 3
    assert zipped.headers["Cache-Control"] == "no-store"


def test_pull_arguments_are_validated(client, worker):
    phone = HttpDevice(client, worker)
    for query in ("cursor=-1", "limit=0", "limit=100000", "cursor=abc"):
        response = client.get(f"/api/v1/sync/pull?{query}", headers={"X-Device-Id": phone.device_id})
        assert response.status_code == 422 and set(response.get_json()) == ERROR_KEYS, query
    missing = client.get("/api/v1/sync/pull")
    assert missing.status_code == 422 and "X-Device-Id" in missing.get_json()["errors"]
    bad = client.get("/api/v1/sync/pull", headers={"X-Device-Id": "nope"})
    assert bad.status_code == 422


def test_pull_page_shape_matches_the_contract(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    phone.push([mutation("visit", new_id(), visit_fields(person.uuid))])
    page = read_json(phone.pull_page())
    assert set(page) == {"changes", "purge", "cursor", "more"}
    assert all(set(c) == {"entity", "record_id", "rev", "deleted", "fields"} for c in page["changes"])
    visit = next(c for c in page["changes"] if c["entity"] == "visit")
    assert visit["fields"]["started_at"] == "2026-11-20T10:00:00+00:00"
    assert visit["fields"]["person_id"] == str(person.uuid)


def test_openapi_documents_sync_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/devices", "/api/v1/sync/push", "/api/v1/sync/pull"} <= set(doc["paths"])
    push = doc["paths"]["/api/v1/sync/push"]["post"]
    assert {"200", "401", "403", "413", "422"} <= set(push["responses"])
    assert doc["components"]["schemas"]["Error"]["properties"]["code"]["type"] == "string"
    entities = {"PersonFields", "VisitFields", "GoalFields", "GoalProgressFields", "ReferralFields", "ConflictFields"}
    assert entities <= set(doc["components"]["schemas"])


def test_hostile_input_gets_clear_4xx_not_500(client, worker):
    phone = HttpDevice(client, worker)
    deep = '{"device_id": "' + phone.device_id + '", "mutations": [' + "[" * 50_000 + "]" * 50_000 + "]}"
    response = client.post("/api/v1/sync/push", data=deep, content_type="application/json",
                           headers={"X-CSRF-Token": phone.csrf})
    assert response.status_code == 400 and set(response.get_json()) == ERROR_KEYS
    [nul] = phone.push([mutation("person", new_id(), {"display_name": "a\u0000b"})])  # PostgreSQL refuses NUL
    assert nul["status"] == "rejected" and nul["errors"] == {"display_name": ["Must not contain NUL characters."]}
    device = client.post("/api/v1/devices", json={"name": "a\u0000b"}, headers={"X-CSRF-Token": phone.csrf})
    assert device.status_code == 422 and "name" in device.get_json()["errors"]
    login = client.post("/api/v1/auth/login", json={"email": "a\u0000b@example.test", "password": "x"})
    assert login.status_code == 422 and "email" in login.get_json()["errors"]
