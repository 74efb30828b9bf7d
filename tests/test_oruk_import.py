"""Open Referral UK 3.0 import: each official example imports as the right thing or is refused with a clear
message; every 3.0 field we store is mapped, the rest is kept in the raw copy and exported again (still
strictly valid); statuses as the standard has them; a long service area no longer fails the file; the
tabular package imports; deeply nested JSON is a clear 400 (security review finding 9)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from oruk_support import HSDS_DIR, ORUK_DIR, load, schema_errors
from test_coordinator_common import sign_in
from test_coordinator_resources import upload

from server.coordinator.oruk import schedules as schedules_mod
from server.models import Resource

COUNSELLING = "ac148810-d857-441c-9679-408f346de14b"


def export_of(client, service_id: str) -> dict:
    doc = json.loads(client.get("/coordinator/resources/export.json").get_data(as_text=True))
    return next(s for s in doc["contents"] if s["id"] == service_id)


@pytest.mark.parametrize("folder", [HSDS_DIR, ORUK_DIR], ids=["hsds", "oruk"])
def test_official_full_service_maps_every_field_we_store(client, coordinator, folder):
    sign_in(client, coordinator)
    response = upload(client, (folder / "examples/service_full.json").read_text(), "one.json")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    r = Resource.get()
    assert (str(r.uuid), r.name, r.status, r.website) == (COUNSELLING, "Community Counselling", "active",
                                                          "http://example.com/counselling")
    assert r.organization_name == "Example Organization Inc." and r.organization_description.startswith("Example")
    line = "1-30 Main Street, MyVillage" if folder is HSDS_DIR else "1-30 Main Street"  # HSDS has address_2
    assert (r.address_1, r.city, r.county, r.postcode, r.country, r.location_type) == (
        line, "MyCity", "MyState", "ABC 1234", "US", "physical")
    assert r.address == f"{line}, MyCity, MyState, ABC 1234"
    weekly = schedules_mod.load(r.schedules)[0]
    assert (weekly["freq"], weekly["byday"], weekly["opens_at"], weekly["closes_at"]) == (
        "WEEKLY", "TH,FR", "10:00:00", "18:00:00")
    assert r.area == "" and r.category == "name"  # the example's area is 170 characters: kept whole, raw
    if folder is HSDS_DIR:  # ORUK 3.0's service has no phones at all
        assert r.phone == load(folder / "examples/service_full.json")["phones"][0]["number"]
    # the report says what was kept as it came and what the standard's UK profile leaves out
    assert "cost_options" in html and "funding" in html and "Kept as it came" in html
    service = export_of(client, COUNSELLING)
    assert schema_errors(service) == []
    original = load(folder / "examples/service_full.json")
    if folder is HSDS_DIR:  # HSDS fields the UK profile does not have are left out, and the report says so
        assert "cost_options.currency" in html and "alternate_name" in html
        for option in original["cost_options"]:
            option.pop("currency")
    for key in ("email", "fees", "accreditations", "minimum_age", "maximum_age", "alert", "cost_options",
                "funding"):
        assert service[key] == original[key], key
    assert service["service_areas"][0]["name"] == original["service_areas"][0]["name"]
    assert service["organization"]["id"] == original["organization"]["id"]
    location = service["service_at_locations"][0]["location"]
    assert location["id"] == original["service_at_locations"][0]["location"]["id"]
    assert location["latitude"] == 100 and location["external_identifier_type"] == "UPRN"
    assert location["addresses"][0]["attention"] == "A. Persona"


@pytest.mark.parametrize("folder", [HSDS_DIR, ORUK_DIR], ids=["hsds", "oruk"])
def test_official_service_page_imports(client, coordinator, folder):
    sign_in(client, coordinator)
    response = upload(client, (folder / "examples/service_list.json").read_text(), "page.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [r.name for r in Resource.select()] == ["Community Counselling"]


@pytest.mark.parametrize(("path", "kind"), [
    (HSDS_DIR / "examples/organization_full.json", "one organisation"),
    (HSDS_DIR / "examples/organization_list.json", "one organisation"),  # each example page holds one
    (HSDS_DIR / "examples/location.json", "one location"),
    (HSDS_DIR / "examples/service_at_location_full.json", "one service-at-location record"),
    (HSDS_DIR / "examples/taxonomy_list.json", "one taxonomy"),
    (HSDS_DIR / "examples/taxonomy_term.json", "one taxonomy term"),
    (ORUK_DIR / "examples/organization_list.json", "one organisation"),
    (ORUK_DIR / "examples/service_at_location_list.json", "one service-at-location record"),
], ids=lambda value: value.name if hasattr(value, "name") else None)
def test_files_that_are_not_services_are_refused_clearly(client, coordinator, path, kind):
    sign_in(client, coordinator)
    response = upload(client, path.read_text(), path.name)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"This file holds {kind}, not services" in html
    assert Resource.select().count() == 0


def test_a_mixed_file_reports_the_row_that_is_not_a_service(client, coordinator):
    sign_in(client, coordinator)
    organization = load(HSDS_DIR / "examples/organization_full.json")
    response = upload(client, json.dumps([{"name": "Cafe", "status": "active"}, organization]), "mixed.json")
    assert response.status_code == 422
    assert "Service 2: this is an organisation, not a service." in response.get_data(as_text=True)
    assert Resource.select().count() == 0


def test_statuses_as_the_standard_has_them(client, coordinator):
    sign_in(client, coordinator)
    services = [{"id": f"00000000-0000-0000-0000-00000000000{i}", "name": status, "status": status}
                for i, status in enumerate(Resource.STATUSES)]
    assert upload(client, json.dumps(services), "statuses.json").status_code == 200
    stored = {r.name: (r.status, r.archived) for r in Resource.select()}
    assert stored == {"active": ("active", False), "inactive": ("inactive", True),
                      "defunct": ("defunct", True), "temporarily closed": ("temporarily closed", True)}


def test_a_long_service_area_is_kept_in_the_raw_copy(client, coordinator):
    sign_in(client, coordinator)
    area = "All residents of the borough and the three neighbouring wards, " * 3
    service = {"id": COUNSELLING, "name": "Wide", "status": "active",
               "service_areas": [{"id": "381c64f1-a724-4884-9c21-ac96c21cca3e", "name": area}]}
    assert upload(client, json.dumps(service), "one.json").status_code == 200
    assert Resource.get().area == ""
    assert export_of(client, COUNSELLING)["service_areas"] == service["service_areas"]


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_official_tabular_example_imports(client, coordinator):
    sign_in(client, coordinator)
    files = {p.name: p.read_bytes() for p in (ORUK_DIR / "examples/csv").iterdir()}
    files["datapackage.json"] = (ORUK_DIR / "datapackage.json").read_bytes()
    response = upload(client, _zip(files), "oruk.zip")
    assert response.status_code == 200, response.get_data(as_text=True)
    r = Resource.get()
    assert (str(r.uuid), r.name, r.phone, r.postcode) == (COUNSELLING, "Community Counselling",
                                                          '"+44 1234 234567"', "ABC 1234")  # quotes as given
    assert r.organization_name == "Example Organization Inc."
    assert schema_errors(export_of(client, COUNSELLING)) == []


def test_a_package_without_services_is_refused(client, coordinator):
    sign_in(client, coordinator)
    organizations = (ORUK_DIR / "examples/csv/organizations.csv").read_bytes()
    response = upload(client, _zip({"organizations.csv": organizations}), "orgs.zip")
    assert response.status_code == 400
    assert "no services" in response.get_data(as_text=True) and Resource.select().count() == 0


def test_deeply_nested_json_is_a_clear_400(client, coordinator):
    sign_in(client, coordinator)
    for content in ("[" * 3000, "[" * 3000 + "]" * 3000, '{"contents": ' + "[" * 50 + "]" * 50 + "}"):
        response = upload(client, content, "deep.json")
        assert response.status_code == 400
        assert "nested more than 40 levels deep" in response.get_data(as_text=True)
    assert Resource.select().count() == 0


def test_the_import_page_reports_each_service(client, coordinator):
    sign_in(client, coordinator)
    services = [{"name": "Plain", "status": "active"},
                {"name": "Rich", "status": "active", "email": "hello@example.org", "program_id": "p1",
                 "alternate_name": "Also known as"}]
    html = upload(client, json.dumps(services), "two.json").get_data(as_text=True)
    assert "Imported 2 new and 0 updated" in html
    rows = html.split("<tbody>")[1]
    assert "Service 1: Plain</td><td>Added</td>\n    <td>Nothing</td><td>Nothing" in rows
    assert "Service 2: Rich</td><td>Added</td>\n    <td>email</td><td>alternate_name, program_id" in rows
