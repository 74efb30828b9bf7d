"""The resource directory: create, edit, archive with revs that reach phones, and Open Referral UK /
HSDS import and export (JSON and CSV): good rows imported, a bad row reported and nothing half imported."""

from __future__ import annotations

import csv
import io
import json
import uuid

from test_coordinator_common import make_resource, post, sign_in

from server import sync
from server.models import AuditEvent, Resource
from server.sync.revisions import current_rev


def upload(client, content: str | bytes, filename: str, fmt: str = ""):
    data = content.encode() if isinstance(content, str) else content
    return post(client, "/coordinator/resources/import", {"file": (io.BytesIO(data), filename), "format": fmt},
                content_type="multipart/form-data")


def test_create_edit_archive_reach_phones(client, coordinator, worker):
    device = sync.register_device(worker, "Phone")
    cursor = sync.pull_changes(worker, device, 0, 500)["cursor"]
    sign_in(client, coordinator)
    response = post(client, "/coordinator/resources/new", {"name": "Men's Shed", "category": "Social connection",
                                                           "website": "https://shed.example", "phone": "0161 000"})
    assert response.status_code == 302
    shed = Resource.get(Resource.name == "Men's Shed")
    assert shed.rev > 0
    assert post(client, "/coordinator/resources/new", {"name": "Bad", "website": "javascript:alert(1)"}).status_code \
        == 400
    assert post(client, "/coordinator/resources/new", {"name": ""}).status_code == 400
    before = current_rev()
    post(client, f"/coordinator/resources/{shed.uuid}/edit", {"name": "Men's Shed", "category": "Wellbeing"})
    assert Resource.get_by_id(shed.id).category == "Wellbeing" and Resource.get_by_id(shed.id).rev > before
    post(client, f"/coordinator/resources/{shed.uuid}/archive", {"archived": "1"})
    assert Resource.get_by_id(shed.id).archived
    client.get("/coordinator/resources")  # shows the flash message once
    assert "Men&#39;s Shed" not in client.get("/coordinator/resources").get_data(as_text=True)
    assert "Men" in client.get("/coordinator/resources?show=archived").get_data(as_text=True)
    changes = sync.pull_changes(worker, device, cursor, 500)["changes"]
    pulled = [c for c in changes if c["entity"] == "resource" and c["record_id"] == str(shed.uuid)]
    assert pulled and pulled[-1]["rev"] == Resource.get_by_id(shed.id).rev
    actions = {e.action for e in AuditEvent.select().where(AuditEvent.record_id == str(shed.uuid))}
    assert actions == {"resource.create", "resource.edit", "resource.archive"}


SERVICES = {
    "total_items": 2,
    "contents": [
        {
            "id": "ext-food-bank-1", "name": "Northside Food Bank", "description": "Food parcels, no referral needed",
            "url": "https://food.example", "status": "active",
            "organization": {"id": "org-1", "name": "Northside Churches Together"},
            "contacts": [{"id": "c1", "phones": [{"id": "p1", "number": "0161 496 0000"}]}],
            "regular_schedules": [{"id": "s1", "description": "Tue and Fri 10:00-13:00"}],
            "service_areas": [{"id": "a1", "service_area": "Northside"}],
            "service_at_locations": [{"id": "sl1", "location": {"id": "l1", "name": "St Mark's Hall",
                                      "physical_addresses": [{"address_1": "1 Church Lane", "city": "Northside",
                                                              "postal_code": "NS1 2AB"}]}}],
            "service_taxonomys": [{"id": "t1", "taxonomy": {"id": "x", "name": "Money", "vocabulary": "local"}}],
        },
        {"id": str(uuid.UUID(int=5)), "name": "Walking Group", "status": "inactive", "url": ""},
    ],
}


def test_hsds_json_import_good_rows_and_round_trip(client, coordinator):
    sign_in(client, coordinator)
    response = upload(client, json.dumps(SERVICES), "services.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    food = Resource.get(Resource.name == "Northside Food Bank")
    assert food.address == "1 Church Lane, Northside, NS1 2AB" and food.phone == "0161 496 0000"
    assert food.category == "Money" and food.area == "Northside" and food.opening_hours.startswith("Tue")
    assert food.rev > 0 and not food.archived
    walking = Resource.get(Resource.uuid == uuid.UUID(int=5))
    assert walking.archived
    # importing the same file again updates in place (stable ids), it does not duplicate
    assert upload(client, json.dumps(SERVICES), "services.json").status_code == 200
    assert Resource.select().count() == 2

    exported = client.get("/coordinator/resources/export.json")
    doc = json.loads(exported.get_data(as_text=True))
    assert doc["total_items"] == 2 and len(doc["contents"]) == 2
    service = next(s for s in doc["contents"] if s["name"] == "Northside Food Bank")
    assert service["id"] == str(food.uuid)
    assert service["organization"]["name"] and service["service_at_locations"][0]["location"]["physical_addresses"]
    assert service["service_taxonomys"][0]["taxonomy"]["name"] == "Money"
    assert service["contacts"][0]["phones"][0]["number"] == "0161 496 0000"
    # the export imports back unchanged
    assert upload(client, json.dumps(doc), "again.json").status_code == 200
    assert Resource.get_by_id(food.id).address == food.address and Resource.select().count() == 2

    table = client.get("/coordinator/resources/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(table)))
    assert {r["name"] for r in rows} == {"Northside Food Bank", "Walking Group"}
    assert {"organization_name", "location_name", "address_1", "taxonomy"} <= set(rows[0])
    assert AuditEvent.select().where(AuditEvent.action == "resource.import").count() == 3


def test_hsds_bad_rows_are_reported_and_nothing_is_imported(client, coordinator):
    make_resource("Existing")
    sign_in(client, coordinator)
    before = (Resource.select().count(), current_rev())
    bad = {"contents": [
        {"name": "Good One", "url": "https://ok.example"},
        {"name": "", "url": "https://missing-name.example"},
        {"name": "Bad Link", "url": "ftp://files.example"},
        {"name": "Odd status", "status": "sleeping"},
        "not an object",
        {"name": "x" * 201},
        {"name": "Nul\u0000in the name"},
    ]}
    response = upload(client, json.dumps(bad), "bad.json")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    for label in ("Service 2", "Service 3", "Service 4", "Service 5", "Service 6", "Service 7"):
        assert label in html
    assert "Service 1" not in html
    assert (Resource.select().count(), current_rev()) == before

    good_csv = "id,name,url,taxonomy,address_1,status\n,Cafe,https://cafe.example,Social connection,2 High St,active\n"
    bad_csv = good_csv + ",Dup,https://x.example,,,\nabc,One,,,,\nabc,Two,,,,\n"
    response = upload(client, bad_csv, "dir.csv")
    assert response.status_code == 422
    assert "Row 5 (Two): the same id appears earlier" in response.get_data(as_text=True)
    assert Resource.select().count() == before[0]
    assert upload(client, good_csv, "dir.csv").status_code == 200
    assert Resource.get(Resource.name == "Cafe").address == "2 High St"

    for content, name in [("{not json", "x.json"), ("", "empty.json"), ("[]", "none.json"),
                          ("title\nno name column\n", "x.csv"), (b"\xff\xfe\x00bad", "x.csv"),
                          ('{"contents": 5}', "x.json")]:
        response = upload(client, content, name)
        assert response.status_code == 422, name
        assert 'role="alert"' in response.get_data(as_text=True)
    assert post(client, "/coordinator/resources/import", {}).status_code == 400
    assert upload(client, b"x" * (2 * 1024 * 1024 + 10), "big.json").status_code in (413, 422)
