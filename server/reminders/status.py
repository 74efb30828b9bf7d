"""What the worker, the coordinator and the person see of reminders: on or off, on which channels, how many
phones, since when and under which consent text, the consent history, and what is coming up. Times are
naive UTC here; the views add the offset (API) or show local time (pages)."""

from __future__ import annotations

from ..models import Consent, ContactPoint, OutboxMessage, Person, PushSubscription, Reminder, ReminderDevice, User
from ..notify import settings as notify_settings
from .schedule import OPEN_STATUSES

CHANNEL_NAMES = {"webpush": "Phone notifications", "sms": "Text messages", "email": "Email"}
REASON_NAMES = {"person_page": "by the person, on their phone", "person_request": "on the person's request",
                "contact_gone": "the address stopped working", "replaced": "replaced by a new address", "": ""}


def upcoming(person: Person, limit: int = 20) -> list[Reminder]:
    return list(Reminder.select()
                .where((Reminder.person == person.id) & Reminder.status.in_(OPEN_STATUSES))
                .order_by(Reminder.send_at)
                .limit(limit))


def reminder_status(person: Person) -> dict:
    """Consent state for the worker's and the coordinator's screens."""
    devices = (ReminderDevice.select()
               .join(PushSubscription, on=(PushSubscription.device == ReminderDevice.id))
               .where((ReminderDevice.person == person.id) & ReminderDevice.revoked_at.is_null())
               .distinct()
               .count())
    channels = sorted({c.channel for c in ContactPoint.select(ContactPoint.channel)
                       .where(ContactPoint.person == person.id)})
    if PushSubscription.select().where(PushSubscription.person == person.id).exists():
        channels.insert(0, "webpush")
    consent = (Consent.select().where(Consent.person == person.id)
               .order_by(Consent.given_at.desc(), Consent.id.desc()).first())
    pending = Reminder.select().where((Reminder.person == person.id) & Reminder.status.in_(OPEN_STATUSES)).count()
    last_sent = (OutboxMessage.select(OutboxMessage.sent_at)
                 .where((OutboxMessage.person == person.id) & (OutboxMessage.state == "sent"))
                 .order_by(OutboxMessage.sent_at.desc()).first())
    return {
        "reminders_on": bool(person.reminders_opt_in),
        "devices": devices,
        "channels": channels,
        "channels_available": sorted(notify_settings.current().channels()),
        "consent_given_at": consent.given_at if consent else None,
        "consent_text_version": consent.text_version if consent else None,
        "consent_withdrawn_at": consent.withdrawn_at if consent else None,
        "pending_reminders": pending,
        "last_sent_at": last_sent.sent_at if last_sent else None,
    }


def summary(status: dict) -> str:
    """One line for a list or a page: "On: phone notifications, text messages; 2 reminders to come"."""
    if not status["reminders_on"]:
        return "Off"
    names = ", ".join(CHANNEL_NAMES[c].lower() for c in status["channels"]) or "no channel left"
    pending = status["pending_reminders"]
    return f"On: {names}; {pending} reminder{'s' if pending != 1 else ''} to come"


def consent_history(person: Person) -> list[dict]:
    """Every consent given and withdrawn, newest first: channel, when, which text, who recorded or stopped
    it and why. Never the phone number or email address."""
    rows = (Consent.select().where(Consent.person == person.id)
            .order_by(Consent.given_at.desc(), Consent.id.desc()))
    user_ids = {r.recorded_by_id for r in rows if r.recorded_by_id} | {r.withdrawn_by_id for r in rows
                                                                         if r.withdrawn_by_id}
    names = {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(user_ids))} if user_ids else {}
    return [{
        "channel": r.channel, "channel_name": CHANNEL_NAMES.get(r.channel, r.channel),
        "given_at": r.given_at, "text_version": r.text_version,
        "recorded_by": names.get(r.recorded_by_id) if r.recorded_by_id else None,
        "withdrawn_at": r.withdrawn_at, "withdrawn_by": names.get(r.withdrawn_by_id) if r.withdrawn_by_id else None,
        "withdrawn_reason": r.withdrawn_reason, "withdrawn_reason_text": REASON_NAMES.get(r.withdrawn_reason, ""),
    } for r in rows]
