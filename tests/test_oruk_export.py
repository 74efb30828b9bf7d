"""Open Referral UK 3.0 export: every service validates strictly under both official compiled schemas (HSDS
3.0 and ORUK 3.0), for the demo directory and for edge cases; the tabular package validates with frictionless
against the official datapackage.json; formula protection only in the "for spreadsheets" CSV; round trips of
our own files are exact (JSON, package and spreadsheet)."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from frictionless import validate
from oruk_support import ORUK_DIR, schema_errors
from test_coordinator_common import make_resource, sign_in
from test_coordinator_resources import upload

from server.demo import seed_demo
from server.models import Resource

EDGE_CASES = [
    {"name": "Minimal"},
    {"name": "No website", "website": "", "phone": "0161 000 0000", "location_type": "virtual"},
    {"name": '"Quoted" =HYPERLINK("http://evil.example")', "description": "=1+2 and 'single' and \"double\"",
     "category": "@SUM(A1)", "phone": "+44 161 000 0002", "opening_hours": "-1 every day", "area": "+area"},
    {"name": "Defunct one", **Resource.status_values("defunct"), "address_1": "1 Church Lane", "city": "Northside",
     "county": "Greater Manchester", "postcode": "NS1 2AB", "organization_name": "Churches Together",
     "organization_description": "Local churches",
     "schedules": json.dumps([{"freq": "WEEKLY", "interval": 1, "byday": "MO,TU", "opens_at": "09:00:00",
                               "closes_at": "17:00:00"}])},
    {"name": "Temporarily closed", **Resource.status_values("temporarily closed"), "location_type": "postal",
     "address_1": "PO Box 7", "city": "Leeds", "county": "West Yorkshire", "postcode": "LS1 1AA",
     "website": "https://example.org/path?q=1&x=%20"},
    {"name": "Ünïcödé café ☕", "description": "Line one\nLine two", "area": "x" * 120},
]


def exported(client) -> dict:
    response = client.get("/coordinator/resources/export.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def test_every_demo_service_validates_strictly(client, coordinator):
    seed_demo()
    sign_in(client, coordinator)
    doc = exported(client)
    assert doc["version"] == "3.0" and doc["total_items"] == len(doc["contents"]) == 30
    for service in doc["contents"]:
        assert schema_errors(service) == [], service["name"]


def test_edge_cases_validate_strictly(client, coordinator):
    for fields in EDGE_CASES:
        make_resource(**{"category": "", **fields})
    sign_in(client, coordinator)
    services = {s["name"]: s for s in exported(client)["contents"]}
    assert len(services) == len(EDGE_CASES)
    for name, service in services.items():
        assert schema_errors(service) == [], name
    assert "url" not in services["No website"]  # an empty website is left out, never "url": ""
    assert services["Defunct one"]["status"] == "defunct"
    assert services["Temporarily closed"]["status"] == "temporarily closed"
    weekly = services["Defunct one"]["schedules"][0]
    assert (weekly["freq"], weekly["byday"], weekly["opens_at"]) == ("WEEKLY", "MO,TU", "09:00:00")
    location = services["Temporarily closed"]["service_at_locations"][0]["location"]
    assert location["location_type"] == "postal"
    assert location["addresses"][0]["state_province"] == "West Yorkshire"
    assert services["Minimal"]["organization"]["description"] == "Minimal"  # required: falls back to the name
    assert services['"Quoted" =HYPERLINK("http://evil.example")']["description"].startswith("=1+2")  # data as is


def _package(client, tmp_path):
    response = client.get("/coordinator/resources/export-oruk.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    folder = tmp_path / "package"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        archive.extractall(folder)
    return response.data, folder


def test_tabular_package_validates_with_frictionless(client, coordinator, tmp_path):
    seed_demo()
    for fields in EDGE_CASES:
        make_resource(**{"category": "", **fields})
    sign_in(client, coordinator)
    _, folder = _package(client, tmp_path)
    assert (folder / "datapackage.json").read_bytes() == (ORUK_DIR / "datapackage.json").read_bytes()
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:10]
    services = list(csv.DictReader((folder / "services.csv").open(encoding="utf-8")))
    assert len(services) == 36
    quoted = next(r for r in services if r["name"].startswith('"Quoted"'))
    assert quoted["description"].startswith("=1+2")  # the package is data: no apostrophes added
    phones = list(csv.DictReader((folder / "phones.csv").open(encoding="utf-8")))
    assert "+44 161 000 0002" in {p["number"] for p in phones}
    # the address table needs every part (line, town, county, postcode): a partial address stays in the JSON only
    addresses = list(csv.DictReader((folder / "address.csv").open(encoding="utf-8")))
    assert {a["postal_code"] for a in addresses} == {"NS1 2AB", "LS1 1AA"}


def test_formula_protection_only_in_the_spreadsheet_download(client, coordinator):
    make_resource(**{"category": "", **EDGE_CASES[2]})
    sign_in(client, coordinator)
    response = client.get("/coordinator/resources/export.csv")
    assert "for-spreadsheets" in response.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["description"].startswith("'=1+2") and row["phone"] == "'+44 161 000 0002"
    assert row["taxonomy"] == "'@SUM(A1)"


def _wipe():
    Resource.delete().execute()


def test_round_trips_are_exact(client, coordinator):
    make_resource("Typical", address="12 High Street, Northside, Cheshire, CW1 1AA", address_1="12 High Street",
                  city="Northside", county="Cheshire", postcode="CW1 1AA",
                  phone="0161 496 0000", opening_hours="Mon-Fri 10:00-16:00", area="Northside",
                  description="Free and open to all.")
    for fields in EDGE_CASES:
        make_resource(**{"category": "", **fields})
    sign_in(client, coordinator)
    first = exported(client)
    before = {r.uuid: r.__data__ for r in Resource.select()}
    package = client.get("/coordinator/resources/export-oruk.zip").data
    sheet = client.get("/coordinator/resources/export.csv").data

    def plain(row):  # an imported schedule keeps the id the file gave it; the rest must be identical
        return {**row, "schedules": [{k: v for k, v in item.items() if k != "id"}
                                     for item in json.loads(row["schedules"])]}

    before = {key: plain(row) for key, row in before.items()}

    def same_fields():
        after = {r.uuid: plain(r.__data__) for r in Resource.select()}
        assert after.keys() == before.keys()
        skip = {"id", "rev", "created_at", "updated_at", "address", "oruk_extra"}
        for key, row in before.items():
            assert {k: v for k, v in after[key].items() if k not in skip} == {
                k: v for k, v in row.items() if k not in skip}, row["name"]

    for content, name in ((json.dumps(first), "back.json"), (package, "back.zip"), (sheet, "back.csv")):
        _wipe()
        response = upload(client, content, name)
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        if name != "back.csv":  # the sheet carries only what a spreadsheet shows, not the weekly times
            same_fields()
            assert exported(client)["contents"] == first["contents"], name
