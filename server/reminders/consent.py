"""Invites and consent. A worker's single-use invite link (72 h) lets the person turn on push reminders on
their own phone; a phone number (SMS) or email address can be given on that page, or recorded by the worker
when the person agrees in person (a basic phone cannot open a link). Consent is per channel; an address is
kept only while its consent stands. Stopping removes subscriptions and addresses, records who stopped and
why, and cancels everything not yet sent. Call these inside a write transaction unless they say otherwise."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from .. import notify
from ..db import utcnow, write_transaction
from ..models import AuditEvent, Consent, ContactPoint, Invite, Person, PushSubscription, ReminderDevice
from ..notify.subscriptions import save_push_subscription
from ..sync.revisions import stamp_values
from . import schedule

CONSENT_TEXT_VERSION = "2026-11-r1"
INVITE_LIFETIME = dt.timedelta(hours=72)
STOP_REASONS = ("person_page", "person_request", "contact_gone")
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(person: Person, by, now: dt.datetime | None = None) -> tuple[str, Invite]:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    invite = Invite.create(token_hash=hash_token(token), person=person, created_by=by, created_at=now,
                           expires_at=now + INVITE_LIFETIME)
    AuditEvent.record(by, "reminders.invite", "person", person.uuid)
    return token, invite


def find_invite(token: str, now: dt.datetime | None = None) -> Invite | None:
    """The invite for this token if it is unused and unexpired; None for anything else."""
    if not token or len(token) > 100:
        return None
    invite = Invite.get_or_none(Invite.token_hash == hash_token(token))
    if invite is None or invite.used_at is not None or invite.expires_at <= (now or utcnow()):
        return None
    return invite


def clean_address(channel: str, value) -> str:
    """A phone number (spaces, dashes, brackets allowed; +44 or 0...) or an email address; ValueError."""
    if not isinstance(value, str) or len(value) > 254:
        raise ValueError("Too long.")
    if channel == "sms":
        compact = re.sub(r"[\s\-().]", "", value)
        if not _PHONE.match(compact):
            raise ValueError("Give a mobile number, for example 07700 900123.")
        return compact
    if channel == "email":
        value = value.strip()
        if not _EMAIL.match(value):
            raise ValueError("Give an email address, for example name@example.org.")
        return value
    raise ValueError("Choose text message or email.")


def _set_opt_in(person: Person, value: bool) -> None:
    """A synced field changes: stamped the one way (devices learn of it on their next pull)."""
    if person.reminders_opt_in == value:
        return
    (Person.update(reminders_opt_in=value, **stamp_values(person, ["reminders_opt_in"]))
     .where(Person.id == person.id).execute())
    person.reminders_opt_in = value


def add_contact(person: Person, channel: str, address: str, *, device=None, recorded_by=None,
                text_version: str = CONSENT_TEXT_VERSION) -> ContactPoint:
    """Consent to SMS or email at this address (replacing an earlier one on that channel): reminders on,
    and a short confirmation queued so the person knows it works."""
    address = clean_address(channel, address)
    now = utcnow()
    old = ContactPoint.get_or_none((ContactPoint.person == person.id) & (ContactPoint.channel == channel))
    if old is not None:
        Consent.update(withdrawn_at=now, withdrawn_reason="replaced").where(Consent.id == old.consent_id).execute()
        notify.cancel_for_person(person.id, channel)
        old.delete_instance()
    consent = Consent.create(person=person, device=device, channel=channel, text_version=text_version,
                             given_at=now, recorded_by=recorded_by)
    contact = ContactPoint.create(person=person, channel=channel, address=address, consent=consent)
    _set_opt_in(person, True)
    schedule.refresh_person(person)
    notify.enqueue_to_person(person, "reminders_on", {}, source="reminder",
                             dedupe_key=f"reminders-on:{consent.id}")
    AuditEvent.record(recorded_by, "reminders.consent", "person", person.uuid, team=person.team_id,
                      detail=f"{channel}; text {text_version}" + ("; recorded in person" if recorded_by else ""))
    return contact


def give_consent(token: str, sub: dict | None, label: str, text_version: str = CONSENT_TEXT_VERSION,
                 contact: tuple[str, str] | None = None) -> tuple[str, ReminderDevice] | None:
    """The person's own consent on the invite page (its own transaction): the invite is used once, the phone
    becomes a reminder device (cookie), with a push subscription and/or an SMS/email address. Returns
    (device cookie token, device), or None when the invite is no longer usable."""
    now = utcnow()
    with write_transaction():
        used = (Invite.update(used_at=now)
                .where((Invite.token_hash == hash_token(token)) & Invite.used_at.is_null()
                       & (Invite.expires_at > now))
                .execute())
        if used != 1:
            return None
        invite = Invite.get(Invite.token_hash == hash_token(token))
        person = Person.get_by_id(invite.person_id)
        cookie = secrets.token_urlsafe(32)
        device = ReminderDevice.create(token_hash=hash_token(cookie), person=person, label=label[:80],
                                       last_seen_at=now)
        if sub is not None:
            Consent.create(person=person, device=device, channel="webpush", text_version=text_version, given_at=now)
            save_push_subscription(sub, person=person, device=device)
            _set_opt_in(person, True)
            schedule.refresh_person(person)
            AuditEvent.record(None, "reminders.consent", "person", person.uuid, team=person.team_id,
                              detail=f"webpush; text {text_version}")
        if contact is not None:
            add_contact(person, contact[0], contact[1], device=device, text_version=text_version)
    return cookie, device


def withdraw(person: Person, actor=None, reason: str = "person_page", channel: str | None = None) -> None:
    """Stop reminders (all channels, or one): subscriptions and addresses removed, devices revoked (all
    channels), consent withdrawn with who and why, pending reminders and messages cancelled."""
    if reason not in STOP_REASONS:
        raise ValueError(f"reason must be one of {STOP_REASONS}")
    now = utcnow()
    consents = Consent.update(withdrawn_at=now, withdrawn_by=actor, withdrawn_reason=reason).where(
        (Consent.person == person.id) & Consent.withdrawn_at.is_null())
    if channel in (None, "webpush"):
        PushSubscription.delete().where(PushSubscription.person == person.id).execute()
    contacts = ContactPoint.delete().where(ContactPoint.person == person.id)
    if channel is not None:
        consents = consents.where(Consent.channel == channel)
        contacts = contacts.where(ContactPoint.channel == channel)
    consents.execute()
    contacts.execute()
    notify.cancel_for_person(person.id, channel)
    if channel is None:
        (ReminderDevice.update(revoked_at=now)
         .where((ReminderDevice.person == person.id) & ReminderDevice.revoked_at.is_null()).execute())
    still = (PushSubscription.select().where(PushSubscription.person == person.id).exists()
             or ContactPoint.select().where(ContactPoint.person == person.id).exists())
    if not still:
        _set_opt_in(person, False)
        schedule.cancel_pending(person)
    AuditEvent.record(actor, "reminders.withdraw", "person", person.uuid, team=person.team_id,
                      detail=f"{channel or 'all'}; {reason}")
