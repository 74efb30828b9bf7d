"""peewee models for every record Alongside keeps. Public ids are client-made UUIDs (`uuid`); the
integer primary keys never leave the server. Times are naive UTC. Domain behaviour lives here."""

from __future__ import annotations

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

from .codes import VISIT_ATTENDANCE, VISIT_LOCATIONS, VISIT_MODES  # noqa: F401 - re-exported
from .db import database, utcnow

ROLES = ("peer_worker", "coordinator", "admin")
PERSON_STATUSES = ("active", "paused", "closed")
CONCERN_LEVELS = ("none", "low", "high")
GOAL_STATUSES = ("active", "achieved", "paused", "closed")
REFERRAL_STATUSES = ("suggested", "made", "attended", "not_taken_up", "closed")


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SyncedModel(BaseModel):
    """A record that devices hold: a public UUID, the change-sequence `rev` of its last change,
    and a tombstone flag so that deletes reach every device."""

    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    rev = IntegerField(default=0, index=True)
    deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Team(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    name = CharField(max_length=120, unique=True)
    created_at = DateTimeField(default=utcnow)


class User(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    email = CharField(max_length=254, unique=True)  # stored lower-case
    name = CharField(max_length=120)
    role = CharField(max_length=20, choices=[(r, r) for r in ROLES])
    team = ForeignKeyField(Team, null=True, backref="users", on_delete="RESTRICT")
    active = BooleanField(default=True)
    password_hash = CharField(max_length=255)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    # Two-step sign-in (server/totp.py): the authenticator's secret, sealed with a key derived from the app's
    # secret key; a secret being set up waits in totp_pending until its first code proves the app has it.
    totp_secret = TextField(null=True)
    totp_pending = TextField(null=True)
    totp_enabled_at = DateTimeField(null=True)
    totp_last_step = IntegerField(null=True)  # the last time step used: a code works once
    work_phone = CharField(max_length=30, default="")  # lone working follow-up (0075; server/work_phone.py)

    # flask-login: the session's id is the server-side session token, not the user's key,
    # so revoking the token (logout, deactivation) makes any copy of the cookie useless.
    session = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session.token if self.session else None

    @property
    def is_coordinator(self) -> bool:
        return self.role in ("coordinator", "admin")

    def public(self) -> dict:
        return {"id": str(self.uuid), "name": self.name, "role": self.role}

    @property
    def has_two_step(self) -> bool:
        return self.totp_enabled_at is not None


class UserSession(BaseModel):
    """One sign-in. Several may be open at once (phone and laptop); each is revocable on its own."""

    token = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    kind = CharField(max_length=10, default="web")  # web | device
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "revoked_at"), False),)


class Person(SyncedModel):
    team = ForeignKeyField(Team, backref="people", on_delete="RESTRICT")
    display_name = CharField(max_length=120)
    preferred_contact = CharField(max_length=200, default="")
    engagement_start = DateField(null=True)
    planned_end = DateField(null=True)
    status = CharField(max_length=10, default="active")
    reminders_opt_in = BooleanField(default=False)
    added_in_field = BooleanField(default=False)  # a worker met them in the field: coordinator to confirm
    confirmed_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    quiet_hours_start = CharField(max_length=5, null=True)  # "21:00" local; null = organisation default
    quiet_hours_end = CharField(max_length=5, null=True)
    field_revs = TextField(default="{}")  # sync: JSON {field: [rev, device_id, user_id]} of each field's last change
    # Endings and handovers (0080): closed with a reason (codes.CLOSED_REASONS) and a summary written with the
    # person; a coordinator's handover note for the next worker; the did-not-attend count (server/attendance.py).
    closed_at = DateField(null=True)
    closed_reason = CharField(max_length=20, default="")
    ending_summary = TextField(default="")
    handover_note = TextField(default="")
    missed_in_a_row = IntegerField(default=0)

    class Meta:
        indexes = ((("team", "status"), False),)

    def assign_to(self, worker: User, by: User | None = None) -> CaseloadAssignment:
        """Put this person on a worker's caseload (idempotent). Call inside db.write_transaction():
        the new row's rev makes the worker's next pull carry the person's whole history."""
        from .sync.revisions import next_rev

        current = (CaseloadAssignment.select()
                   .where((CaseloadAssignment.person == self)
                          & (CaseloadAssignment.worker == worker)
                          & CaseloadAssignment.ended_at.is_null())
                   .first())
        if current is not None:
            return current
        return CaseloadAssignment.create(person=self, worker=worker, assigned_by=by, rev=next_rev())

    def unassign(self, worker: User) -> int:
        """Take this person off a worker's caseload; their next pull lists the person in `purge`."""
        from .sync.revisions import next_rev

        open_rows = (CaseloadAssignment.select()
                     .where((CaseloadAssignment.person == self)
                            & (CaseloadAssignment.worker == worker)
                            & CaseloadAssignment.ended_at.is_null()))
        count = 0
        for row in open_rows:
            row.ended_at = utcnow()
            row.rev = next_rev()
            row.save(only=[CaseloadAssignment.ended_at, CaseloadAssignment.rev])
            count += 1
        return count

    def reassign(self, worker: User, by: User | None = None) -> CaseloadAssignment:
        """Move the person to one worker: every other open assignment ends."""
        for other in list(self.current_workers()):
            if other.id != worker.id:
                self.unassign(other)
        return self.assign_to(worker, by)

    def current_workers(self):
        return (
            User.select()
            .join(CaseloadAssignment, on=CaseloadAssignment.worker)
            .where(
                (CaseloadAssignment.person == self)
                & (CaseloadAssignment.ended_at.is_null())
            )
        )


class CaseloadAssignment(BaseModel):
    """Who walks alongside whom, with history. An open row (ended_at null) puts the person in the
    worker's sync scope; `rev` is stamped when the row starts and again when it ends."""

    person = ForeignKeyField(Person, backref="assignments", on_delete="CASCADE")
    worker = ForeignKeyField(User, backref="assignments", on_delete="RESTRICT")
    assigned_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    rev = IntegerField(default=0, index=True)

    class Meta:
        indexes = (
            (("worker", "ended_at"), False),
            (("person", "ended_at"), False),
        )


class Resource(SyncedModel):
    """The shared, coordinator-curated directory of community resources."""

    name = CharField(max_length=200)
    category = CharField(max_length=80, default="")
    description = TextField(default="")
    address = TextField(default="")
    phone = CharField(max_length=60, default="")
    website = CharField(max_length=500, default="")
    opening_hours = TextField(default="")
    area = CharField(max_length=120, default="")
    archived = BooleanField(default=False)  # what phones see: true for every status but "active"
    # Open Referral UK 3.0 (migration 0040): the structured address beside the free-text one, the
    # organisation, the location type, weekly schedules as data, the standard's status, and the JSON of
    # whatever an imported service carried that we do not store (so a later export does not lose it).
    status = CharField(max_length=20, default="active")
    organization_name = CharField(max_length=200, default="")
    organization_description = TextField(default="")
    location_type = CharField(max_length=10, default="physical")
    address_1 = CharField(max_length=200, default="")
    city = CharField(max_length=100, default="")
    county = CharField(max_length=100, default="")
    postcode = CharField(max_length=10, default="")
    country = CharField(max_length=2, default="GB")
    schedules = TextField(default="[]")
    oruk_extra = TextField(default="")

    STATUSES = ("active", "inactive", "defunct", "temporarily closed")
    LOCATION_TYPES = ("physical", "postal", "virtual")

    @staticmethod
    def status_values(status: str) -> dict:
        """The one rule tying the standard's status to the archived flag phones read."""
        return {"status": status, "archived": status != "active"}

    def address_parts(self) -> list[str]:
        return [p for p in (self.address_1, self.city, self.county, self.postcode) if p]


class Visit(SyncedModel):
    # No index of their own (0094): the indexes below that begin with person or author serve them.
    person = ForeignKeyField(Person, backref="visits", on_delete="CASCADE", index=False)
    author = ForeignKeyField(User, backref="visits", on_delete="RESTRICT", index=False)
    started_at = DateTimeField()
    duration_minutes = IntegerField(default=60)
    mode = CharField(max_length=2, default="01")
    location_type = CharField(max_length=3, default="A01")
    attendance = CharField(max_length=1, default="5")
    group_session = BooleanField(default=False)
    notes = TextField(default="")
    goal_ids = TextField(default="[]")  # JSON list of goal UUIDs discussed
    wellbeing = IntegerField(null=True)
    concern = CharField(max_length=4, default="none")
    concern_notes = TextField(default="")
    next_visit_at = DateTimeField(null=True)
    reviewed_at = DateTimeField(null=True)
    reviewed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    concern_ack_at = DateTimeField(null=True)
    concern_ack_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    concern_ack_note = TextField(default="")
    concern_outcome = CharField(max_length=20, default="")  # codes.CONCERN_OUTCOMES, set on acknowledgement (0070)
    # Correcting mistakes (0080): voided by its author with a reason (a tombstone that stays visible, out of
    # reports); edited_at is the author's last edit, so an edit after review shows as changed since review.
    voided_at = DateTimeField(null=True)
    voided_reason = TextField(default="")
    edited_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("author", "started_at"), False),
            (("started_at",), False),
            (("concern", "concern_ack_at"), False),
            (("person", "rev"), False),  # sync pull: a person's history, in change order
            (("reviewed_at", "started_at"), False),  # coordinator: not yet reviewed, newest first (0020)
            # coordinator reports read a team's counted visits from this index alone (0020; voided_at since 0095);
            # a person's visits by time read it too (0094 dropped the (person, started_at) index that only
            # repeated its start)
            (("person", "started_at", "deleted", "author", "attendance", "mode", "duration_minutes", "concern",
              "voided_at"), False),
        )


class Goal(SyncedModel):
    person = ForeignKeyField(Person, backref="goals", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    title = CharField(max_length=300)
    life_area = CharField(max_length=60, default="")
    steps = TextField(default="")
    status = CharField(max_length=10, default="active")
    target_date = DateField(null=True)
    achieved_at = DateTimeField(null=True)
    field_revs = TextField(default="{}")  # sync: see Person.field_revs
    chime_tags = TextField(default="[]")  # JSON list of codes.CHIME, chosen with the person (0091)

    class Meta:
        indexes = ((("person", "status"), False), (("person", "rev"), False))


class GoalProgress(SyncedModel):
    goal = ForeignKeyField(Goal, backref="progress", on_delete="CASCADE", index=False)  # see Meta (0094)
    visit = ForeignKeyField(Visit, null=True, backref="progress", on_delete="SET NULL")
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    rating = IntegerField()
    note = TextField(default="")
    rated_by = CharField(max_length=10, default="")  # codes.RATED_BY: person | together; "" before 0091

    class Meta:
        indexes = (
            (("goal", "rev"), False),
            (("goal", "created_at", "rating", "deleted"), False),  # coordinator reports: progress change (0021)
        )


class Referral(SyncedModel):
    person = ForeignKeyField(Person, backref="referrals", on_delete="CASCADE")
    resource = ForeignKeyField(Resource, backref="referrals", on_delete="RESTRICT")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    status = CharField(max_length=15, default="suggested")
    notes = TextField(default="")
    follow_up_at = DateTimeField(null=True)
    field_revs = TextField(default="{}")  # sync: see Person.field_revs

    class Meta:
        indexes = ((("person", "status"), False), (("person", "rev"), False))


class Review(SyncedModel):
    """A coordinator's feedback on a visit; syncs to the worker's phone and shows on the visit."""

    visit = ForeignKeyField(Visit, backref="reviews", on_delete="CASCADE")
    reviewer = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    comment = TextField(default="")

    class Meta:
        indexes = ((("visit", "rev"), False),)


class Device(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    user = ForeignKeyField(User, backref="devices", on_delete="CASCADE")
    name = CharField(max_length=80)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(null=True)
    last_sync_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    revoked_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    wrap_key = TextField(null=True)  # per-device key that unwraps the phone's data key after online sign-in


class AppliedMutation(BaseModel):
    """Every mutation a device pushed, once: the unique mutation id is the idempotency key, and the
    stored outcome is what a re-send is answered with."""

    mutation_id = UUIDField(unique=True)
    device = ForeignKeyField(Device, backref="mutations", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE", index=False)  # see Meta (0094)
    entity = CharField(max_length=30)
    record_id = UUIDField()
    status = CharField(max_length=10)  # applied | conflict | rejected
    rev = IntegerField(null=True)
    result = TextField(default="{}")  # JSON: errors, conflict ids
    content_hash = CharField(max_length=32, null=True)  # sync.envelope.digest: same id, other content is refused
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "created_at"), False),)  # the audit page: a worker's synced changes (0050)


class ChangeCounter(BaseModel):
    """The single change sequence. Incremented inside the writing transaction (row-locked), so revs
    become visible in commit order and a pull cursor never skips a change."""

    name = CharField(primary_key=True, max_length=30)
    value = IntegerField(default=0)


class Conflict(SyncedModel):
    """A field value overwritten by a later arrival. Kept so nobody's edit is lost silently."""

    person = ForeignKeyField(Person, null=True, backref="conflicts", on_delete="CASCADE")
    entity = CharField(max_length=30)
    record_id = UUIDField()
    field = CharField(max_length=60)
    kept_value = TextField(null=True)  # JSON of the value now on the record
    lost_value = TextField(null=True)  # JSON of the value that was overwritten
    lost_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    won_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    resolution = CharField(max_length=10, default="")  # "" open | restored | dismissed

    class Meta:
        indexes = ((("entity", "record_id"), False), (("person", "rev"), False))


class AuditEvent(BaseModel):
    """Who did or viewed what, when. Never health details: ids and action names only."""

    at = DateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    action = CharField(max_length=60)  # e.g. person.view, visit.review, user.deactivate
    entity = CharField(max_length=30, default="")
    record_id = CharField(max_length=64, default="")
    team = ForeignKeyField(Team, null=True, backref="+", on_delete="SET NULL")
    detail = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("actor", "at"), False), (("entity", "record_id"), False), (("team", "at"), False))

    @classmethod
    def record(cls, actor, action, entity="", record_id="", team=None, detail=""):
        return cls.create(
            actor=actor,
            action=action,
            entity=entity,
            record_id=str(record_id or ""),
            team=team if team is not None else getattr(actor, "team", None),
            detail=detail[:200],
        )


# --- reminders for people supported -------------------------------------------------------------

class Invite(BaseModel):
    """A single-use opt-in link for a person supported. Only the token's hash is stored."""

    token_hash = CharField(max_length=64, unique=True)
    person = ForeignKeyField(Person, backref="invites", on_delete="CASCADE")
    created_by = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class ReminderDevice(BaseModel):
    """The person's own phone, known by a long-lived random cookie (hash stored), no password."""

    token_hash = CharField(max_length=64, unique=True)
    person = ForeignKeyField(Person, backref="reminder_devices", on_delete="CASCADE")
    label = CharField(max_length=80, default="")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class Consent(BaseModel):
    """One consent to one channel (webpush on a phone, sms, email): given, and perhaps withdrawn. Kept as
    history after a stop; the phone number or email address itself is not (see ContactPoint)."""

    person = ForeignKeyField(Person, backref="consents", on_delete="CASCADE")
    device = ForeignKeyField(ReminderDevice, null=True, backref="consents", on_delete="SET NULL")
    text_version = CharField(max_length=20)
    given_at = DateTimeField(default=utcnow)
    withdrawn_at = DateTimeField(null=True)
    channel = CharField(max_length=10, default="webpush")  # webpush | sms | email (0060)
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")  # in person, by a worker
    withdrawn_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    withdrawn_reason = CharField(max_length=20, default="")  # person_page | person_request | contact_gone


class PushSubscription(BaseModel):
    """A browser's Web Push subscription: a person supported's phone, or (user set, person null) a staff
    member's browser for staff alerts (0060)."""

    person = ForeignKeyField(Person, null=True, backref="push_subscriptions", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="push_subscriptions", on_delete="CASCADE")
    device = ForeignKeyField(ReminderDevice, null=True, backref="subscriptions", on_delete="CASCADE")
    endpoint = TextField()
    endpoint_hash = CharField(max_length=64, unique=True)
    p256dh = CharField(max_length=200)
    auth = CharField(max_length=100)
    created_at = DateTimeField(default=utcnow)
    last_success_at = DateTimeField(null=True)


class Reminder(BaseModel):
    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    person = ForeignKeyField(Person, backref="reminders", on_delete="CASCADE")
    kind = CharField(max_length=20)  # visit_evening | visit_soon | goal_step
    visit = ForeignKeyField(Visit, null=True, backref="reminders", on_delete="CASCADE")
    goal = ForeignKeyField(Goal, null=True, backref="reminders", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    body = CharField(max_length=120)  # shown only on the person's own /r/ page, never sent
    template = CharField(max_length=20, default="")  # goal_step: which safe template (0060)
    visit_at = DateTimeField(null=True)  # visit reminders: the visit's time, a safe template value (0060)
    send_at = DateTimeField()
    # pending | queued (handed to the outbox, 0060) | sending, sent (before 0060) | failed | missed | cancelled
    status = CharField(max_length=10, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("status", "send_at"), False), (("person", "status"), False))


class ReminderDelivery(BaseModel):
    """Push outcomes as recorded before the channel layer (0060); kept as history, no longer written:
    every outcome now goes to OutboxAttempt."""

    reminder = ForeignKeyField(Reminder, backref="deliveries", on_delete="CASCADE")
    subscription = ForeignKeyField(PushSubscription, null=True, backref="deliveries", on_delete="SET NULL")
    at = DateTimeField(default=utcnow)
    outcome = CharField(max_length=20)  # delivered | gone | retry | failed | missed | cancelled | no_device
    http_status = IntegerField(null=True)
    error = CharField(max_length=200, default="")  # never a key, a name or a payload


class ReminderSetting(BaseModel):
    """Reminder timing: the organisation row (person null) and per-person rows; null = inherit.
    Per-person quiet hours live on Person; the organisation's quiet hours live here."""

    person = ForeignKeyField(Person, null=True, unique=True, backref="+", on_delete="CASCADE")
    evening_before = BooleanField(null=True)
    evening_time = CharField(max_length=5, null=True)  # "18:00" local
    hours_before = IntegerField(null=True)  # 0 = no "soon" reminder
    quiet_hours_start = CharField(max_length=5, null=True)
    quiet_hours_end = CharField(max_length=5, null=True)
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


# --- security: second factor, sessions' devices, sign-in throttling (server/totp.py, auth.py, throttle.py) ---

class RecoveryCode(BaseModel):
    """A one-time code that stands in for the authenticator app. Only its SHA-256 is stored (80 random bits)."""

    user = ForeignKeyField(User, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    used_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "code_hash"), True),)


class SessionDevice(BaseModel):
    """A sign-in session that registered or used a field device. Revoking the device ends these sessions; a
    new sign-in that uses the device ends the device's earlier sessions."""

    session = ForeignKeyField(UserSession, backref="device_links", on_delete="CASCADE")
    device = ForeignKeyField(Device, backref="session_links", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("session", "device"), True), (("device",), False))


class SignInThrottle(BaseModel):
    """Failed (or in-flight) sign-in attempts per account, per address and per second factor, counted in the
    database so every app server and every way to sign in shares one count. `key` is an HMAC of the account
    or address, never the email or address itself."""

    key = CharField(max_length=64, unique=True)
    window_start = DateTimeField(index=True)
    failures = IntegerField(default=0)


# --- notifications: the channel layer (server/notify/) and people's consented contacts (reminders) -----

class ContactPoint(BaseModel):
    """A person supported's phone number (sms) or email address (email), kept only while the consent
    stands: deleted on stop, so the address is gone; the Consent row stays as history."""

    person = ForeignKeyField(Person, backref="contact_points", on_delete="CASCADE")
    channel = CharField(max_length=10)  # sms | email
    address = CharField(max_length=254)
    consent = ForeignKeyField(Consent, backref="+", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("person", "channel"), True),)


class OutboxMessage(BaseModel):
    """One message to send on one channel to one recipient: a template id and safe values, never text.
    Recipient: a person supported (subscription or contact point) or a staff user (subscription or their
    account email). The dispatcher claims, sends, retries and records it exactly once."""

    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    channel = CharField(max_length=10)  # webpush | sms | email
    transport = CharField(max_length=12)  # webpush | govuk_notify | smtp
    template = CharField(max_length=40)
    template_values = TextField(default="{}")  # JSON of checked values: times, counts, links, choices
    source = CharField(max_length=20, default="")  # reminder | safety | ...
    dedupe_key = CharField(max_length=120, null=True, unique=True)
    person = ForeignKeyField(Person, null=True, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")
    subscription = ForeignKeyField(PushSubscription, null=True, backref="+", on_delete="SET NULL")
    contact = ForeignKeyField(ContactPoint, null=True, backref="+", on_delete="SET NULL")
    reminder = ForeignKeyField(Reminder, null=True, backref="messages", on_delete="CASCADE")
    urgency = CharField(max_length=10, default="normal")  # very-low | low | normal | high
    due_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)  # not sent after this: its words would no longer be true
    state = CharField(max_length=10, default="pending")  # pending|sending|sent|failed|expired|cancelled
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("state", "due_at"), False), (("person", "state"), False), (("user", "state"), False))


class OutboxAttempt(BaseModel):
    """Every outcome of every message, one row each: delivered, retry, failed, gone, expired, cancelled."""

    message = ForeignKeyField(OutboxMessage, backref="attempts_made", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    outcome = CharField(max_length=12)
    http_status = IntegerField(null=True)
    error = CharField(max_length=200, default="")  # never a key, an address, a name or a body
    provider_id = CharField(max_length=64, default="")  # e.g. GOV.UK Notify's notification id


# --- outcomes, supervision and records (issue 16: server/coordinator/supervision.py, records.py) ----------

SUPERVISION_KINDS = {"one_to_one": "One-to-one", "group": "Group", "reflective": "Reflective practice"}


class SupervisionSession(SyncedModel):
    """A coordinator's supervision session with a peer worker. Seen by that worker (pulled to their phone,
    read-only) and their team's coordinators; in no export and not in a person's subject access export.
    `wellbeing` (0-10) is kept only when the worker chose to share it."""

    worker = ForeignKeyField(User, backref="supervision_sessions", on_delete="CASCADE")
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
    """What retention erased or anonymised, and when: ids only (records.py). The tombstones that tell phones
    are the records' own `deleted` rows; this is the register a data protection officer reads."""

    at = DateTimeField(default=utcnow, index=True)
    person_uuid = UUIDField()
    action = CharField(max_length=10)  # erase | anonymise
    closed_on = DateField(null=True)
    records = IntegerField(default=0)
    by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


# --- lone working (issue 14: server/sync/check_ins.py, server/safety/lone_working.py) -------------------

CHECK_IN_STATUSES = ("open", "prompted", "escalated", "resolved", "closed")


class CheckIn(SyncedModel):
    """A worker's lone-working check-in at a person's home: started, expected to end, perhaps where (kept only
    until the check-in is closed), checked out. `status` moves open -> prompted (the worker's own phone was
    asked "Are you OK?") -> escalated (the team's coordinators alerted) -> resolved (a coordinator recorded what
    happened); a check-out from any state closes it. Every prompt, alert and escalation is recorded here (when)
    and in the audit trail; the alert itself is a StaffAlert whose subject_uuid is this check-in's uuid."""

    person = ForeignKeyField(Person, backref="check_ins", on_delete="CASCADE")
    worker = ForeignKeyField(User, backref="check_ins", on_delete="CASCADE")
    team = ForeignKeyField(Team, null=True, backref="+", on_delete="SET NULL")
    visit = ForeignKeyField(Visit, null=True, backref="+", on_delete="SET NULL")
    started_at = DateTimeField()
    expected_end_at = DateTimeField()
    place = CharField(max_length=200, null=True)  # erased when the check-in is closed or resolved
    checked_out_at = DateTimeField(null=True)  # the phone's time of "I'm finished / safe"
    checked_out_received_at = DateTimeField(null=True)  # when that check-out reached the server
    status = CharField(max_length=10, default="open")
    prompted_at = DateTimeField(null=True)
    escalated_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    outcome = CharField(max_length=20, default="")
    resolution_note = TextField(default="")  # staff only, never synced

    class Meta:
        indexes = (
            (("status", "expected_end_at"), False),  # the dispatcher pass: open and prompted check-ins only
            (("team", "started_at"), False),  # the coordinator page: a team's check-ins today
            (("worker", "rev"), False),  # sync pull: the worker's own check-ins
        )


ALL_MODELS = [
    Team, User, UserSession, Person, CaseloadAssignment, Resource, Visit, Goal, GoalProgress,
    Referral, Review, Device, AppliedMutation, ChangeCounter, Conflict, AuditEvent,
    Invite, ReminderDevice, Consent, PushSubscription, Reminder, ReminderDelivery,
    ReminderSetting, ContactPoint, OutboxMessage, OutboxAttempt,
    RecoveryCode, SessionDevice, SignInThrottle,
    SupervisionSession, ErasedRecord,
]
ALL_MODELS.append(CheckIn)  # issue 14, lone working


# --- safety: staff alerts (issue 14: server/safety/) ------------------------------------------------------

ALERT_KINDS = ("concern", "concern_rejected", "lone_overdue", "help")


class StaffAlert(BaseModel):
    """Something a coordinator must act on: a serious concern, a visit with a concern the server refused, a
    lone worker overdue, a worker asking for help. Raised once per (kind, subject) while open; escalated to
    every coordinator of the team and the admins when not acknowledged by escalate_at (server/safety/)."""

    uuid = UUIDField(unique=True, default=uuidlib.uuid4)
    team = ForeignKeyField(Team, backref="+", on_delete="CASCADE")
    kind = CharField(max_length=20)
    subject_uuid = UUIDField()  # the visit's or the check-in's uuid
    worker = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    person = ForeignKeyField(Person, null=True, backref="+", on_delete="SET NULL")
    level = CharField(max_length=4, default="")  # concerns: low | high
    raised_at = DateTimeField(default=utcnow)
    escalate_at = DateTimeField()
    escalated_at = DateTimeField(null=True)
    acknowledged_at = DateTimeField(null=True)
    acknowledged_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    outcome = CharField(max_length=20, default="")  # codes.CONCERN_OUTCOMES (or lone working's)
    note = TextField(default="")  # staff only, never sent

    class Meta:
        indexes = (
            (("kind", "subject_uuid"), False),  # 0070 makes it unique while the alert is open
            (("escalated_at", "escalate_at"), False),
            (("team", "raised_at"), False),
        )


class StaffAlertChoice(BaseModel):
    """How a coordinator or admin chose to be told of alerts: push to the browsers they turned on
    (PushSubscription.user) and/or email. Nobody on a team chose: every coordinator of it gets email."""

    user = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    by_push = BooleanField(default=False)
    by_email = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)


ALL_MODELS += [StaffAlert, StaffAlertChoice]
