"""MHSDS codes (issue 16, part 1): every code list the app uses against a copy of the NHS Data Dictionary; the
phone's words match; migration 0090 on data at the previous head (both engines) maps wrong codes by the words
the worker chose and re-stamps them so phones pull them; an old phone's old codes are mapped, not refused; the
contacts export's new columns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from pathlib import Path

from peewee import Table
from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields
from test_coordinator_common import make_person, make_visit, sign_in
from test_oruk_migration import fresh_database  # noqa: F401 - the fixture: an empty database on each engine

from server import codes
from server import db as dbmod
from server.local_time import to_local
from server.models import Visit

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY = json.loads((Path(__file__).parent / "mhsds_data" / "data_dictionary.json").read_text())["elements"]
LISTS = {
    "CONSULTATION MECHANISM (MENTAL HEALTH)": codes.CONSULTATION_MECHANISM,
    "ACTIVITY LOCATION TYPE CODE": codes.ACTIVITY_LOCATION_TYPE,
    "ATTENDED OR DID NOT ATTEND CODE": codes.ATTENDED_OR_DID_NOT_ATTEND,
    "CONSULTATION TYPE": codes.CONSULTATION_TYPE,
}


def test_every_code_is_the_data_dictionarys_with_its_meaning():
    for element, app_codes in LISTS.items():
        national = DICTIONARY[element]["codes"]
        for c in app_codes:
            assert c.code in national, (element, c.code)
            assert c.dictionary == national[c.code], (element, c.code)
    assert {"6", "7"} <= set(codes.VISIT_ATTENDANCE)
    # the labels that carried wrong codes now carry the right ones
    assert {codes.VISIT_LOCATIONS[new] for new in codes.LEGACY_LOCATIONS.values()} == {
        "Community venue", "Cafe or public place", "Other place"}
    assert not set(codes.LEGACY_LOCATIONS) & set(codes.VISIT_LOCATIONS)


def test_the_phone_shows_the_same_codes_and_words():
    text = (ROOT / "pwa" / "js" / "codes.js").read_text()

    def js_list(name):
        body = re.search(rf"export const {name} = \[(.*?)\];", text, re.S).group(1)
        return re.findall(r'\["([^"]+)", "([^"]+)"\]', body)

    assert js_list("MODES") == list(codes.VISIT_MODES.items())
    assert js_list("LOCATIONS") == list(codes.VISIT_LOCATIONS.items())
    assert js_list("ATTENDANCE") == list(codes.VISIT_ATTENDANCE.items())


def _last_id(database, table: str) -> int:
    return database.execute_sql(f'SELECT MAX(id) FROM "{table}"').fetchone()[0]


def test_0090_maps_stored_codes_and_restamps_them(fresh_database):  # noqa: F811
    dbmod.bind(fresh_database)
    dbmod.upgrade(until=[n for n in dbmod.migration_names() if n < "0090"][-1])
    now = dbmod.utcnow()
    with fresh_database.connection_context():
        t = Table("team", ("id", "uuid", "name", "created_at")).bind(fresh_database)
        t.insert(uuid=str(uuid.uuid4()), name="T", created_at=now).execute()
        team_id = _last_id(fresh_database, "team")
        u = Table("user", ("id", "uuid", "email", "name", "role", "active", "password_hash", "created_at",
                           "team_id")).bind(fresh_database)
        u.insert(uuid=str(uuid.uuid4()), email="w@x.test", name="W", role="peer_worker", active=True,
                           password_hash="x", created_at=now, team_id=team_id).execute()
        user_id = _last_id(fresh_database, "user")
        p = Table("person", ("id", "uuid", "rev", "deleted", "created_at", "updated_at", "team_id", "display_name",
                             "preferred_contact", "status", "reminders_opt_in", "added_in_field", "field_revs"))
        p.bind(fresh_database).insert(
            uuid=str(uuid.uuid4()), rev=1, deleted=False, created_at=now, updated_at=now, team_id=team_id,
            display_name="P", preferred_contact="", status="active", reminders_opt_in=False, added_in_field=False,
            field_revs="{}").execute()
        person_id = _last_id(fresh_database, "person")
        v = Table("visit", ("uuid", "rev", "deleted", "created_at", "updated_at", "person_id", "author_id",
                            "started_at", "duration_minutes", "mode", "location_type", "attendance", "group_session",
                            "notes", "goal_ids", "concern", "concern_notes", "concern_ack_note")).bind(fresh_database)
        stored = ["B01", "E01", "A04", "A01", "H01", "B01"]
        for i, code in enumerate(stored):
            v.insert(uuid=str(uuid.uuid4()), rev=2 + i, deleted=False, created_at=now, updated_at=now,
                     person_id=person_id, author_id=user_id, started_at=now, duration_minutes=60, mode="01",
                     location_type=code, attendance="5", group_session=False, notes="", goal_ids="[]",
                     concern="none", concern_notes="", concern_ack_note="").execute()
        fresh_database.execute_sql("UPDATE change_counter SET value = 7 WHERE name = 'changes'")
    assert "0090_mhsds_location_codes" in dbmod.upgrade(until="0090_mhsds_location_codes")
    with fresh_database.connection_context():
        rows = fresh_database.execute_sql("SELECT location_type, rev FROM visit ORDER BY id").fetchall()
        counter = fresh_database.execute_sql("SELECT value FROM change_counter").fetchone()[0]
    assert [r[0] for r in rows] == ["N03", "N02", "X01", "A01", "H01", "N03"]
    assert [r[1] for r in rows] == [8, 8, 8, 5, 6, 8]  # a phone at cursor 7 pulls every corrected visit
    assert counter == 8


def test_an_old_phone_pushing_old_codes_is_mapped_not_refused(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    new, changed = new_id(), new_id()
    results = phone.push([mutation("visit", new, visit_fields(person.uuid, location_type="E01")),
                          mutation("visit", changed, visit_fields(person.uuid, location_type="A01")),
                          mutation("visit", changed, {"location_type": "A04"}, base_rev=1),
                          mutation("visit", new_id(), visit_fields(person.uuid, location_type="Z99"))])
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected"]
    assert Visit.get(Visit.uuid == new).location_type == "N02"
    assert Visit.get(Visit.uuid == changed).location_type == "X01"
    phone.pull_all()
    assert phone.records[("visit", new)]["fields"]["location_type"] == "N02"


def test_contacts_export_adds_the_return_columns(make_app, make_user):
    app = make_app(MHSDS_ORG_ID="RX1", MHSDS_SITE_ID="RX1AB", MHSDS_TEAM_IDS="Team A=PEER01")
    client = app.test_client()
    with app.app_context():
        coordinator = make_user("coordinator")
        worker = make_user("peer_worker", team=coordinator.team)
        start = dt.date(2026, 1, 5)
        person = make_person(coordinator.team, worker, engagement_start=start)
        now = dbmod.utcnow().replace(microsecond=0)
        make_visit(person, worker, when=now - dt.timedelta(days=40), attendance="3")  # not attended: no contact
        first = make_visit(person, worker, when=now - dt.timedelta(days=30), attendance="6")
        later = make_visit(person, worker, when=now - dt.timedelta(days=2), location_type="N01")
    sign_in(client, coordinator)
    since = (now - dt.timedelta(days=60)).date().isoformat()
    response = client.get(f"/coordinator/exports/contacts.csv?from={since}&to={now.date().isoformat()}")
    rows = {r["CareContactId"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert rows[str(first.uuid)]["ConsType"] == "01" and rows[str(later.uuid)]["ConsType"] == "02"
    assert rows[str(first.uuid)]["ClinContDurOfCareCont"] == "60"  # 6: arrived late, but was seen
    for row in rows.values():
        assert row["ServiceRequestId"] == f"{person.uuid}-20260105"
        assert (row["CareProfTeamLocalId"], row["SiteIDOfTreat"], row["OrgIDProv"]) == ("PEER01", "RX1AB", "RX1")
    assert rows[str(later.uuid)]["ActLocTypeCode"] == "N01"
    with app.app_context():  # the contact's date and time of day in the organisation's time zone
        for visit in (first, later):
            local = to_local(visit.started_at)
            row = rows[str(visit.uuid)]
            assert (row["CareContDate"], row["CareContTime"]) == (local.date().isoformat(),
                                                                  local.strftime("%H:%M:%S"))
