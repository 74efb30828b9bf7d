"""0076: lone-working check-ins (issue 14), synced from the worker's phone. Frozen here: do not import
server.models."""

import datetime as dt
import uuid as uuidlib

import peewee
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField, UUIDField

database = peewee.DatabaseProxy()


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Team(BaseModel):
    pass


class User(BaseModel):
    pass


class Person(BaseModel):
    pass


class Visit(BaseModel):
    pass


class CheckIn(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    rev = IntegerField(default=0, index=True)
    deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    person = ForeignKeyField(Person, backref="+", on_delete="CASCADE")
    worker = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    team = ForeignKeyField(Team, null=True, backref="+", on_delete="SET NULL")
    visit = ForeignKeyField(Visit, null=True, backref="+", on_delete="SET NULL")
    started_at = DateTimeField()
    expected_end_at = DateTimeField()
    place = CharField(max_length=200, null=True)
    checked_out_at = DateTimeField(null=True)
    checked_out_received_at = DateTimeField(null=True)
    status = CharField(max_length=10, default="open")
    prompted_at = DateTimeField(null=True)
    escalated_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    outcome = CharField(max_length=20, default="")
    resolution_note = TextField(default="")

    class Meta:
        indexes = (
            (("status", "expected_end_at"), False),
            (("team", "started_at"), False),
            (("worker", "rev"), False),
        )


def up(migrator, db):
    database.initialize(db)
    db.create_tables([CheckIn])
