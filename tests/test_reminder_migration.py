"""Migration 0010 (reminder settings, delivery error note, person+status index) on a database that already
holds reminders and deliveries: existing rows keep their data and get an empty error note."""

from __future__ import annotations

import datetime as dt
import importlib

import peewee

from server import db as dbmod


def test_0010_applies_over_existing_reminder_data(tmp_path):
    database = peewee.SqliteDatabase(str(tmp_path / "old.db"), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    names = dbmod.migration_names()
    assert "0010_reminder_settings" in names
    before = [n for n in names if n < "0010"]
    with database.connection_context():
        database.create_tables([dbmod.MigrationHistory])
        for name in before:
            module = importlib.import_module(f"server.migrations.{name}")
            with database.atomic():
                module.up(dbmod.migrator_for(database), database)
                dbmod.MigrationHistory.create(name=name)
        from server.models import Person, Team

        old = importlib.import_module("server.migrations.0001_initial")  # reminder tables as first shipped
        team = Team.create(name="T")
        person = Person.create(team=team, display_name="P")
        reminder = old.Reminder.create(person=person, kind="goal_step", body="Reminder: x",
                                       send_at=dt.datetime(2030, 1, 1, 12, 0))
        old.ReminderDelivery.create(reminder=reminder, outcome="delivered", http_status=201)

    assert dbmod.upgrade()[0] == "0010_reminder_settings"

    from server.models import ReminderDelivery, ReminderSetting

    with database.connection_context():
        delivery = ReminderDelivery.get()
        assert (delivery.outcome, delivery.http_status, delivery.error) == ("delivered", 201, "")
        assert ReminderSetting.select().count() == 0
        ReminderSetting.create(person=None, hours_before=3)
        indexes = {tuple(i.columns) for i in database.get_indexes("reminder")}
        assert ("person_id", "status") in indexes
        assert dbmod.upgrade() == []
