"""Migration 0040 (Open Referral UK fields on resource) on a database that already holds resources, on SQLite
and PostgreSQL: the status follows the archived flag, the location type whether there is an address, and the
structured address is split out of the free text (a UK postcode found wherever it stands); the free text and
everything else stay as they were."""

from __future__ import annotations

import uuid

import peewee
import pytest
from peewee import Table

from server import db as dbmod

ADDRESSES = {
    "Cafe": ("12 High Street, Northside", ("12 High Street", "Northside", "", "")),
    "Bank": ("Unit 3, Mill Lane\nLeeds ls11aa", ("Unit 3, Mill Lane", "Leeds", "", "LS1 1AA")),
    "Hall": ("St Mark's Hall, 1 Church Lane, Northside, NS1 2AB", ("St Mark's Hall, 1 Church Lane", "Northside",
                                                                   "", "NS1 2AB")),
    "Line": ("Helpline only", ("Helpline only", "", "", "")),
    "Online": ("", ("", "", "", "")),
}


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        database = peewee.SqliteDatabase(str(tmp_path / "old.db"), pragmas=dbmod.SQLITE_PRAGMAS)
        yield database
        database.close()
        return
    import psycopg2

    url = request.getfixturevalue("postgres_url")
    base, name = url.rsplit("/", 1)
    fresh = f"{name}_m{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{fresh}"')
    database = dbmod.make_database(f"{base}/{fresh}", None)
    yield database
    dbmod.dispose()
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
    admin.close()


def test_0040_fills_the_new_fields_from_todays_data(fresh_database):
    dbmod.bind(fresh_database)
    before = [n for n in dbmod.migration_names() if n < "0040"]
    dbmod.upgrade(until=before[-1])
    resource = Table("resource", ("uuid", "name", "address", "archived", "rev", "deleted", "created_at",
                                  "updated_at", "category", "description", "phone", "website", "opening_hours",
                                  "area"))
    with fresh_database.connection_context():
        table = resource.bind(fresh_database)
        for i, (name, (address, _)) in enumerate(ADDRESSES.items()):
            table.insert(uuid=str(uuid.uuid4()), name=name, address=address, archived=(name == "Line"), rev=i + 1,
                         deleted=False, created_at=dbmod.utcnow(), updated_at=dbmod.utcnow(), category="",
                         description="", phone="", website="", opening_hours="", area="").execute()
    assert "0040_resource_oruk" in dbmod.upgrade()

    from server.models import Resource

    with fresh_database.connection_context():
        rows = {r.name: r for r in Resource.select()}
        for name, (address, parts) in ADDRESSES.items():
            r = rows[name]
            assert r.address == address  # what phones show is unchanged
            assert (r.address_1, r.city, r.county, r.postcode) == parts, name
            assert r.country == "GB" and r.schedules == "[]" and r.oruk_extra == ""
            assert r.location_type == ("virtual" if name == "Online" else "physical")
            assert (r.status, r.archived) == (("inactive", True) if name == "Line" else ("active", False))
    assert dbmod.upgrade() == []
