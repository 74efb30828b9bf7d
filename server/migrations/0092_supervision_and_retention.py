"""0092: supervision sessions of peer workers (synced read-only to the worker's phone) and the register of
records erased or anonymised under the retention setting. Frozen here: do not import server.models."""

import datetime as dt
import uuid as uuidlib

import peewee
from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    UUIDField,
)

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


class SupervisionSession(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    rev = IntegerField(default=0, index=True)
    deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    worker = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    team = ForeignKeyField(Team, null=True, backref="+", on_delete="SET NULL")
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    held_on = DateField()
    kind = CharField(max_length=12, default="one_to_one")
    topics = TextField(default="")
    actions = TextField(default="")
    wellbeing = IntegerField(null=True)

    class Meta:
        indexes = ((("worker", "held_on"), False), (("worker", "rev"), False))


class ErasedRecord(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    person_uuid = UUIDField()
    action = CharField(max_length=10)
    closed_on = DateField(null=True)
    records = IntegerField(default=0)
    by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


def up(migrator, db):
    database.initialize(db)
    db.create_tables([SupervisionSession, ErasedRecord])
