"""The channel layer every outgoing message goes through: one outbox table (OutboxMessage), one
dispatcher (dispatcher.py), three transports: Web Push (webpush.py, the only user of pywebpush), GOV.UK
Notify SMS and email (govuk.py) and plain SMTP email (smtp.py). Bodies come only from fixed templates
(templates.py) filled with checked values (times, ids for links, small numbers, fixed choices): nothing
anyone typed leaves the server in a push, SMS or email.

Enqueue (inside your write transaction, so the message exists exactly when your change commits):

    from server import notify

    # a person supported: one message per consented channel (each subscribed phone, SMS, email)
    notify.enqueue_to_person(person, "visit_reminder", {"visit_at": visit_at}, due_at=when,
                             expires_at=visit_at, urgency="high", source="reminder", reminder=reminder)

    # a staff user (issue 14's alerts): their browsers' push subscriptions and/or their account email
    notify.enqueue_to_staff(coordinator, "staff_concern", {"concern_id": visit.uuid},
                            channels=("webpush", "email"), source="safety",
                            dedupe_key=f"concern:{visit.uuid}:{coordinator.id}")

    notify.cancel_for_person(person.id)  # consent withdrawn: pending messages will not go

A new kind of message registers a Template (templates.register) with its values and wording; staff push
subscriptions are PushSubscription rows with `user` set and `person` null (save them with
notify.save_push_subscription after endpoints.clean_subscription). `dedupe_key` makes an enqueue
idempotent (a repeated key queues nothing). Sending: `flask notify send` (one pass, for a timer every
minute) or `flask notify run`; the reminders commands run the same pass."""

from __future__ import annotations

from .dispatcher import Dispatcher, PassResult
from .endpoints import SubscriptionError, clean_subscription, endpoint_problem
from .outbox import cancel_for_person, enqueue_to_person, enqueue_to_staff
from .settings import NotifySettings, configure, current, from_config
from .subscriptions import save_push_subscription
from .templates import Template, TemplateError, register

__all__ = [
    "Dispatcher", "NotifySettings", "PassResult", "SubscriptionError", "Template", "TemplateError",
    "cancel_for_person", "clean_subscription", "configure", "current", "endpoint_problem", "enqueue_to_person",
    "enqueue_to_staff", "from_config", "init_app", "register", "save_push_subscription",
]


def init_app(app) -> None:
    """Read the channel settings from the app's config (called from create_app)."""
    configure(from_config(app.config["ALONGSIDE"]))
