"""0050: security round 2. Two-step sign-in on user (sealed TOTP secret, a secret being set up, when it was
turned on, the last time step used) and one-time recovery codes; which sign-in sessions registered or used
which field device; sign-in throttle counts in the database; and applied_mutation (user_id, created_at), so the
audit page reads a team's synced changes newest first from an index. Frozen here: do not import server.models."""

import datetime as dt

import peewee
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

database = peewee.DatabaseProxy()


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    class Meta:
        table_name = "user"


class UserSession(BaseModel):
    class Meta:
        table_name = "user_session"


class Device(BaseModel):
    class Meta:
        table_name = "device"


class RecoveryCode(BaseModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    used_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "code_hash"), True),)


class SessionDevice(BaseModel):
    session = ForeignKeyField(UserSession, backref="+", on_delete="CASCADE")
    device = ForeignKeyField(Device, backref="+", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("session", "device"), True), (("device",), False))


class SignInThrottle(BaseModel):
    key = CharField(max_length=64, unique=True)
    window_start = DateTimeField(index=True)
    failures = IntegerField(default=0)


def up(migrator, db):
    from playhouse.migrate import migrate

    database.initialize(db)
    migrate(
        migrator.add_index("applied_mutation", ("user_id", "created_at"), False),
        migrator.add_column("user", "totp_secret", TextField(null=True)),
        migrator.add_column("user", "totp_pending", TextField(null=True)),
        migrator.add_column("user", "totp_enabled_at", DateTimeField(null=True)),
        migrator.add_column("user", "totp_last_step", IntegerField(null=True)),
    )
    db.create_tables([RecoveryCode, SessionDevice, SignInThrottle])
