"""Migration 0010 (reminder settings, delivery error note, person+status index) on a database that already
holds reminders and deliveries: existing rows keep their data and get an empty error note."""

from __future__ import annotations

import datetime as dt
import importlib

import peewee
from helpers import create_as_was

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
        person = create_as_was(Person, team=team, display_name="P")  # later migrations add person columns
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


def test_0060_backfills_reminders_and_keeps_consents_and_subscriptions(tmp_path):
    """0060 (the channel layer) over reminders, consents and subscriptions as they were: visit reminders get
    their visit's time, goal steps their template (custom where the text was typed), consents the webpush
    channel; a subscription may now belong to a staff user instead of a person."""
    database = peewee.SqliteDatabase(str(tmp_path / "old.db"), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    assert "0060_notify_outbox" in dbmod.migration_names()
    dbmod.upgrade(until="0059")
    old = importlib.import_module("server.migrations.0001_initial")
    from server.models import Person, Team, User, Visit

    with database.connection_context():
        team = Team.create(name="T")
        user = create_as_was(User, email="w@example.test", name="W", role="peer_worker", team=team, password_hash="x")
        person = create_as_was(Person, team=team, display_name="P")  # later migrations add columns
        visit = create_as_was(Visit, person=person, author=user, started_at=dt.datetime(2030, 1, 1, 9),
                                 next_visit_at=dt.datetime(2030, 1, 8, 10))
        old.Reminder.create(person=person, kind="visit_soon", visit=visit, body="Reminder: your visit is today",
                            send_at=dt.datetime(2030, 1, 8, 8))
        old.Reminder.create(person=person, kind="goal_step", body="Reminder: the call you planned",
                            send_at=dt.datetime(2030, 1, 3, 12))
        old.Reminder.create(person=person, kind="goal_step", body="Reminder: walk the dog",
                            send_at=dt.datetime(2030, 1, 4, 12))
        old.Consent.create(person=person, text_version="2026-11-r1")
        old.PushSubscription.create(person=person, endpoint="https://fcm.googleapis.com/x", endpoint_hash="h",
                                    p256dh="k", auth="a")

    assert dbmod.upgrade()[0] == "0060_notify_outbox"  # and any later migrations

    from server.models import Consent, OutboxMessage, PushSubscription, Reminder

    with database.connection_context():
        reminders = list(Reminder.select().order_by(Reminder.id))
        assert reminders[0].visit_at == dt.datetime(2030, 1, 8, 10)
        assert [r.template for r in reminders] == ["", "call", "custom"]
        assert Consent.get().channel == "webpush" and Consent.get().withdrawn_reason == ""
        assert PushSubscription.get().person_id is not None
        PushSubscription.create(user=User.get(), endpoint="https://fcm.googleapis.com/y", endpoint_hash="h2",
                                p256dh="k", auth="a")
        assert OutboxMessage.select().count() == 0
        assert dbmod.upgrade() == []
