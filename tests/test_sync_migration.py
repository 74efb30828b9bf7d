"""Migration 0002 (per-field change revs, conflict resolution, the pull's (parent, rev) indexes) on a database
that already holds people, goals, referrals and conflicts: rows keep their data, new columns get their defaults,
and a device can sync against the upgraded database at once."""

from __future__ import annotations

import importlib

import peewee

from server import db as dbmod


def test_0002_applies_over_existing_records(tmp_path):
    database = peewee.SqliteDatabase(str(tmp_path / "old.db"), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    assert "0002_sync_field_revs" in dbmod.migration_names()
    with database.connection_context():
        database.create_tables([dbmod.MigrationHistory])
        old = importlib.import_module("server.migrations.0001_initial")
        with database.atomic():
            old.up(dbmod.migrator_for(database), database)
            dbmod.MigrationHistory.create(name="0001_initial")
        team = old.Team.create(name="T")
        person = old.Person.create(team=team, display_name="Sam", rev=1)
        resource = old.Resource.create(name="Food bank", rev=2)
        old.Goal.create(person=person, title="Walk", rev=3)
        old.Referral.create(person=person, resource=resource, rev=4)
        old.Conflict.create(person=person, entity="person", record_id=person.uuid, field="status", rev=5)
        old.ChangeCounter.update(value=5).execute()

    ran = dbmod.upgrade()
    assert ran[0] == "0002_sync_field_revs"

    from server import sync
    from server.models import Conflict, Goal, Person, Referral, User

    with database.connection_context():
        assert Person.get().field_revs == "{}" and Person.get().display_name == "Sam"
        assert Goal.get().field_revs == "{}" and Referral.get().field_revs == "{}"
        assert Conflict.get().resolution == ""
        for table in ("visit", "goal", "referral", "conflict"):
            assert ("person_id", "rev") in {tuple(i.columns) for i in database.get_indexes(table)}, table
        assert ("goal_id", "rev") in {tuple(i.columns) for i in database.get_indexes("goal_progress")}
        assert ("visit_id", "rev") in {tuple(i.columns) for i in database.get_indexes("review")}
        coordinator = User.create(email="c@example.test", name="C", role="coordinator", team=Person.get().team_id,
                                  password_hash="unused")
        device = sync.register_device(coordinator, "Laptop")
        page = sync.pull_changes(coordinator, device, 0, 100)
        assert {c["entity"] for c in page["changes"]} == {"resource", "person", "goal", "referral", "conflict"}
        [result] = sync.apply_batch(coordinator, device, [{
            "id": "7d3abf09-c268-47ae-b931-963d9f47d5cc", "entity": "goal", "record_id": str(Goal.get().uuid),
            "op": "upsert", "base_rev": 3, "fields": {"title": "Walk daily"}}])
        assert result["status"] == "applied" and Goal.get().title == "Walk daily"
    assert dbmod.upgrade() == []
