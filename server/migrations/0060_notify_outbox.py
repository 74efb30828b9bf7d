"""0060: the channel layer. One outbox of messages (template id + safe values) with a row per outcome;
people's consented phone numbers and email addresses (kept only while consent stands); consent per
channel with who recorded or withdrew it and why; staff push subscriptions (person optional, user added);
reminders keep their goal template and visit time so a message is built from them, never from text.
Existing reminders are backfilled. Frozen here: do not import server.models."""

import datetime as dt
import uuid as uuidlib

import peewee
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField, UUIDField

database = peewee.DatabaseProxy()

# Goal-step bodies as 0001-0010 wrote them, to find each old reminder's template.
GOAL_BODIES = {
    "step": "Reminder: the step you planned for today",
    "plan": "Reminder: the plan you made together",
    "call": "Reminder: the call you planned",
    "outing": "Reminder: the outing you planned",
    "group": "Reminder: the group you chose to try",
}


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


class Consent(BaseModel):
    class Meta:
        table_name = "consent"


class PushSubscription(BaseModel):
    class Meta:
        table_name = "push_subscription"


class Reminder(BaseModel):
    class Meta:
        table_name = "reminder"


class ContactPoint(BaseModel):
    person = ForeignKeyField(Person, backref="+", on_delete="CASCADE")
    channel = CharField(max_length=10)
    address = CharField(max_length=254)
    consent = ForeignKeyField(Consent, backref="+", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("person", "channel"), True),)


class OutboxMessage(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    channel = CharField(max_length=10)
    transport = CharField(max_length=12)
    template = CharField(max_length=40)
    template_values = TextField(default="{}")
    source = CharField(max_length=20, default="")
    dedupe_key = CharField(max_length=120, null=True, unique=True)
    person = ForeignKeyField(Person, null=True, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")
    subscription = ForeignKeyField(PushSubscription, null=True, backref="+", on_delete="SET NULL")
    contact = ForeignKeyField(ContactPoint, null=True, backref="+", on_delete="SET NULL")
    reminder = ForeignKeyField(Reminder, null=True, backref="+", on_delete="CASCADE")
    urgency = CharField(max_length=10, default="normal")
    due_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)
    state = CharField(max_length=10, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("state", "due_at"), False), (("person", "state"), False), (("user", "state"), False))


class OutboxAttempt(BaseModel):
    message = ForeignKeyField(OutboxMessage, backref="+", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    outcome = CharField(max_length=12)
    http_status = IntegerField(null=True)
    error = CharField(max_length=200, default="")
    provider_id = CharField(max_length=64, default="")


def up(migrator, db):
    from playhouse.migrate import migrate

    database.initialize(db)
    migrate(
        migrator.add_column("consent", "channel", CharField(max_length=10, default="webpush")),
        migrator.add_column("consent", "recorded_by_id",
                            ForeignKeyField(User, null=True, field=User.id, on_delete="SET NULL")),
        migrator.add_column("consent", "withdrawn_by_id",
                            ForeignKeyField(User, null=True, field=User.id, on_delete="SET NULL")),
        migrator.add_column("consent", "withdrawn_reason", CharField(max_length=20, default="")),
        migrator.add_column("push_subscription", "user_id",
                            ForeignKeyField(User, null=True, field=User.id, on_delete="CASCADE")),
        migrator.drop_not_null("push_subscription", "person_id"),
        migrator.add_column("reminder", "template", CharField(max_length=20, default="")),
        migrator.add_column("reminder", "visit_at", DateTimeField(null=True)),
    )
    db.create_tables([ContactPoint, OutboxMessage, OutboxAttempt])
    db.execute_sql("UPDATE reminder SET visit_at = (SELECT visit.next_visit_at FROM visit "
                   "WHERE visit.id = reminder.visit_id) WHERE visit_id IS NOT NULL")
    for template, body in GOAL_BODIES.items():
        db.execute_sql("UPDATE reminder SET template = %s WHERE kind = 'goal_step' AND body = %s"
                       .replace("%s", db.param), (template, body))
    db.execute_sql("UPDATE reminder SET template = 'custom' WHERE kind = 'goal_step' AND template = ''")
