"""0010: reminder settings (organisation-wide and per person), a short error note on each delivery
outcome, and an index for "this person's pending reminders". Frozen here: do not import server.models."""

import datetime as dt

import peewee
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

database = peewee.DatabaseProxy()


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Person(BaseModel):
    class Meta:
        table_name = "person"


class User(BaseModel):
    class Meta:
        table_name = "user"


class ReminderSetting(BaseModel):
    person = ForeignKeyField(Person, null=True, unique=True, backref="+", on_delete="CASCADE")
    evening_before = BooleanField(null=True)
    evening_time = CharField(max_length=5, null=True)
    hours_before = IntegerField(null=True)
    quiet_hours_start = CharField(max_length=5, null=True)
    quiet_hours_end = CharField(max_length=5, null=True)
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


def up(migrator, db):
    from playhouse.migrate import migrate

    database.initialize(db)
    db.create_tables([ReminderSetting])
    migrate(
        migrator.add_column("reminder_delivery", "error", CharField(max_length=200, default="")),
        migrator.add_index("reminder", ("person_id", "status"), False),
    )
