"""0070: staff alerts (server/safety/): one row per alert raised, with when it escalated, was acknowledged and
resolved, and the outcome; how each coordinator chose to be told; and a visit's concern outcome (synced to the
worker's phone with the acknowledgement). One open alert per (kind, subject): a partial unique index.
Frozen here: do not import server.models."""

import datetime as dt
import uuid as uuidlib

import peewee
from peewee import SQL, BooleanField, CharField, DateTimeField, ForeignKeyField, TextField, UUIDField

# A default in the database too: an app server still on the previous release (or an older migration's test)
# inserts rows without the new column.
EMPTY = [SQL("DEFAULT ''")]

database = peewee.DatabaseProxy()


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Team(BaseModel):
    class Meta:
        table_name = "team"


class User(BaseModel):
    class Meta:
        table_name = "user"


class Person(BaseModel):
    class Meta:
        table_name = "person"


class StaffAlert(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    team = ForeignKeyField(Team, backref="+", on_delete="CASCADE")
    kind = CharField(max_length=20)
    subject_uuid = UUIDField()
    worker = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    person = ForeignKeyField(Person, null=True, backref="+", on_delete="SET NULL")
    level = CharField(max_length=4, default="")
    raised_at = DateTimeField(default=utcnow)
    escalate_at = DateTimeField()
    escalated_at = DateTimeField(null=True)
    acknowledged_at = DateTimeField(null=True)
    acknowledged_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    outcome = CharField(max_length=20, default="")
    note = TextField(default="")

    class Meta:
        indexes = ((("escalated_at", "escalate_at"), False), (("team", "raised_at"), False))


class StaffAlertChoice(BaseModel):
    user = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    by_push = BooleanField(default=False)
    by_email = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)


def up(migrator, db):
    from playhouse.migrate import migrate

    database.initialize(db)
    db.create_tables([StaffAlert, StaffAlertChoice])
    # open alerts only: a resolved alert does not stop a new one for the same subject
    db.execute_sql("CREATE UNIQUE INDEX staff_alert_kind_subject_uuid ON staff_alert (kind, subject_uuid) "
                   "WHERE resolved_at IS NULL")
    migrate(migrator.add_column("visit", "concern_outcome", CharField(max_length=20, default="", constraints=EMPTY)))
